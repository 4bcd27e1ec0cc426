"""The weekly curator issue: the changes since the last run first, built from two real runs
against the loopback farm (no network), bounded and inert like every curator page."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from fairio_tools.catalogue.model import Entry
from fairio_tools.links.history import read_history
from fairio_tools.links.issue import MARKER, curator_issue
from fairio_tools.links.state import RunOutcome, UrlState
from fairio_tools.links.status import LinkResult, LinkStatus
from tests.conftest import run_fairio
from tests.linkfarm import FarmProcess


@pytest.fixture(scope="module")
def farm():
    with FarmProcess(hosts=3) as running:
        yield running


def _catalogue(tmp_path, farm):
    entries = {
        "napari-course": farm.url(1, "ok/1"),
        "zarr-slides": farm.url(2, "changing/2"),
        "old-workshop": farm.url(3, "gone/3"),
        "busy-site": farm.url(3, "busy/3?code=429&after=600"),
    }
    directory = tmp_path / "catalogue"
    directory.mkdir()
    for slug, url in entries.items():
        entry = {"name": slug.replace("-", " ").title(), "urls": [url], "type": ["tutorial"]}
        (directory / f"{slug}.yml").write_text(yaml.safe_dump(entry), encoding="utf-8")
    return directory, entries


def _run(farm, directory, tmp_path, name):
    result = run_fairio(
        "links", "check", "--catalogue", directory, "--state", tmp_path / "state.jsonl",
        "--allow-network", "127.0.0.0/8", "--timeout", "2", "--deprecate-after", "2",
        "--issue", tmp_path / name, "--history", tmp_path / "history.jsonl",
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return json.loads((tmp_path / name).read_text())


def _section(body: str, heading: str) -> str:
    start = body.index(f"### {heading} (")
    return body[start : body.index("\n### ", start + 1)]


def test_second_run_reports_dead_changed_recovered_deprecated_and_unfinished(farm, tmp_path):
    directory, urls = _catalogue(tmp_path, farm)
    # the committed state of an earlier run: the course's link was failing then
    earlier = UrlState(urls["napari-course"], "server-error", "2026-01-05", failures=1)
    (tmp_path / "state.jsonl").write_text(earlier.to_line() + "\n")
    first = _run(farm, directory, tmp_path, "first.json")
    assert first["news"]["recovered"] == [urls["napari-course"]]
    assert first["news"]["new_dead_links"] == []  # gone/3 is new to the state: not news yet
    assert first["news"]["not_finished"] == [urls["busy-site"]]

    farm.edit_pages()
    second = _run(farm, directory, tmp_path, "second.json")
    news = second["news"]
    assert news["changed_content"] == [urls["zarr-slides"]]
    assert news["recovered"] == []
    assert news["newly_deprecated_materials"] == ["old-workshop"]
    assert news["not_finished"] == [urls["busy-site"]]
    body = second["body"]
    assert body.startswith(MARKER + "\n# Link health of the training catalogue\n")
    assert urls["zarr-slides"] in _section(body, "Changed content")
    assert "Old Workshop" in _section(body, "Newly deprecated materials")
    assert "Retry-After" in _section(body, "Not finished in this run") or "600" in _section(
        body, "Not finished in this run"
    )
    assert "None." in _section(body, "Recovered")
    assert body.index("## Since the last run") < body.index("## Full report")
    assert second["title"] == "Link health of the training catalogue"
    runs = read_history(tmp_path / "history.jsonl")  # one run a day: the same day replaces
    assert len(runs) == 1 and runs[0].checked == 4 and runs[0].counts["rate-limited"] == 1
    assert second["label"] == "link-health"


def test_a_link_that_dies_this_week_is_new_and_only_once(farm, tmp_path):
    directory, urls = _catalogue(tmp_path, farm)
    seen_ok = UrlState(urls["old-workshop"], "ok", "2026-01-05")
    (tmp_path / "state.jsonl").write_text(seen_ok.to_line() + "\n")
    first = _run(farm, directory, tmp_path, "first.json")
    assert first["news"]["new_dead_links"] == [urls["old-workshop"]]
    assert "gone" in _section(first["body"], "New dead links")
    second = _run(farm, directory, tmp_path, "second.json")
    assert second["news"]["new_dead_links"] == []  # still dead: in the full report, not news


def test_issue_body_is_bounded_and_inert():
    hostile = "@everyone <img src=x onerror=alert(1)> [click](https://evil.example) \u202e"
    entries = [
        Entry(id=f"entry-{n}", name=f"{hostile} {n}", type=("tutorial",),
              urls=(f"https://example.org/{n}",))
        for n in range(400)
    ]  # fmt: skip
    state = {
        e.urls[0]: UrlState(e.urls[0], "broken", "2026-02-02", http_status=404, failures=1,
                            detail=hostile)
        for e in entries
    }  # fmt: skip
    results = [LinkResult(u, LinkStatus.BROKEN, 404, detail=hostile) for u in state]
    outcome = RunOutcome(state, [], list(state), [], [])
    issue = curator_issue(outcome, results, entries, previous={}, today="2026-02-02",
                          max_chars=20_000)  # fmt: skip
    body = issue["body"]
    assert len(body) <= 20_000 and body.rstrip().endswith("link health page.")
    markup = body.replace(MARKER, "")
    assert not re.search(r"(?<!\\)[<&]", markup) and not re.search(r"(?<!\\)\]\(", markup)
    assert "@everyone" not in body
    assert "\u202e" not in body
    whole = curator_issue(outcome, results, entries, previous={}, today="2026-02-02")["body"]
    assert "…and 200 more" in _section(whole, "New dead links")  # counted, not listed
    assert len(whole) <= 60_000
