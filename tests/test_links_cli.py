"""``fairio links check`` and ``fairio links report`` end to end, against the loopback farm."""

from __future__ import annotations

import json

import pytest
import yaml

from fairio_tools.links.state import read_state
from tests.conftest import run_fairio
from tests.linkfarm import FarmProcess


@pytest.fixture(scope="module")
def farm():
    with FarmProcess(hosts=5) as running:
        yield running


@pytest.fixture
def catalogue(farm, tmp_path):
    entries = {
        "napari-course": {"urls": [farm.url(1, "ok/1")]},
        "zarr-slides": {"urls": [farm.url(2, "changing/2")]},
        "old-workshop": {"urls": [farm.url(3, "gone/3")]},
        "moved-notebook": {"urls": [farm.url(4, "redirect/4?hops=2&code=301")]},
        "zenodo-data": {"doi": "10.5281/zenodo.55", "urls": [farm.url(5, "missing/5")]},
    }
    directory = tmp_path / "catalogue"
    directory.mkdir()
    for slug, data in entries.items():
        entry = {"name": slug.replace("-", " ").title(), **data, "type": ["tutorial"]}
        (directory / f"{slug}.yml").write_text(yaml.safe_dump(entry), encoding="utf-8")
    return directory


def links_check(farm, catalogue, tmp_path, *extra: str):
    result = run_fairio(
        "links", "check", "--catalogue", catalogue, "--state", tmp_path / "state.jsonl",
        "--allow-network", "127.0.0.0/8", "--timeout", "2",
        "--doi-resolver", farm.url(5, "doi/"), "--deprecate-after", "2", *extra,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return result, json.loads(result.stdout)


def test_two_runs_classify_flag_changes_and_deprecate(farm, catalogue, tmp_path):
    first, report = links_check(farm, catalogue, tmp_path)
    assert first.returncode == 1  # a link fails
    statuses = {r["url"]: r["status"] for r in report["results"]}
    assert statuses == {
        farm.url(1, "ok/1"): "ok",
        farm.url(2, "changing/2"): "ok",
        farm.url(3, "gone/3"): "gone",
        farm.url(4, "redirect/4?hops=2&code=301"): "redirected",
        farm.url(5, "doi/10.5281/zenodo.55"): "ok",
        farm.url(5, "missing/5"): "broken",
    }
    assert report["changed"] == [] and report["deprecated_entries"] == []
    lines = (tmp_path / "state.jsonl").read_text().splitlines()
    assert len(lines) == 6 and lines == sorted(lines)

    farm.edit_pages()
    _, report = links_check(farm, catalogue, tmp_path, "--markdown", str(tmp_path / "report.md"))
    assert report["changed"] == [farm.url(2, "changing/2")]
    assert sorted(report["newly_deprecated"]) == [farm.url(3, "gone/3"), farm.url(5, "missing/5")]
    # the Zenodo entry still has a working DOI: only the dead workshop is deprecated
    assert report["deprecated_entries"] == ["old-workshop"]
    state = read_state(tmp_path / "state.jsonl")
    assert state[farm.url(3, "gone/3")].failures == 2

    page = (tmp_path / "report.md").read_text()
    assert "## Deprecated materials (1)" in page and "Old Workshop" in page
    assert "## Broken links (2)" in page and "## Changed content (1)" in page
    assert "## Moved permanently (1)" in page

    again = run_fairio(
        "links", "report", "--catalogue", catalogue, "--state", tmp_path / "state.jsonl",
        "--doi-resolver", farm.url(5, "doi/"),
    )  # fmt: skip
    assert again.returncode == 0 and again.stdout == page


def test_only_checks_the_given_entries_and_keeps_the_rest(farm, catalogue, tmp_path):
    links_check(farm, catalogue, tmp_path)
    before = read_state(tmp_path / "state.jsonl")
    _, report = links_check(
        farm, catalogue, tmp_path, "--only", str(catalogue / "napari-course.yml")
    )
    assert [r["url"] for r in report["results"]] == [farm.url(1, "ok/1")]
    assert read_state(tmp_path / "state.jsonl").keys() == before.keys()


def test_without_allowance_the_guard_blocks_loopback(farm, catalogue, tmp_path):
    result = run_fairio(
        "links", "check", "--catalogue", catalogue, "--state", tmp_path / "state.jsonl",
        "--only", catalogue / "napari-course.yml",
    )  # fmt: skip
    assert result.returncode == 1
    assert json.loads(result.stdout)["counts"] == {"blocked": 1}


def test_bad_state_file_is_one_line_exit_2(catalogue, tmp_path):
    state = tmp_path / "state.jsonl"
    state.write_text("not json\n")
    result = run_fairio("links", "check", "--catalogue", catalogue, "--state", state)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {state}: line 1 is not a link-state record (Expecting value: line 1 "
        "column 1 (char 0)) (each line must be one JSON object with url, status and since)"
    ]
    assert state.read_text() == "not json\n"


def test_bad_allowance_is_a_usage_error(catalogue, tmp_path):
    result = run_fairio("links", "check", "--catalogue", catalogue, "--allow-network", "nope")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--allow-network" in result.stderr
