"""Writing command results: JSON to stdout or a file, tables to files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


def write_json(data: Any, path: Path | None) -> None:
    """Write ``data`` as indented JSON to ``path``, or to standard output when None."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path is None:
        click.echo(text, nl=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def write_tsv(header: list[str], rows: list[list[Any]], path: Path) -> None:
    """Write a tab-separated table with a header line."""
    lines = ["\t".join(header)]
    lines += ["\t".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_text(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` via a temporary sibling, so a failure leaves no half file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
