"""Write the QC and microscopy-metadata tools' Galaxy test data:
``python -m tests.make_qc_test_data`` (needs the dev extra's psfmodels and ome-types).
Deterministic: the same files every run; their truth is printed and kept
in each folder's SOURCES.md."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.conftest import ROOT
from tests.qc_synthetic import Optics, bead_stack, complete_ome

OPTICS = Optics(na=1.2, wavelength_um=0.52, immersion_index=1.33, dxy_um=0.08, dz_um=0.25)
BEADS = [(16, 20, 20), (15, 20, 70), (17, 44, 30), (16, 46, 76), (16, 2, 48)]
"""Four beads inside the image and one cut by its top border (rejected)."""
FIELD_SHAPE, FIELD_CENTRE, FIELD_SIGMA = (120, 160), (50, 95), 110.0
TREND = [
    ("2026-01-12T09:30:00", 1.2, 21),  # the baseline, at installation
    ("2026-04-13T10:05:00", 1.2, 22),  # the same optics three months later: within tolerance
    ("2026-07-13T09:45:00", 0.95, 23),  # a damaged objective (effective NA 0.95): drift
]
"""(acquisition date, effective NA, noise seed) of the instrument trend's bead stacks."""


def beads() -> np.ndarray:
    return bead_stack(OPTICS, (32, 64, 96), BEADS, photons=3000, background=100, seed=18)


def field() -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian fall-off centred off the image centre (truth, peak 1), 2 % noise."""
    y, x = np.mgrid[0 : FIELD_SHAPE[0], 0 : FIELD_SHAPE[1]].astype(float)
    r2 = (y - FIELD_CENTRE[0]) ** 2 + (x - FIELD_CENTRE[1]) ** 2
    truth = np.exp(-r2 / (2 * FIELD_SIGMA**2))
    rng = np.random.default_rng(18)
    noisy = 3000 * truth * (1 + 0.02 * rng.standard_normal(truth.shape))
    return truth, np.clip(noisy, 0, 65535).astype(np.uint16)


def write_trend_data() -> None:
    """Bead stacks of one microscope over half a year (the DateTime tag records when each
    was taken) for the instrument-QC-trend workflow, and their psf-beads reports for the
    trend tool."""
    import dataclasses
    import json

    from fairio_tools.images.instrument import acquisition_date
    from fairio_tools.qc.image import read_qc_image
    from fairio_tools.qc.psf import measure_psf_beads

    images = ROOT / "workflows" / "imaging" / "instrument-qc-trend" / "test-data"
    reports = ROOT / "tools" / "qc_trend" / "test-data"
    for when, na, seed in TREND:
        optics = dataclasses.replace(OPTICS, na=na)
        stack = bead_stack(optics, (32, 64, 96), BEADS[:4], photons=3000, background=100, seed=seed)
        name = f"beads_{when[:10]}"
        path = images / f"{name}.tiff"
        tifffile.imwrite(
            path,
            stack,
            imagej=True,
            resolution=(1 / OPTICS.dxy_um, 1 / OPTICS.dxy_um),
            metadata={"spacing": OPTICS.dz_um, "unit": "um", "axes": "ZYX"},
            datetime=when.replace("-", ":").replace("T", " "),
            compression="zlib",
        )
        report = measure_psf_beads(read_qc_image(path))
        report.instrument, report.acquired = "Widefield 2", acquisition_date(path)
        data = report.to_dict() | {"image": path.name}
        (reports / f"{name}.psf.json").write_text(json.dumps(data, indent=2) + "\n")
        truth = {k: round(v, 4) for k, v in optics.true_fwhm().items()}
        print(f"{name}: NA {na}, true FWHM (um): {truth}")


def main() -> None:
    psf_data = ROOT / "tools" / "qc_psf_beads" / "test-data"
    resolution = (1 / OPTICS.dxy_um, 1 / OPTICS.dxy_um)
    metadata = {"spacing": OPTICS.dz_um, "unit": "um", "axes": "ZYX"}
    tifffile.imwrite(
        psf_data / "beads.tiff",
        beads(),
        imagej=True,
        resolution=resolution,
        metadata=metadata,
        compression="zlib",
    )
    tifffile.imwrite(psf_data / "plane.tiff", beads()[16], compression="zlib")
    print("true FWHM (um):", {k: round(v, 4) for k, v in OPTICS.true_fwhm().items()})

    field_data = ROOT / "tools" / "qc_field_illumination" / "test-data"
    truth, image = field()
    tifffile.imwrite(
        field_data / "field.tiff",
        image,
        imagej=True,
        resolution=(1 / 0.325, 1 / 0.325),
        metadata={"unit": "um"},
        compression="zlib",
    )
    print(
        "true uniformity %:",
        round(100 * truth.min(), 2),
        "corners:",
        [round(float(v), 3) for v in (truth[0, 0], truth[0, -1], truth[-1, 0], truth[-1, -1])],
    )

    from ome_types import to_xml

    metadata_data = ROOT / "tools" / "microscopy_metadata" / "test-data"
    (metadata_data / "complete.ome.xml").write_text(to_xml(complete_ome()))
    write_trend_data()


if __name__ == "__main__":
    main()
