"""The link-health history: one JSON line per run (date and counts by status), committed
beside the state file, so the curator dashboard can show trends between runs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from fairio_tools.atomic import atomic_path
from fairio_tools.errors import InputError, OutputError
from fairio_tools.links.status import LinkStatus

MAX_RUNS = 520
"""Runs kept (ten years of weekly runs); older lines are dropped when a run is added."""
MAX_BYTES = 4 * 1024 * 1024
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Run:
    """One run: its date and how many links ended in each status."""

    date: str
    counts: dict[str, int]

    @property
    def checked(self) -> int:
        return sum(self.counts.values())

    @property
    def failing(self) -> int:
        return sum(n for s, n in self.counts.items() if LinkStatus(s).is_failure)

    def to_line(self) -> str:
        return json.dumps({"date": self.date, "counts": dict(sorted(self.counts.items()))})


def read_history(path: Path) -> list[Run]:
    """The runs of a history file, oldest first; a missing file is no runs."""
    if not path.exists():
        return []
    if not path.is_file() or path.stat().st_size > MAX_BYTES:
        raise InputError(f"not a regular file of at most {MAX_BYTES} bytes", path=path)
    runs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            runs.append(_run(json.loads(line)))
        except (json.JSONDecodeError, TypeError, ValueError) as error:
            raise InputError(
                f"line {number} is not a link-health run ({error})",
                path=path,
                hint='each line: {"date": "YYYY-MM-DD", "counts": {...}}',
            ) from None
    return runs


def add_run(path: Path, run: Run) -> list[Run]:
    """Append ``run`` (replacing a run of the same date), keep :data:`MAX_RUNS`, atomically."""
    runs = [r for r in read_history(path) if r.date != run.date] + [run]
    runs = runs[-MAX_RUNS:]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(path) as temporary:
            temporary.write_text("".join(r.to_line() + "\n" for r in runs), encoding="utf-8")
    except OSError as error:
        raise OutputError(f"cannot write the history: {error.strerror}", path=path) from error
    return runs


def _run(data: object) -> Run:
    if not isinstance(data, dict) or not isinstance(data.get("date"), str):
        raise TypeError("not an object with a date")
    if not _DATE.fullmatch(data["date"]):
        raise ValueError("date is not YYYY-MM-DD")
    counts = data.get("counts")
    if not isinstance(counts, dict) or not all(
        k in set(LinkStatus) and type(v) is int and v >= 0 for k, v in counts.items()
    ):
        raise ValueError("counts are not status: count")
    return Run(data["date"], dict(counts))
