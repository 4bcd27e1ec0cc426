"""Link health against ~1,000 URLs on 50 loopback hosts: classification and change detection."""

from __future__ import annotations

from collections import Counter

import pytest

from fairio_tools.links.check import CheckSettings, Known, retry_after_seconds, run_check
from fairio_tools.links.guard import AddressPolicy
from fairio_tools.links.state import apply_results
from fairio_tools.links.status import LinkStatus
from tests.linkfarm import FarmProcess, plan

SETTINGS = CheckSettings(
    total=32, timeout=1.5, backoff=0.05, policy=AddressPolicy.allowing(["127.0.0.0/8"])
)
"""32 requests at once keep the farm's queue short on a busy test machine, so only its slow
pages (5 s) pass the timeout."""


@pytest.fixture(scope="module")
def farm():
    with FarmProcess(hosts=50, tls=True) as running:
        yield running


@pytest.fixture(scope="module")
def two_runs(farm):
    """Check the planned catalogue, edit the 'changing' pages, check again."""
    planned = plan(farm, 1000)
    urls = [p.url for p in planned]
    first = run_check(urls, settings=SETTINGS)
    after_first = apply_results({}, first, "2026-11-01")
    farm.reset()
    farm.edit_pages()
    known = {url: record.known for url, record in after_first.state.items()}
    second = run_check(urls, known=known, settings=SETTINGS)
    after_second = apply_results(after_first.state, second, "2026-11-08")
    return planned, first, second, after_second


def test_every_url_is_classified_correctly(two_runs):
    planned, first, second, _ = two_runs
    assert len({p.url for p in planned}) == 1000
    assert len({p.url.split("/")[2] for p in planned}) == 50
    for run in (first, second):
        got = {r.url: str(r.status) for r in run}
        wrong = [(p.url, p.status, got[p.url]) for p in planned if got[p.url] != p.status]
        assert wrong == []
    counts = Counter(p.status for p in planned)
    assert set(counts) == {"ok", "redirected", "broken", "gone", "server-error", "timeout",
                           "soft-404"}  # fmt: skip


def test_second_run_flags_exactly_the_pages_whose_main_text_changed(two_runs):
    planned, _, _, outcome = two_runs
    expected = sorted(p.url for p in planned if p.changes)
    assert len(expected) == 100
    assert sorted(outcome.changed) == expected
    assert all(outcome.state[url].content_changed == "2026-11-08" for url in expected)
    volatile = [p.url for p in planned if "/volatile/" in p.url]
    assert volatile and not set(volatile) & set(outcome.changed)


def test_conditional_requests_spare_unchanged_pages(two_runs, farm):
    planned, _, second, _ = two_runs
    by_url = {r.url: r for r in second}
    validated = [p.url for p in planned if "/ok/" in p.url]
    assert validated and all(by_url[u].not_modified for u in validated)
    path = validated[0].split("/", 3)[3]
    assert farm.methods("/" + path) == ["HEAD"]  # a 304 to HEAD: no body fetched


def test_head_falls_back_to_get(two_runs, farm):
    planned, first, *_ = two_runs
    url = next(p.url for p in planned if "/nohead/" in p.url)
    result = next(r for r in first if r.url == url)
    assert result.status is LinkStatus.OK
    assert result.requests == 2


def test_permanent_moves_are_recorded(two_runs):
    _, first, *_ = two_runs
    moved = [r for r in first if r.status is LinkStatus.REDIRECTED]
    assert moved and all(r.moved_to and "/ok/" in r.moved_to for r in moved)
    temporary = [r for r in first if "code=302" in r.url]
    assert temporary and all(r.moved_to is None and r.final_url for r in temporary)


def test_per_host_limit_is_respected(farm):
    farm.set_latency(0.2)  # long enough for 4 requests to overlap on a busy machine
    farm.reset()
    try:
        urls = [farm.url(h, f"plain/{i}") for h in (1, 2) for i in range(16)]
        results = run_check(urls, settings=SETTINGS)
    finally:
        farm.set_latency(0.0)
    assert {r.status for r in results} == {LinkStatus.OK}
    assert farm.peak_in_flight() == 4


def test_retry_after_is_honoured(farm):
    farm.reset()
    url = farm.url(3, "limited/424242")
    (result,) = run_check([url], settings=SETTINGS)
    assert result.status is LinkStatus.OK
    assert farm.methods("/limited/424242")[:2] == ["HEAD", "HEAD"]


def test_untrusted_certificate_is_a_tls_error(farm):
    (result,) = run_check([f"https://127.0.0.1:{farm.tls_port}/ok/1"], settings=SETTINGS)
    assert result.status is LinkStatus.TLS_ERROR


def test_non_http_urls_are_invalid(farm):
    urls = ["ftp://example.org/file", "javascript:alert(1)", "http://[::1", "http://127.1/"]
    results = run_check(urls, settings=SETTINGS)
    assert {r.status for r in results} == {LinkStatus.INVALID}


def test_redirect_loop_is_broken(farm):
    (result,) = run_check([farm.url(4, "loop/1")], settings=SETTINGS)
    assert result.status is LinkStatus.BROKEN
    assert "redirects" in result.detail


def test_soft_404_is_not_fooled_by_validators(farm):
    """A page that was a soft 404 is fetched again even when its validators did not change."""
    url = farm.url(5, "soft404/7")
    known = Known(etag=None, fingerprint="x", status="soft-404")
    (result,) = run_check([url], known={url: known}, settings=SETTINGS)
    assert result.status is LinkStatus.SOFT_404


@pytest.mark.parametrize(
    ("header", "seconds"), [("7", 7.0), ("", None), ("soon", None), (None, None)]
)
def test_retry_after_values(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_http_date():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
