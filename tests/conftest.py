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


def run_fairio(*args: str | Path, check: bool = False) -> subprocess.CompletedProcess:
    """Run the installed ``fairio`` CLI as a user would, capturing its output."""
    fairio = Path(sys.executable).parent / "fairio"
    result = subprocess.run(
        [str(fairio), *map(str, args)], capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"fairio {args} failed ({result.returncode}):\n{result.stderr}")
    return result
