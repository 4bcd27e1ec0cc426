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


if __name__ == "__main__":
    main()
