"""Hostile catalogue links: every spelling of a private address is refused, and no URL or run
can hold the checker longer than its deadline."""

from __future__ import annotations

import asyncio.selector_events
import ipaddress
import json
import socket
import time

import pytest
import yaml
from aiohttp.abc import AbstractResolver

from fairio_tools.errors import InputError
from fairio_tools.links.check import CheckSettings, run_check
from fairio_tools.links.guard import AddressPolicy, BlockedAddress, GuardedResolver
from fairio_tools.links.state import UrlState, apply_results, read_state, write_state
from fairio_tools.links.status import LinkResult, LinkStatus
from tests.conftest import run_fairio
from tests.linkfarm import FarmProcess

LOOPBACK = ("127.0.0.0/8",)
EVERY_IPV6 = ("::/0",)


@pytest.fixture(scope="module")
def farm():
    with FarmProcess(hosts=3) as running:
        yield running


# (address, IPv4 it carries): each must be judged by that IPv4
EMBEDDED = [
    ("::ffff:169.254.169.254", "169.254.169.254"),  # IPv4-mapped
    ("::ffff:a9fe:a9fe", "169.254.169.254"),  # IPv4-mapped, hex
    ("::169.254.169.254", "169.254.169.254"),  # IPv4-compatible
    ("::ffff:0:169.254.169.254", "169.254.169.254"),  # IPv4-translated (SIIT)
    ("64:ff9b::169.254.169.254", "169.254.169.254"),  # NAT64
    ("64:ff9b:1::a9fe:a9fe", "169.254.169.254"),  # local-use NAT64
    ("2002:a9fe:a9fe::1", "169.254.169.254"),  # 6to4
    ("::ffff:127.0.0.1", "127.0.0.1"),
    ("::127.0.0.1", "127.0.0.1"),
    ("64:ff9b::7f00:1", "127.0.0.1"),
    ("2002:7f00:1::1", "127.0.0.1"),
    ("::ffff:10.1.2.3", "10.1.2.3"),
    ("64:ff9b::10.1.2.3", "10.1.2.3"),
    ("2002:a01:203::1", "10.1.2.3"),
    ("::ffff:192.168.0.1", "192.168.0.1"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),  # Teredo client (documentation net)
]
IPV6_ALLOWANCES = [(), EVERY_IPV6, ("::ffff:0:0/96",), ("64:ff9b::/96",), ("2002::/16",),
                   ("2001::/32",), ("::/96",), ("::/8", "2000::/3")]  # fmt: skip


@pytest.mark.parametrize(("address", "carried"), EMBEDDED)
@pytest.mark.parametrize("allow", IPV6_ALLOWANCES)
def test_embedded_private_ipv4_is_refused_under_any_ipv6_allowance(address, carried, allow):
    policy = AddressPolicy.allowing(allow)
    reason = policy.problem(address)
    assert reason is not None and carried in reason
    assert policy.problem(carried) is not None  # the same verdict as the IPv4 itself


@pytest.mark.parametrize(
    ("address", "allow"),
    [
        ("::ffff:127.0.0.1", LOOPBACK),
        ("::127.0.0.2", LOOPBACK),
        ("64:ff9b::10.1.2.3", ("10.0.0.0/8", "64:ff9b::/96")),
        ("::ffff:8.8.8.8", ()),
        ("2002:808:808::1", ()),
    ],
)
def test_embedded_ipv4_is_allowed_when_that_ipv4_is(address, allow):
    assert AddressPolicy.allowing(allow).problem(address) is None


def test_cloud_metadata_is_refused_in_every_spelling_whatever_is_allowed():
    everything = AddressPolicy.allowing(("0.0.0.0/0", "::/0"))
    for address, carried in EMBEDDED:
        if carried == "169.254.169.254":
            assert "cloud metadata" in everything.problem(address)
    assert "cloud metadata" in everything.problem("fd00:ec2::254")


def test_nat64_of_a_public_address_needs_its_prefix_allowed():
    """The well-known NAT64 prefix is not a public address by itself."""
    assert AddressPolicy().problem("64:ff9b::8.8.8.8") is not None
    assert AddressPolicy.allowing(("64:ff9b::/96",)).problem("64:ff9b::8.8.8.8") is None


CARRYING_IPV4 = [
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[::169.254.169.254]/",
    "http://[64:ff9b::169.254.169.254]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://2852039166/",  # decimal 169.254.169.254
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://0x7f000001/",
    "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/",  # octal 169.254.169.254
    "http://169.254.169.254./",
    "http://127.000.000.001/",
    "http://127.1/",
    "http://0/",
]
"""URLs whose host is an IPv4 address in some spelling: refused even with all IPv6 allowed."""
NATIVE_IPV6 = ["http://[::1]/", "http://[::]/", "http://[fe80::1%25lo]/", "http://[fc00::1]/"]
LOCAL_NAMES = ["http://localhost/", "http://localhost./", "http://LOCALHOST/",
               "http://ip6-localhost/"]  # fmt: skip
"""Refused once resolved (or not resolvable at all where DNS has no answer for them)."""


@pytest.mark.parametrize(
    ("urls", "allow"),
    [(CARRYING_IPV4 + NATIVE_IPV6, ()), (CARRYING_IPV4, EVERY_IPV6)],
    ids=["default", "all-ipv6-allowed"],
)
def test_every_spelling_of_a_private_address_is_refused_without_connecting(urls, allow, connects):
    settings = CheckSettings(timeout=2.0, policy=AddressPolicy.allowing(allow))
    results = run_check(urls, settings=settings)
    let_through = [
        r.url for r in results if r.status not in (LinkStatus.BLOCKED, LinkStatus.INVALID)
    ]
    assert let_through == []
    assert connects == []
    assert results[0].status is LinkStatus.BLOCKED
    assert "cloud metadata" in results[0].detail


def test_local_names_are_never_connected_to(connects):
    results = run_check(LOCAL_NAMES, settings=CheckSettings(timeout=2.0))
    assert {r.status for r in results} <= {LinkStatus.BLOCKED, LinkStatus.UNREACHABLE}
    assert results[0].status is LinkStatus.BLOCKED
    assert connects == []


def test_redirect_to_mapped_loopback_is_refused_despite_an_ipv6_allowance(farm, connects):
    target = f"http://[::ffff:127.0.0.1]:{farm.port}/ok/1"
    url = farm.url(2, f"to/1?target={target}")
    settings = CheckSettings(
        timeout=2.0, policy=AddressPolicy.allowing(("127.0.0.2/32", *EVERY_IPV6))
    )
    (result,) = run_check([url], settings=settings)
    assert result.status is LinkStatus.BLOCKED
    assert "127.0.0.1" in result.detail
    assert connects == ["127.0.0.2"]


# -- deadlines --------------------------------------------------------------------------------

QUICK = CheckSettings(
    timeout=1.0,
    url_deadline=2.0,
    max_retry_after=1.5,
    backoff=0.05,
    policy=AddressPolicy.allowing(LOOPBACK),
)
"""A 2 s deadline per URL: the hostile pages below would each hold a URL for 10 s or more."""


def timed(urls: list[str], settings: CheckSettings = QUICK) -> tuple[list[LinkResult], float]:
    started = time.monotonic()
    results = run_check(urls, settings=settings)
    return results, time.monotonic() - started


@pytest.mark.parametrize(
    ("code", "status"), [(429, LinkStatus.RATE_LIMITED), (503, LinkStatus.SERVER_ERROR)]
)
def test_long_retry_after_is_not_waited_for(farm, code, status):
    (result,), seconds = timed([farm.url(1, f"busy/{code}?code={code}&after=120")])
    assert result.status is status
    assert "120 s" in result.detail
    assert seconds < 20  # one Retry-After of 120 s would be waited for before the fix


def test_retry_waits_count_against_the_url_deadline(farm):
    """Every hop asks for a 1 s pause once: 10 hops would take over 10 s."""
    (result,), seconds = timed([farm.url(1, "busyhops/1/9?after=1")])
    assert result.status is LinkStatus.TIMEOUT
    assert "2 s allowed per URL" in result.detail
    assert seconds < 8


def test_repeated_retry_after_is_cut_by_the_url_deadline(farm):
    (result,), seconds = timed([farm.url(2, "busy/2?code=503&after=1")])
    assert result.status is LinkStatus.TIMEOUT
    assert "allowed per URL" in result.detail
    assert seconds < 8


def test_slow_redirect_chain_is_cut_by_the_url_deadline(farm):
    """Ten hops of 0.6 s each: every request is well within its own timeout."""
    (result,), seconds = timed([farm.url(3, "slowhops/3/9?delay=0.6")])
    assert result.status is LinkStatus.TIMEOUT
    assert "2 s allowed per URL" in result.detail
    assert 1 < result.requests < 10
    assert seconds < 8


def test_run_deadline_reports_unfinished_urls_as_not_checked(farm):
    settings = CheckSettings(
        timeout=30.0, url_deadline=30.0, run_deadline=3.0, policy=AddressPolicy.allowing(LOOPBACK)
    )
    slow = [farm.url(h, f"slow/{h}") for h in (1, 2, 3)]  # 5 s each
    results, seconds = timed([farm.url(1, "ok/77"), *slow], settings)
    assert [r.status for r in results] == [LinkStatus.OK] + [LinkStatus.NOT_CHECKED] * 3
    assert all("deadline" in r.detail for r in results[1:])
    assert seconds < 20  # the statuses show the deadline; this only bounds the run


def test_not_checked_keeps_the_last_state():
    old = UrlState(url="https://example.org/a", status="broken", since="2026-11-01", failures=2)
    late = LinkResult(old.url, LinkStatus.NOT_CHECKED, detail="not checked")
    new = LinkResult("https://example.org/b", LinkStatus.NOT_CHECKED, detail="not checked")
    outcome = apply_results({old.url: old}, [late, new], "2026-11-08", deprecate_after=3)
    assert outcome.state[old.url] == old
    assert outcome.state[new.url].status == "not-checked"
    assert outcome.state[new.url].failures == 0
    assert outcome.newly_failing == outcome.recovered == outcome.newly_deprecated == []


def test_cli_deadline_leaves_slow_links_not_checked(farm, tmp_path):
    directory = tmp_path / "catalogue"
    directory.mkdir()
    entries = {"fast": farm.url(2, "ok/2"), "slow": farm.url(3, "slowhops/33/9?delay=1")}
    for slug, url in entries.items():
        entry = {"name": slug.title(), "urls": [url], "type": ["tutorial"]}
        (directory / f"{slug}.yml").write_text(yaml.safe_dump(entry), encoding="utf-8")
    state = tmp_path / "state.jsonl"
    before = UrlState(url=entries["slow"], status="ok", since="2026-11-01", fingerprint="f")
    write_state({before.url: before}, state)
    result = run_fairio(
        "links", "check", "--catalogue", directory, "--state", state,
        "--allow-network", "127.0.0.0/8", "--timeout", "30", "--url-deadline", "30",
        "--deadline", "4",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"] == {"not-checked": 1, "ok": 1}
    assert "1 not checked (run deadline reached)" in result.stderr
    assert read_state(state)[before.url] == before


def test_cli_refuses_a_nonpositive_deadline(tmp_path):
    result = run_fairio("links", "check", "--catalogue", tmp_path, "--deadline", "0")
    assert result.returncode == 2
    assert "--deadline" in result.stderr


def test_embedded_table_is_what_it_claims():
    """Guard against a typo in the table: each address really carries its IPv4."""
    for address, carried in EMBEDDED:
        assert ipaddress.ip_address(carried).packed in ipaddress.ip_address(address).packed or (
            ipaddress.ip_address(address).teredo is not None
        )


# -- the state file -----------------------------------------------------------------------------

GOOD_LINE = {"url": "https://example.org/a", "status": "ok", "since": "2026-11-01"}


@pytest.mark.parametrize(
    "line",
    [
        "[1]",
        '"just a string"',
        json.dumps(GOOD_LINE | {"status": "<img src=x onerror=alert(1)>"}),
        json.dumps(GOOD_LINE | {"since": "<!-- @octocat"}),
        json.dumps(GOOD_LINE | {"deprecated": ["2026-11-01"]}),
        json.dumps(GOOD_LINE | {"failures": "3"}),
        json.dumps(GOOD_LINE | {"failures": -1}),
        json.dumps(GOOD_LINE | {"url": 7}),
    ],
)
def test_hostile_state_line_is_refused(tmp_path, line):
    state = tmp_path / "state.jsonl"
    state.write_text(json.dumps(GOOD_LINE) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2 is not a link-state record") as refused:
        read_state(state)
    assert refused.value.path == str(state)


def test_hostile_state_file_is_one_line_exit_2(tmp_path):
    directory = tmp_path / "catalogue"
    directory.mkdir()
    state = tmp_path / "state.jsonl"
    state.write_text(json.dumps(GOOD_LINE | {"status": "<img src=x>"}) + "\n", encoding="utf-8")
    result = run_fairio("links", "report", "--catalogue", directory, "--state", state)
    assert result.returncode == 2, result.stderr
    (message,) = result.stderr.strip().splitlines()
    assert message.startswith(f"fairio: error: {state}: line 1 is not a link-state record")
    assert result.stdout == ""


class _Answers(AbstractResolver):
    """A DNS server that answers what a hostile zone says (the guard is what is tested)."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [
            {"hostname": host, "host": a, "port": port, "family": family, "proto": 0, "flags": 0}
            for a in self.answers[host]
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "answer",
    [
        ["::ffff:169.254.169.254"],
        ["64:ff9b::a9fe:a9fe"],
        ["2002:a00:1::1"],
        ["93.184.215.14", "::ffff:127.0.0.1"],  # one public, one private: the name is hostile
    ],
)
def test_names_resolving_to_ipv4_carrying_ipv6_are_refused(answer):
    resolver = GuardedResolver(AddressPolicy.allowing(EVERY_IPV6), _Answers({"evil.test": answer}))
    with pytest.raises(BlockedAddress):
        asyncio.run(resolver.resolve("evil.test", 80, socket.AF_UNSPEC))
    public = GuardedResolver(AddressPolicy(), _Answers({"fine.test": ["::ffff:93.184.215.14"]}))
    assert asyncio.run(public.resolve("fine.test", 80))[0]["host"] == "::ffff:93.184.215.14"
