"""``fairio qc trend``: an instrument's QC metrics against their acquisition date, each
compared with its baseline; acquisition dates read from the images themselves."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from fairio_tools.errors import InputError
from fairio_tools.images.instrument import acquisition_date
from fairio_tools.qc.figures import trend_figure
from fairio_tools.qc.image import read_qc_image
from fairio_tools.qc.psf import measure_psf_beads
from fairio_tools.qc.trend import report_points, trend
from tests.conftest import ROOT, run_fairio
from tests.qc_synthetic import Optics, bead_stack

REPORTS = ROOT / "tools" / "qc_trend" / "test-data"
SESSIONS = sorted(REPORTS.glob("*.psf.json"))
WATER = Optics(na=1.2, wavelength_um=0.52, immersion_index=1.33, dxy_um=0.08, dz_um=0.25)
BEADS = [(16, 20, 20), (15, 20, 70), (17, 44, 30), (16, 46, 76)]


def _points(paths: list[Path]):
    return [
        p for path in paths for p in report_points(json.loads(path.read_text()), path.name, path)
    ]


def _stack(path: Path, optics: Optics, when: str, seed: int) -> Path:
    stack = bead_stack(optics, (32, 64, 96), BEADS, seed=seed)
    tifffile.imwrite(
        path,
        stack,
        imagej=True,
        resolution=(1 / optics.dxy_um, 1 / optics.dxy_um),
        metadata={"spacing": optics.dz_um, "unit": "um", "axes": "ZYX"},
        datetime=when,
    )
    return path


def test_drift_of_a_degraded_objective_matches_the_optics(tmp_path):
    """Two sessions measured here from theoretical PSFs: the second with a smaller NA. The
    trend's change is the measured one, and close to the change of the true widths."""
    before = _stack(tmp_path / "a.tif", WATER, "2026:01:12 09:30:00", seed=1)
    worse = dataclasses.replace(WATER, na=1.0)
    after = _stack(tmp_path / "b.tif", worse, "2026:06:01 10:00:00", seed=2)
    reports = []
    for path in (after, before):  # out of order: the trend sorts by date
        report = measure_psf_beads(read_qc_image(path))
        report.instrument, report.acquired = "scope", acquisition_date(path)
        (tmp_path / f"{path.stem}.json").write_text(json.dumps(report.to_dict()))
        reports.append(report)
    rows = trend(_points([tmp_path / "b.json", tmp_path / "a.json"]))
    by_metric = {(r.point.metric, r.point.acquired): r for r in rows}
    true_before, true_after = WATER.true_fwhm(), worse.true_fwhm()
    for axis in "xyz":
        baseline = by_metric[(f"fwhm_median_{axis}", "2026-01-12T09:30:00")]
        assert baseline.status == "baseline" and baseline.change_percent == 0
        later = by_metric[(f"fwhm_median_{axis}", "2026-06-01T10:00:00")]
        measured = (reports[0].fwhm_median[axis] / reports[1].fwhm_median[axis] - 1) * 100
        assert later.change_percent == pytest.approx(measured)
        truth = (true_after[axis] / true_before[axis] - 1) * 100
        assert abs(later.change_percent - truth) < 4, (axis, later.change_percent, truth)
        assert later.status == "drift"


def test_baseline_date_and_tolerance_choose_what_is_drift():
    points = _points(SESSIONS)
    by_default = trend(points)
    assert {r.baseline.acquired for r in by_default} == {"2026-01-12T09:30:00"}
    april = trend(points, baseline_date="2026-04-13", tolerance_percent=25)
    assert {r.baseline.acquired for r in april} == {"2026-04-13T10:05:00"}
    drifted = {r.point.metric for r in april if r.status == "drift"}
    values = {(r.point.metric, r.point.acquired[:7]): r.point.value for r in april}
    expected = {
        m
        for m in ("fwhm_median_x", "fwhm_median_y", "fwhm_median_z")
        if abs(values[(m, "2026-07")] / values[(m, "2026-04")] - 1) > 0.25
        or abs(values[(m, "2026-01")] / values[(m, "2026-04")] - 1) > 0.25
    }
    assert drifted == expected == {"fwhm_median_z"}
    with pytest.raises(InputError, match="was acquired on 2026-05-01"):
        trend(points, baseline_date="2026-05-01")


def test_each_instrument_has_its_own_baseline(tmp_path):
    data = json.loads(SESSIONS[1].read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data | {"instrument": "Confocal 1"}))
    rows = trend(_points([SESSIONS[0], SESSIONS[2], other]))
    confocal = [r for r in rows if r.point.instrument == "Confocal 1"]
    assert confocal and all(r.status == "baseline" for r in confocal)
    widefield = [r for r in rows if r.point.instrument == "Widefield 2"]
    assert {r.baseline.acquired for r in widefield} == {"2026-01-12T09:30:00"}


def test_acquisition_date_from_ome_xml_and_tiff_tag(tmp_path):
    ome = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Image ID="Image:0"><AcquisitionDate>2025-11-03T14:02:11</AcquisitionDate>'
        '<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" SizeX="8" SizeY="8" '
        'SizeZ="1" SizeC="1" SizeT="1"><Channel ID="Channel:0:0"/><TiffData/></Pixels>'
        "</Image></OME>"
    )
    tifffile.imwrite(tmp_path / "a.ome.tif", np.zeros((8, 8), np.uint8), description=ome)
    assert acquisition_date(tmp_path / "a.ome.tif") == "2025-11-03T14:02:11"
    tifffile.imwrite(tmp_path / "b.tif", np.zeros((8, 8), np.uint8), datetime="2024:02:29 23:59:58")
    assert acquisition_date(tmp_path / "b.tif") == "2024-02-29T23:59:58"
    tifffile.imwrite(tmp_path / "c.tif", np.zeros((8, 8), np.uint8), datetime=False)
    assert acquisition_date(tmp_path / "c.tif") is None


def test_plot_marks_drift_in_red():
    rows = trend(_points(SESSIONS))
    red = np.array([0xD6, 0x27, 0x28])

    def reds(png: bytes) -> int:
        pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        return int(np.all(pixels == red, axis=-1).sum())

    plot = trend_figure(rows, 10.0)
    assert Image.open(io.BytesIO(plot)).size == (600, 360)  # four metrics, two per row
    assert reds(plot) > 0
    assert reds(trend_figure(trend(_points(SESSIONS), tolerance_percent=100), 100.0)) == 0


def test_cli_refuses_reports_it_cannot_place_in_time(tmp_path):
    undated = tmp_path / "undated.json"
    undated.write_text(json.dumps(json.loads(SESSIONS[0].read_text()) | {"acquired": None}))
    result = run_fairio("qc", "trend", SESSIONS[1], undated)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {undated}: has no acquisition date (measure the image again with "
        "--acquired DATE (or an image that records one))"
    ]
    other = tmp_path / "validation.json"
    other.write_text(json.dumps({"valid": True}))
    result = run_fairio("qc", "trend", other, "--tsv", tmp_path / "t.tsv")
    assert result.returncode == 2 and "is not a report of fairio qc" in result.stderr
    assert not (tmp_path / "t.tsv").exists()
    table = tmp_path / "trend.tsv"
    named = ["--name", "Jan", "--name", "Apr", "--name", "Jul"]
    result = run_fairio("qc", "trend", *SESSIONS, *named, "--tsv", table, "--json", "-")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["drift"] == 3
    lines = table.read_text().splitlines()
    assert len(lines) == 1 + 4 * 3 and {line.split("\t")[-1] for line in lines[1:]} == {
        "Jan",
        "Apr",
        "Jul",
    }
