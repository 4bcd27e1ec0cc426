"""A catalogue directory: one ``<slug>.yml`` file per entry, loaded and written here.

One file per entry keeps pull requests reviewable: a new material is one new file, a fix
touches the lines of one file, and keys always come in the same order
(:data:`~fairio_tools.catalogue.model.FIELD_ORDER`).

Entry files come from strangers (pull requests): each is read without leaving the catalogue
folder (no links out, regular files only), size-bounded, and parsed by the one safe YAML
loader; a file that fails any of this is an invalid entry, never read further.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fairio_tools.atomic import atomic_output
from fairio_tools.catalogue.model import (
    Entry,
    Finding,
    normalise_yaml_values,
    validate_entry_data,
    validate_slug,
)
from fairio_tools.confined import ConfinementError, read_inside
from fairio_tools.errors import InputError, OutputError
from fairio_tools.safe_yaml import parse_yaml

ENTRY_SUFFIX = ".yml"
MAX_ENTRY_BYTES = 1024 * 1024
"""Larger entry files are invalid unread (the largest real entry is a few kB)."""
MAX_ENTRIES = 20_000
"""A catalogue folder with more entry files than this is refused as a whole."""
MAX_CATALOGUE_BYTES = 64 * 1024 * 1024
"""A catalogue whose entry files hold more than this in all is refused as a whole."""


@dataclass(frozen=True)
class EntryError:
    """Why one file of a catalogue directory is not a valid entry."""

    path: Path
    findings: tuple[Finding, ...]

    @property
    def entry_id(self) -> str:
        return self.path.stem

    def __str__(self) -> str:
        return f"{self.path}: " + "; ".join(str(f) for f in self.findings)


@dataclass
class Catalogue:
    """What a catalogue directory holds: valid entries and per-file errors."""

    directory: Path
    entries: list[Entry] = field(default_factory=list)
    errors: list[EntryError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_id(self) -> dict[str, Entry]:
        return {entry.id: entry for entry in self.entries}


def load_catalogue(directory: str | Path) -> Catalogue:
    """Load every ``*.yml`` in ``directory`` (sorted by name).

    Raises InputError only when the directory itself is unusable or too large; problems
    with single files (unreadable, YAML syntax, schema, duplicate uuid/DOI) come back as
    ``Catalogue.errors``.
    """
    directory = Path(directory)
    budget = ReadBudget(directory)
    read = ((path, *read_entry(directory, path.name, budget)) for path in entry_files(directory))
    return assemble_catalogue(directory, read)


def assemble_catalogue(
    directory: Path, read: Iterable[tuple[Path, Entry | None, list[Finding]]]
) -> Catalogue:
    """The catalogue of ``directory`` from its entry files as read (path, entry, findings),
    in file order: the entries, and every file's problems."""
    catalogue = Catalogue(directory=directory)
    for path, entry, findings in read:
        if findings:
            catalogue.errors.append(EntryError(path, tuple(findings)))
        else:
            catalogue.entries.append(entry)
    for path in sorted(directory.glob("*.yaml")):
        catalogue.errors.append(
            EntryError(path, (Finding("", f"entries end in {ENTRY_SUFFIX}, rename the file"),))
        )
    _check_unique(catalogue)
    return catalogue


def entry_files(directory: Path) -> list[Path]:
    """The ``*.yml`` names of a catalogue folder, sorted; nothing is opened or followed."""
    if not directory.is_dir():
        raise InputError(
            "catalogue directory not found",
            path=directory,
            hint="give the folder that holds one <slug>.yml per entry",
        )
    paths = sorted(directory.glob(f"*{ENTRY_SUFFIX}"))
    if len(paths) > MAX_ENTRIES:
        raise InputError(
            f"holds {len(paths)} entry files, more than the limit of {MAX_ENTRIES}",
            path=directory,
        )
    return paths


class ReadBudget:
    """How many bytes of entry files one catalogue may still hand to the YAML parser."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.left = MAX_CATALOGUE_BYTES

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise InputError(
                f"entry files hold more than the limit of {MAX_CATALOGUE_BYTES} bytes in all",
                path=self.directory,
            )


def read_entry_data(directory: Path, name: str, budget: ReadBudget) -> tuple[Any, Finding | None]:
    """The YAML data of entry file ``name`` of ``directory``, or None and why it is unreadable.

    The file is read only if it is a regular file inside ``directory`` (a symlink to another
    entry is fine; one that leads out, a FIFO, device or folder is not) of at most
    :data:`MAX_ENTRY_BYTES`.
    """
    try:
        data = read_inside(directory, name, MAX_ENTRY_BYTES)
    except ConfinementError as error:
        return None, Finding("", f"cannot read: {error.message}")
    except OSError as error:
        return None, Finding("", f"cannot read: {error.strerror or error}")
    if data is None:
        return None, Finding("", "cannot read: no such file")
    budget.spend(len(data))
    try:
        return parse_yaml(data, directory / name), None
    except InputError as error:
        message = error.message
        if not message.startswith("invalid YAML"):
            message = f"cannot read: {message}"
        return None, Finding("", message)


def read_entry(
    directory: Path, name: str, budget: ReadBudget
) -> tuple[Entry | None, list[Finding]]:
    """Read entry file ``name`` of ``directory``: the entry, or ``None`` and what is wrong."""
    data, unreadable = read_entry_data(directory, name, budget)
    return entry_from_data(Path(name).stem, data, unreadable)


def entry_from_data(
    entry_id: str, data: Any, unreadable: Finding | None = None
) -> tuple[Entry | None, list[Finding]]:
    """The entry ``data`` (as read from ``<entry_id>.yml``) describes, or ``None`` and why not."""
    findings: list[Finding] = []
    if slug_finding := validate_slug(entry_id):
        findings.append(slug_finding)
    if unreadable is not None:
        return None, [*findings, unreadable]
    if isinstance(data, dict):
        data = normalise_yaml_values(data)
    findings += validate_entry_data(data)
    if findings:
        return None, findings
    return Entry.from_dict(entry_id, data), []


def dump_entry(entry: Entry) -> str:
    """The YAML text of an entry file: block style, fixed key order, UTF-8 as is."""
    return yaml.safe_dump(
        entry.to_dict(), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def write_catalogue(entries: list[Entry], directory: str | Path) -> None:
    """Write ``entries`` as ``<id>.yml`` files into ``directory``, atomically as a whole.

    The files are written to a temporary sibling folder that replaces ``directory`` only
    when everything was written; ``directory`` must be empty or hold only ``*.yml`` entries.
    """
    directory = Path(directory)
    if directory.exists():
        if not directory.is_dir():
            raise OutputError("exists and is not a directory", path=directory)
        strangers = [p.name for p in directory.iterdir() if p.suffix != ENTRY_SUFFIX]
        if strangers:
            raise OutputError(
                f"holds files that are not catalogue entries ({', '.join(sorted(strangers)[:3])})",
                path=directory,
                hint="import into a new or catalogue-only directory",
            )
    directory.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(directory, overwrite=True, folder=True) as staging:
        for entry in entries:
            (Path(staging) / f"{entry.id}{ENTRY_SUFFIX}").write_text(
                dump_entry(entry), encoding="utf-8"
            )


def _check_unique(catalogue: Catalogue) -> None:
    """Two files must not describe the same material (same uuid or DOI)."""
    seen: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in catalogue.entries:
        for key in ("uuid", "doi"):
            value = getattr(entry, key)
            if value:
                seen[(key, value.lower())].append(entry)
    duplicates: dict[str, list[Finding]] = defaultdict(list)
    for (key, value), entries in seen.items():
        if len(entries) > 1:
            for entry in entries:
                others = ", ".join(e.id for e in entries if e is not entry)
                duplicates[entry.id].append(Finding(key, f"{value} is also used by {others}"))
    if not duplicates:
        return
    kept = []
    for entry in catalogue.entries:
        if entry.id in duplicates:
            path = catalogue.directory / f"{entry.id}{ENTRY_SUFFIX}"
            catalogue.errors.append(EntryError(path, tuple(duplicates[entry.id])))
        else:
            kept.append(entry)
    catalogue.entries = kept
    catalogue.errors.sort(key=lambda error: error.path.name)
