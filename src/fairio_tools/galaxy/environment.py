"""Galaxy's own environment (Galaxy, its Tool Shed, planemo, gialint), apart from ours.

Galaxy and planemo pin versions (pydantic among them) that conflict with the tools'
dependencies, so they live in ``.galaxy/venv``; tools reach the project environment
through Galaxy's dependency resolution instead (see ``config.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fairio_tools.errors import FairioError

GALAXY_VERSION = "26.1.1"
PLANEMO_VERSION = "0.75.47"
GIALINT_VERSION = "0.1.6"
PINS = [
    f"galaxy=={GALAXY_VERSION}",
    f"galaxy-tool-shed=={GALAXY_VERSION}",  # the harness publishes our tools to it
    f"planemo=={PLANEMO_VERSION}",
    f"gialint=={GIALINT_VERSION}",
]


def ensure_galaxy_venv(venv: Path, log=print) -> Path:
    """Create (once) the Galaxy + planemo environment; return its ``bin`` folder."""
    marker = venv / ".fairio-pins"
    wanted = "\n".join(PINS)
    if marker.is_file() and marker.read_text() == wanted:
        return venv / "bin"
    log(f"Installing {', '.join(PINS)} from PyPI into {venv} (first run only) ...")
    python = str(venv / "bin" / "python")
    uv = _uv()
    if uv:  # resolves and installs Galaxy's ~300 packages in seconds rather than minutes
        _run([uv, "venv", "--quiet", "--seed", "--clear", "--python", sys.executable, str(venv)])
        # compiled now: where PYTHONDONTWRITEBYTECODE is set, every Galaxy process and job
        # would otherwise compile Galaxy's sources again
        _run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python, *PINS])
    else:
        _run([sys.executable, "-m", "venv", "--clear", str(venv)])
        pip = [python, "-m", "pip", "--disable-pip-version-check"]
        _run([*pip, "install", "--quiet", "--upgrade", "pip", "wheel"])
        _run([*pip, "install", "--quiet", *PINS])
    marker.write_text(wanted)
    return venv / "bin"


def _uv() -> str | None:
    """The ``uv`` of our environment (the ``dev`` extra installs it), else None."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    return find_uv_bin()


def _run(command: list[str]) -> None:
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise FairioError(f"command failed: {' '.join(command)}\n{tail}")
