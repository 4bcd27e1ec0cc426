"""A catalogue as the review reads it: every record with its data, from one of two sources.

A catalogue folder (one ``<slug>.yml`` per entry, each read confined and bounded by the
store), or an NFDI4BIOIMAGE training file (``resources: [...]``), read through the importer:
its records are the entries the import makes, and the records it rejects are kept with their
reasons, because a rejected record is a material that silently leaves the catalogue.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from fairio_tools.catalogue.duplicates import Material, normalise_title
from fairio_tools.catalogue.model import Entry, Finding, normalise_yaml_values
from fairio_tools.catalogue.store import (
    Catalogue,
    ReadBudget,
    assemble_catalogue,
    entry_files,
    entry_from_data,
    read_entry_data,
)
from fairio_tools.errors import InputError


@dataclass(frozen=True)
class Record:
    """One entry: its id, the file it is in, its data (or why that is unreadable)."""

    id: str
    path: Path
    data: Any
    unreadable: Finding | None = None

    @cached_property
    def normalised(self) -> Any:
        return normalise_yaml_values(self.data) if isinstance(self.data, dict) else self.data

    @cached_property
    def material(self) -> Material:
        return Material.from_data(self.id, self.normalised)

    @cached_property
    def parsed(self) -> tuple[Entry | None, list[Finding]]:
        """The entry the record is, or None and why not."""
        return entry_from_data(self.id, self.data, self.unreadable)

    @property
    def schema_findings(self) -> list[Finding]:
        """Why the record is not a valid entry (empty when it is one)."""
        return self.parsed[1]

    @property
    def valid(self) -> bool:
        return not self.schema_findings

    @property
    def uuid(self) -> str | None:
        return self.material.uuid.lower() if self.material.uuid else None

    @property
    def same_content_key(self) -> tuple[str, str]:
        return (repr(self.normalised), str(self.unreadable))


@dataclass(frozen=True)
class Dropped:
    """A record the importer rejects: it never becomes an entry."""

    key: str
    """uuid, else the normalised name: what matches it with the base's record."""
    name: str
    reasons: tuple[str, ...]


@dataclass
class Snapshot:
    """Every record of one catalogue, and the records its importer drops."""

    source: Path
    records: dict[str, Record]
    dropped: list[Dropped] = field(default_factory=list)

    budget: ReadBudget | None = None

    @property
    def is_folder(self) -> bool:
        return self.budget is not None

    def catalogue(self) -> Catalogue:
        """The catalogue of this folder, from the records as read (each file read once)."""
        if not self.is_folder:
            raise InputError("is not a catalogue folder", path=self.source)
        return assemble_catalogue(self.source, ((r.path, *r.parsed) for r in self.records.values()))

    def add_file(self, path: Path) -> Record:
        """The record of entry file ``path`` of this folder (read now if not a ``*.yml``)."""
        if path.stem in self.records and self.records[path.stem].path.name == path.name:
            return self.records[path.stem]
        data, unreadable = read_entry_data(self.source, path.name, self.budget)
        self.records[path.stem] = record = Record(path.stem, path, data, unreadable)
        return record

    @cached_property
    def by_uuid(self) -> dict[str, Record]:
        return {r.uuid: r for r in reversed(self.records.values()) if r.uuid}

    def counterpart(self, record: Record) -> Record | None:
        """The record here that ``record`` (of another snapshot) is a version of: same id
        and uuid, else same uuid (a renamed file), else same id."""
        same_id = self.records.get(record.id)
        if same_id is not None and (same_id.uuid == record.uuid or not record.uuid):
            return same_id
        return (self.by_uuid.get(record.uuid) if record.uuid else None) or same_id


def read_snapshot(source: Path) -> Snapshot:
    """Read a catalogue folder, or an NFDI4BIOIMAGE training file through the importer."""
    source = Path(source)
    if os.path.isfile(source):
        return _read_community_file(source)
    budget = ReadBudget(source)
    records = {}
    for path in entry_files(source):
        data, unreadable = read_entry_data(source, path.name, budget)
        records[path.stem] = Record(path.stem, path, data, unreadable)
    return Snapshot(source, records, budget=budget)


def record_key(uuid: Any, name: Any) -> str:
    """What matches a record across versions when it has no entry id: uuid, else name."""
    if isinstance(uuid, str) and uuid.strip():
        return f"uuid:{uuid.strip().lower()}"
    return f"name:{normalise_title(name) if isinstance(name, str) else ''}"


def _read_community_file(path: Path) -> Snapshot:
    from fairio_tools.catalogue.nfdi4bioimage import import_nfdi4bioimage

    result = import_nfdi4bioimage(path)
    records = {e.id: Record(e.id, path, e.to_dict()) for e in result.entries}
    dropped = [
        Dropped(record_key(r.uuid, r.name), r.name or f"record {r.index + 1}", r.reasons)
        for r in result.rejected
    ]
    return Snapshot(path, records, dropped)
