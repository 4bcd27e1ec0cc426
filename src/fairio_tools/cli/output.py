"""Writing command results: JSON to stdout or a file, tables and reports to files.

Files are written to a temporary sibling and moved into place, so an interrupted command never
leaves a half-written file that looks complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from fairio_tools.atomic import STDOUT, atomic_path, is_special
from fairio_tools.errors import OutputError


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder (``-``: stdout).

    A failure to write is an :class:`OutputError` naming ``path``.
    """
    if str(path) == STDOUT:
        click.echo(text, nl=False)
        return
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OutputError(f"cannot write: {error.strerror or error}", path=path) from None


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` (a PNG figure, ...) to ``path`` as :func:`write_text_atomic` does."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as error:
        raise OutputError(f"cannot write: {error.strerror or error}", path=path) from None


def write_json(data: Any, path: Path | None) -> None:
    """Write ``data`` as indented JSON to ``path``, or to standard output when None or ``-``.

    NaN and infinities are refused (they are not JSON): data must be sanitised before.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if path is None:
        click.echo(text, nl=False)
    else:
        if str(path) != STDOUT and not is_special(path):
            path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, text)


def write_tsv(header: list[str], rows: list[list[Any]], path: Path) -> None:
    """Write a tab-separated table with a header line."""
    lines = ["\t".join(header)]
    lines += ["\t".join("" if v is None else str(v) for v in row) for row in rows]
    write_text_atomic(path, "\n".join(lines) + "\n")


def echo_findings(report) -> None:
    """Print a report's verdict and one line per finding to standard output."""
    click.echo(report.summary())
    for finding in report.findings:
        line = f"  {finding.severity.value:7} {finding.code}: {finding.message}"
        if finding.location():
            line += f" [{finding.location()}]"
        click.echo(line)
        if finding.hint:
            click.echo(f"          fix: {finding.hint}")
