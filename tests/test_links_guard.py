"""SSRF guard: refused addresses never see a connection attempt."""

from __future__ import annotations

import pytest

from fairio_tools.addresses import host_name_problem
from fairio_tools.links.check import CheckSettings, run_check
from fairio_tools.links.guard import AddressPolicy
from fairio_tools.links.status import LinkStatus
from tests.linkfarm import FarmProcess


@pytest.fixture(scope="module")
def farm():
    with FarmProcess(hosts=2) as running:
        yield running


def check(url: str, allow: tuple[str, ...] = ()) -> LinkStatus:
    settings = CheckSettings(timeout=1.0, policy=AddressPolicy.allowing(allow))
    (result,) = run_check([url], settings=settings)
    return result.status


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/admin",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://100.100.100.200/",
        "http://0.0.0.0/",
    ],
)
def test_private_addresses_are_refused_without_connecting(url, connects):
    assert check(url) is LinkStatus.BLOCKED
    assert connects == []


def test_loopback_without_allowance_is_refused(farm, connects):
    assert check(farm.url(1, "ok/1")) is LinkStatus.BLOCKED
    assert connects == []


def test_names_are_checked_after_resolution(farm, connects):
    assert check(f"http://localhost:{farm.port}/ok/1") is LinkStatus.BLOCKED
    assert connects == []


def test_allowance_lets_the_test_server_through(farm, connects):
    assert check(farm.url(2, "ok/1"), allow=("127.0.0.2/32",)) is LinkStatus.OK
    assert connects and set(connects) == {"127.0.0.2"}


def test_redirect_from_allowed_host_to_loopback_is_refused(farm, connects):
    target = farm.url(1, "ok/1")
    url = farm.url(2, f"to/1?target={target}")
    assert check(url, allow=("127.0.0.2/32",)) is LinkStatus.BLOCKED
    assert "127.0.0.1" not in connects
    assert connects == ["127.0.0.2"]


def test_cloud_metadata_stays_refused_even_when_its_network_is_allowed(connects):
    assert check("http://169.254.169.254/", allow=("169.254.0.0/16",)) is LinkStatus.BLOCKED
    assert connects == []


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("localhost", "local host name"),
        ("printer.local", "local host name"),
        ("intranet", "local host name"),
        ("127.0.0.1", "loopback address"),
        ("[::1]", "loopback address"),
        ("10.1.2.3", "private address"),
        ("169.254.169.254", "cloud metadata address"),
        ("zenodo.org", None),
        ("8.8.8.8", None),
    ],
)
def test_host_name_problems(host, problem):
    assert host_name_problem(host) == problem
