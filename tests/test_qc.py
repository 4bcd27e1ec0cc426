"""``fairio qc``: PSF and field-illumination metrics recovered from synthetic images whose
truth is known independently (psfmodels' theoretical PSFs, analytic illumination fields)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tifffile

from fairio_tools.errors import InputError
from fairio_tools.qc.illumination import measure_field_illumination
from fairio_tools.qc.image import read_qc_image
from fairio_tools.qc.psf import measure_psf_beads
from tests.conftest import run_fairio
from tests.qc_synthetic import Optics, bead_stack

FWHM_TOLERANCE = 0.05
"""Relative: every measured bead's FWHM within 5 % of the model's own half-maximum width."""
CENTRE_TOLERANCE_PX = 2.0

OIL = Optics(na=1.4, wavelength_um=0.52, immersion_index=1.515, dxy_um=0.065, dz_um=0.2)
WATER = Optics(
    na=1.0, wavelength_um=0.6, immersion_index=1.33, dxy_um=0.1, dz_um=0.3, model="scalar"
)
CONFOCAL = Optics(
    na=1.4, wavelength_um=0.52, immersion_index=1.515, dxy_um=0.045, dz_um=0.15,
    excitation_um=0.488,
)  # fmt: skip
"""An ideal confocal (pinhole closed), oil NA 1.4, 488 nm excitation, 520 nm emission."""
BEADS = [(20, 30, 30), (18, 30, 90), (22, 90, 40), (20, 95, 100)]


def _write_stack(path: Path, stack: np.ndarray, optics: Optics | None) -> Path:
    if optics is None:  # no calibration at all
        tifffile.imwrite(path, stack)
    else:
        resolution = (1 / optics.dxy_um, 1 / optics.dxy_um)
        metadata = {"spacing": optics.dz_um, "unit": "um", "axes": "ZYX"}
        tifffile.imwrite(path, stack, imagej=True, resolution=resolution, metadata=metadata)
    return path


@pytest.mark.parametrize(
    "optics",
    [OIL, WATER, CONFOCAL],
    ids=["NA1.4-oil-vectorial", "NA1.0-water", "NA1.4-oil-confocal"],
)
def test_bead_fwhm_and_position_are_recovered(tmp_path: Path, optics: Optics):
    truth = optics.true_fwhm()
    stack = bead_stack(optics, (40, 128, 128), [*BEADS, (20, 2, 64)], seed=3)
    report = measure_psf_beads(read_qc_image(_write_stack(tmp_path / "b.tif", stack, optics)))

    assert report.beads_found == 5
    assert report.beads_measured == 4
    assert report.rejections == {"too close to the image border": 1}
    assert report.units == {"z": "micrometer", "y": "micrometer", "x": "micrometer"}
    measured = sorted((b for b in report.beads if b.measured), key=lambda b: b.position_px["x"])
    placed = sorted(BEADS, key=lambda p: p[2])
    for bead, position in zip(measured, sorted(placed, key=lambda p: p[2]), strict=True):
        for axis, true in zip("zyx", position, strict=True):
            assert abs(bead.position_px[axis] - true) <= CENTRE_TOLERANCE_PX
        for axis in "xyz":
            assert bead.fwhm[axis] == pytest.approx(truth[axis], rel=FWHM_TOLERANCE), axis
            assert bead.r2[axis] > 0.95
        assert bead.lateral_asymmetry_ratio > 0.95
    for axis in "xyz":
        assert report.fwhm_mean[axis] == pytest.approx(truth[axis], rel=FWHM_TOLERANCE / 2)


def test_elongated_psf_gives_its_ellipticity(tmp_path: Path):
    """A PSF stretched along x (the stack resampled): asymmetry measured, not assumed."""
    from scipy import ndimage

    stack = bead_stack(WATER, (40, 128, 128), BEADS, seed=4).astype(float)
    wide = ndimage.zoom(stack, (1, 1, 1.5), order=3)  # x pixels now 1/1.5 as large
    path = _write_stack(tmp_path / "wide.tif", np.round(wide).astype(np.uint16), WATER)
    report = measure_psf_beads(read_qc_image(path))  # calibrated as if x were not resampled
    truth = WATER.true_fwhm()
    assert report.fwhm_mean["x"] == pytest.approx(1.5 * truth["x"], rel=0.06)
    assert report.fwhm_mean["y"] == pytest.approx(truth["y"], rel=FWHM_TOLERANCE)
    assert report.lateral_asymmetry_ratio_mean == pytest.approx(1 / 1.5, rel=0.06)


def test_uncalibrated_stack_is_measured_in_pixels(tmp_path: Path):
    stack = bead_stack(WATER, (40, 128, 128), BEADS, seed=5)
    report = measure_psf_beads(read_qc_image(_write_stack(tmp_path / "raw.tif", stack, None)))
    truth = WATER.true_fwhm()
    assert report.units["x"] == "pixel"
    assert report.fwhm_mean["x"] == pytest.approx(truth["x"] / WATER.dxy_um, rel=0.05)
    assert report.fwhm_mean["z"] == pytest.approx(truth["z"] / WATER.dz_um, rel=0.05)
    assert any("not calibrated" in note for note in report.notes)


def test_beads_closer_than_their_boxes_are_rejected(tmp_path: Path):
    stack = bead_stack(WATER, (40, 128, 128), [(20, 60, 60), (20, 60, 68), (20, 30, 100)])
    report = measure_psf_beads(read_qc_image(_write_stack(tmp_path / "pair.tif", stack, WATER)))
    reasons = sorted(b.rejected_because or "" for b in report.beads)
    assert reasons == ["", "too close to another bead", "too close to another bead"]


def test_theoretical_fwhm_follows_the_widefield_formulas(tmp_path: Path):
    stack = bead_stack(WATER, (40, 128, 128), BEADS, seed=6)
    report = measure_psf_beads(
        read_qc_image(_write_stack(tmp_path / "b.tif", stack, WATER)),
        na=1.0,
        wavelength_um=0.6,
        refractive_index=1.33,
    )
    assert report.theoretical_fwhm["x"] == pytest.approx(0.51 * 0.6 / 1.0)
    assert report.theoretical_fwhm["z"] == pytest.approx(
        0.88 * 0.6 / (1.33 - math.sqrt(1.33**2 - 1))
    )


def _field(shape, centre, sigma, noise, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian illumination fall-off (truth, peak 1) and its noisy uint16 image."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    truth = np.exp(-((y - centre[0]) ** 2 + (x - centre[1]) ** 2) / (2 * sigma**2))
    rng = np.random.default_rng(seed)
    image = 3000 * truth * (1 + noise * rng.standard_normal(shape))
    return truth, np.clip(image, 0, 65535).astype(np.uint16)


@pytest.mark.parametrize(
    ("shape", "centre", "sigma", "noise"),
    [((240, 320), (100, 190), 220, 0.03), ((200, 200), (20, 30), 120, 0.02)],
    ids=["off-centre", "centre-near-a-corner"],
)
def test_illumination_centre_uniformity_and_corners_are_recovered(
    tmp_path: Path, shape, centre, sigma, noise
):
    truth, image = _field(shape, centre, sigma, noise)
    path = tmp_path / "field.tif"
    tifffile.imwrite(
        path, image, imagej=True, resolution=(1 / 0.325, 1 / 0.325), metadata={"unit": "um"}
    )
    report = measure_field_illumination(read_qc_image(path))

    found = report.centre_of_illumination_px
    assert math.hypot(found["y"] - centre[0], found["x"] - centre[1]) <= CENTRE_TOLERANCE_PX
    assert report.uniformity_percent == pytest.approx(100 * truth.min(), rel=0.05)
    corners = {
        "top_left": truth[0, 0],
        "top_right": truth[0, -1],
        "bottom_left": truth[-1, 0],
        "bottom_right": truth[-1, -1],
    }
    for name, value in corners.items():
        assert report.corner_ratios[name] == pytest.approx(value, abs=0.02), name
    offset = math.hypot((centre[0] - (shape[0] - 1) / 2), (centre[1] - (shape[1] - 1) / 2))
    assert report.centre_distance_um == pytest.approx(offset * 0.325, abs=2 * 0.325)
    diagonal = math.hypot(shape[0] - 1, shape[1] - 1)
    assert report.centring_accuracy_percent == pytest.approx(
        100 * (1 - 2 * offset / diagonal), abs=100 * 2 * 2 / diagonal
    )
    assert report.units == {"y": "micrometer", "x": "micrometer"}
    assert report.profiles["horizontal"][0] == pytest.approx(
        truth[(shape[0] - 1) // 2, 0], abs=0.03
    )


def test_flat_field_is_uniform(tmp_path: Path):
    rng = np.random.default_rng(1)
    image = (2000 * (1 + 0.02 * rng.standard_normal((128, 128)))).astype(np.uint16)
    path = tmp_path / "flat.tif"
    tifffile.imwrite(path, image)
    report = measure_field_illumination(read_qc_image(path))
    assert report.uniformity_percent > 97
    assert report.iso_intensity_fractions["90-100%"] > 0.99


def test_cli_writes_json_tsv_png_and_html(tmp_path: Path):
    stack = bead_stack(WATER, (40, 128, 128), BEADS, seed=7)
    image = _write_stack(tmp_path / "beads.tif", stack, WATER)
    out = {k: tmp_path / f"psf.{k}" for k in ("json", "tsv", "png", "html")}
    result = run_fairio(
        "qc",
        "psf-beads",
        image,
        "--json",
        out["json"],
        "--tsv",
        out["tsv"],
        "--figure",
        out["png"],
        "--html",
        out["html"],
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out["json"].read_text())
    assert report["beads_measured"] == 4
    rows = [line.split("\t") for line in out["tsv"].read_text().splitlines()]
    assert rows[0][:3] == ["bead", "measured", "rejected_because"] and len(rows) == 5
    fwhm_x = [float(r[rows[0].index("fwhm_x")]) for r in rows[1:]]
    assert fwhm_x == pytest.approx([b["fwhm"]["x"] for b in report["beads"]], rel=1e-5)
    from PIL import Image

    with Image.open(out["png"]) as figure:
        assert figure.format == "PNG" and figure.height > 4 * 96
    page = out["html"].read_text()
    assert "doi:10.1083/jcb.202107093" in page and "data:image/png;base64," in page
    assert f"{report['fwhm_mean']['z']:.4g}" in page

    field = tmp_path / "field.tif"
    tifffile.imwrite(field, _field((120, 160), (60, 80), 100, 0.02)[1])
    result = run_fairio("qc", "field-illumination", field, "--tsv", tmp_path / "f.tsv")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["uniformity_percent"] > 50
    assert "uniformity\t" in (tmp_path / "f.tsv").read_text()


def _refused(tmp_path: Path, *args, needle: str) -> None:
    outputs = [tmp_path / "out.json", tmp_path / "out.png"]
    result = run_fairio("qc", *args, "--json", outputs[0], "--figure", outputs[1])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and str(args[1]) in lines[0], lines
    assert not any(p.exists() for p in outputs)


def test_noise_without_beads_is_refused(tmp_path: Path):
    rng = np.random.default_rng(0)
    path = _write_stack(
        tmp_path / "noise.tif", rng.poisson(100, (20, 64, 64)).astype(np.uint16), WATER
    )
    _refused(tmp_path, "psf-beads", path, needle="no beads found")


def test_saturated_beads_are_refused(tmp_path: Path):
    stack = bead_stack(WATER, (40, 128, 128), BEADS, photons=200_000)
    path = _write_stack(tmp_path / "saturated.tif", stack, WATER)
    _refused(tmp_path, "psf-beads", path, needle="all rejected (saturated: 4)")


def test_clipped_beads_below_the_type_maximum_are_saturated(tmp_path: Path):
    """A 12-bit camera in a uint16 file saturates at 4095: the flat tops give it away."""
    stack = bead_stack(WATER, (40, 128, 128), BEADS, photons=8000).clip(0, 4095)
    image = read_qc_image(_write_stack(tmp_path / "c.tif", stack.astype(np.uint16), WATER))
    with pytest.raises(InputError, match=r"all rejected \(saturated: 4\)"):
        measure_psf_beads(image)
    unclipped = bead_stack(WATER, (40, 128, 128), BEADS, photons=3000)
    image = read_qc_image(_write_stack(tmp_path / "u.tif", unclipped, WATER))
    assert measure_psf_beads(image).beads_measured == 4


def test_2d_image_is_refused_for_the_psf(tmp_path: Path):
    path = tmp_path / "plane.tif"
    tifffile.imwrite(path, bead_stack(WATER, (40, 64, 64), [(20, 32, 32)])[20])
    _refused(tmp_path, "psf-beads", path, needle="2-D image")


def test_missing_channel_is_refused(tmp_path: Path):
    path = tmp_path / "field.tif"
    tifffile.imwrite(path, _field((64, 64), (32, 32), 60, 0.01)[1])
    result = run_fairio("qc", "field-illumination", path, "--channel", "2")
    assert result.returncode == 2 and "channel 2 does not exist" in result.stderr
