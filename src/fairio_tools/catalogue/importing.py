"""What an import produced: entries, rejected records with reasons, and every change made."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from fairio_tools.catalogue import normalise
from fairio_tools.catalogue.model import SLUG_MAX_LENGTH, Entry


@dataclass(frozen=True)
class Change:
    """One thing the import changed in one record."""

    index: int
    entry: str
    field: str
    action: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class Rejection:
    """A record the import could not turn into a valid entry, and why."""

    index: int
    name: str | None
    reasons: tuple[str, ...]
    uuid: str | None = None
    """The record's own uuid, if it gives one (what matches it with another version)."""


@dataclass
class ImportResult:
    """Valid entries, rejected records and every change, in source order."""

    source: str
    records: int
    entries: list[Entry] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        """The normalisation report as JSON-ready data."""
        return {
            "source": self.source,
            "records": self.records,
            "imported": len(self.entries),
            "rejected": [asdict(r) for r in self.rejected],
            "changes_by_action": dict(sorted(Counter(c.action for c in self.changes).items())),
            "changes_by_field": dict(sorted(Counter(c.field for c in self.changes).items())),
            "changes": [_jsonable(asdict(c)) for c in self.changes],
        }


def unique_slug(name: str, uuid: Any, used: set[str]) -> str:
    """A file-name slug for ``name`` not in ``used`` (suffixed with the uuid on clashes)."""
    slug = normalise.slugify(name)
    if slug not in used:
        return slug
    suffix = str(uuid or "").replace("-", "")[:8] or "2"
    candidate = f"{normalise.slugify(name, SLUG_MAX_LENGTH - len(suffix) - 1)}-{suffix}"
    counter = 2
    while candidate in used:
        counter += 1
        candidate = f"{slug[: SLUG_MAX_LENGTH - 4]}-{counter}"
    return candidate


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
