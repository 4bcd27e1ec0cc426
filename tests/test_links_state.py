"""The state file: diff-friendly lines, change dates, deprecation and recovery."""

from __future__ import annotations

import pytest

from fairio_tools.errors import InputError
from fairio_tools.links.content import read_page, text_fingerprint
from fairio_tools.links.state import apply_results, read_state, write_state
from fairio_tools.links.status import LinkResult, LinkStatus

URL = "https://example.org/course"


def ok(fingerprint: str = "aaaa", etag: str | None = '"1"') -> LinkResult:
    return LinkResult(URL, LinkStatus.OK, 200, etag=etag, fingerprint=fingerprint)


def broken() -> LinkResult:
    return LinkResult(URL, LinkStatus.BROKEN, 404, detail="HTTP 404")


def test_state_file_is_one_sorted_line_per_url_and_round_trips(tmp_path):
    results = [
        LinkResult("https://b.example/x", LinkStatus.OK, 200, fingerprint="f1"),
        LinkResult("https://a.example/y", LinkStatus.GONE, 410, detail="410 Gone"),
    ]
    state = apply_results({}, results, "2026-11-01").state
    path = tmp_path / "links-state.jsonl"
    write_state(state, path)
    lines = path.read_text().splitlines()
    assert [line.split('"')[3] for line in lines] == ["https://a.example/y", "https://b.example/x"]
    assert read_state(path) == state
    before = path.read_bytes()
    again = apply_results(read_state(path), results, "2026-11-08").state
    write_state(again, path)
    assert path.read_bytes() != before  # the failure count went up
    assert path.read_text().splitlines()[1] == lines[1]  # the unchanged link's line is identical


def test_deprecated_after_n_failing_runs_and_cleared_on_recovery():
    state = apply_results({}, [ok()], "2026-01-01").state
    for day in ("2026-02-01", "2026-03-01"):
        outcome = apply_results(state, [broken()], day, deprecate_after=3)
        state = outcome.state
        assert state[URL].deprecated is None
    outcome = apply_results(state, [broken()], "2026-04-01", deprecate_after=3)
    assert outcome.newly_deprecated == [URL]
    assert outcome.state[URL].deprecated == "2026-04-01"
    assert outcome.state[URL].since == "2026-02-01"
    assert outcome.state[URL].fingerprint == "aaaa"  # kept to compare after recovery
    recovered = apply_results(outcome.state, [ok()], "2026-05-01")
    assert recovered.recovered == [URL]
    assert recovered.state[URL].deprecated is None
    assert recovered.state[URL].failures == 0
    assert recovered.changed == []


def test_rate_limited_run_changes_nothing():
    state = apply_results({}, [ok()], "2026-01-01").state
    limited = LinkResult(URL, LinkStatus.RATE_LIMITED, 429)
    assert apply_results(state, [limited], "2026-02-01").state == state


def test_partial_run_keeps_unchecked_urls():
    other = LinkResult("https://other.example/", LinkStatus.OK, 200, fingerprint="b")
    state = apply_results({}, [ok(), other], "2026-01-01").state
    partial = apply_results(state, [ok()], "2026-02-01", keep=state).state
    assert set(partial) == {URL, other.url}
    full = apply_results(state, [ok()], "2026-02-01").state
    assert set(full) == {URL}


def test_bad_state_line_names_the_line(tmp_path):
    path = tmp_path / "state.jsonl"
    path.write_text('{"url": "https://x.example", "status": "ok", "since": "2026-01-01"}\nnope\n')
    with pytest.raises(InputError, match="line 2"):
        read_state(path)


def test_fingerprint_ignores_dates_tokens_and_boilerplate():
    page = "<html><head><title>T</title></head><body><nav>{nav}</nav><main><p>Learn napari."
    tail = " Built {stamp}, session {token}.</p></main><footer>{foot}</footer></body></html>"
    one = read_page(
        (page + tail).format(
            nav="A", stamp="2026-01-01 10:00", token="a1b2c3d4e5f6a7b8c9", foot="x"
        )
    )
    two = read_page(
        (page + tail).format(
            nav="B", stamp="3 Feb 2026 11:30", token="9f8e7d6c5b4a392817", foot="y"
        )
    )
    assert one.fingerprint == two.fingerprint
    edited = read_page((page + " Now with 3D." + tail).format(nav="A", stamp="", token="", foot=""))
    assert edited.fingerprint != one.fingerprint
    assert text_fingerprint("Hello   World") == text_fingerprint("hello world")


@pytest.mark.parametrize(
    ("html", "soft"),
    [
        ("<title>Page not found</title><main><p>Sorry.</p></main>", True),
        ("<title>Docs</title><main><h1>404</h1><p>Nothing here.</p></main>", True),
        ("<title>Docs</title><main><p>This page does not exist anymore.</p></main>", True),
        ("<title>Fixing 404 errors</title><main>" + "<p>Long tutorial text.</p>" * 200, False),
        ("<title>Napari course</title><main><p>Segmenting nuclei.</p></main>", False),
    ],
)
def test_soft_404_detection(html, soft):
    assert read_page(html).looks_like_not_found is soft


def test_every_edit_is_flagged_even_twice_a_day():
    state = apply_results({}, [ok("a")], "2026-01-01").state
    first = apply_results(state, [ok("b")], "2026-01-02")
    second = apply_results(first.state, [ok("c")], "2026-01-02")
    assert first.changed == second.changed == [URL]
    assert apply_results(second.state, [ok("c")], "2026-01-02").changed == []
