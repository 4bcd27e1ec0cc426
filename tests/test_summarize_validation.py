"""``fairio summarize-validation``: one table over validate-ngff reports."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, run_fairio

REPORTS = ROOT / "tools" / "summarize_ngff_validation" / "test-data"


def test_table_has_one_row_per_image(tmp_path: Path) -> None:
    table, summary = tmp_path / "table.tsv", tmp_path / "summary.json"
    result = run_fairio(
        "summarize-validation",
        "--report", "coins", REPORTS / "coins.ngff.json",
        "--report", "broken", REPORTS / "broken.ngff.json",
        "--tsv", table, "--json", summary,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert table.read_text().splitlines() == [
        "image\tvalid\tngff_version\tzarr_format\tkind\terrors\twarnings\tproblems",
        "coins\ttrue\t0.4\t2\tbioformats2raw\t0\t0\t",
        "broken\tfalse\t0.4\t2\timage\t1\t0\tmissing-dataset: dataset 's0' should be a Zarr "
        "array, but 's0' holds a group",
    ]
    counts = json.loads(summary.read_text())
    assert (counts["images"], counts["valid"], counts["invalid"]) == (2, 1, 1)
    assert counts["rows"][1]["valid"] is False


def test_a_file_that_is_not_a_report_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    table = tmp_path / "table.tsv"
    result = run_fairio("summarize-validation", "--report", "x", other, "--tsv", table)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"fairio: error: {other}: not an NGFF validation report "
        "(give the JSON of fairio validate-ngff)"
    )
    assert not table.exists()


def _refused(tmp_path: Path, report: Path, message: str) -> None:
    table = tmp_path / "table.tsv"
    result = run_fairio("summarize-validation", "--report", "x", report, "--tsv", table)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(report) in lines[0] and message in lines[0]
    assert not table.exists()


def test_hostile_reports_are_refused_with_one_line(tmp_path: Path) -> None:
    """A FIFO (never opened: it would block), a huge file, counts that are no integers."""
    import os

    from fairio_tools.ngff.summary import MAX_REPORT_BYTES

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    _refused(tmp_path, fifo, "not a regular file")
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as stream:
        stream.truncate(MAX_REPORT_BYTES + 1)
    _refused(tmp_path, huge, "larger than")
    real = json.loads((REPORTS / "coins.ngff.json").read_text())
    for bad in ("9" * 5000, None, [1]):
        report = tmp_path / "bad-count.json"
        report.write_text(json.dumps({**real, "errors": bad}))
        _refused(tmp_path, report, "not an NGFF validation report")
    report.write_text(json.dumps({**real, "errors": 1e999}).replace("Infinity", "1e999"))
    _refused(tmp_path, report, "not an NGFF validation report")
