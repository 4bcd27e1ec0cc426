"""Shared fixtures: the real data in ../shared/data and a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; its absence is an error, never a skip."""
    if not (SHARED_DATA / "SOURCES.md").is_file():
        pytest.fail(f"real test data not found at {SHARED_DATA}: clone with ../shared beside it")
    return SHARED_DATA


ADDRESS_SPACE = 3 * 1024**3
"""Address space a bounded fairio run may use: generous for Python with numpy and zarr."""


def run_bounded(
    *args: str | Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    address_space: int = ADDRESS_SPACE,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """``fairio ARGS`` as its own process with bounded memory (``RLIMIT_AS``); a hang fails
    the test through the timeout."""
    import os
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    fairio = Path(sys.executable).parent / "fairio"
    return subprocess.run(
        [str(fairio), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        preexec_fn=limit,
    )


@pytest.fixture
def connects(monkeypatch):
    """Every address the event loop is asked to connect a socket to (link-checker tests)."""
    import asyncio.selector_events

    seen: list[str] = []
    original = asyncio.selector_events.BaseSelectorEventLoop.sock_connect

    async def recording(loop, sock, address):
        seen.append(address[0])
        return await original(loop, sock, address)

    monkeypatch.setattr(asyncio.selector_events.BaseSelectorEventLoop, "sock_connect", recording)
    return seen


def run_fairio(*args: str | Path, check: bool = False) -> subprocess.CompletedProcess:
    """Run the installed ``fairio`` CLI as a user would, capturing its output."""
    fairio = Path(sys.executable).parent / "fairio"
    result = subprocess.run(
        [str(fairio), *map(str, args)], capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"fairio {args} failed ({result.returncode}):\n{result.stderr}")
    return result


_MEASURED = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def run_measured(
    *args: str | Path, env: dict[str, str] | None = None, preexec_fn=None, timeout: float = 60
) -> tuple[subprocess.CompletedProcess, int]:
    """Run ``fairio ARGS`` and return its result and its own peak RSS in bytes.

    A fresh wrapper process waits for fairio alone, so the peak is fairio's, not that of
    whichever child of the test process was largest (``RUSAGE_CHILDREN`` of pytest itself).
    """
    import os
    import tempfile

    fairio = Path(sys.executable).parent / "fairio"
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        result = subprocess.run(
            [sys.executable, "-c", _MEASURED, str(peak_file), str(fairio), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            preexec_fn=preexec_fn,
        )
        peak = int(peak_file.read_text() or 0) * 1024 if peak_file.exists() else 0
    return result, peak
