"""A catalogue directory: one ``<slug>.yml`` file per entry, loaded and written here.

One file per entry keeps pull requests reviewable: a new material is one new file, a fix
touches the lines of one file, and keys always come in the same order
(:data:`~fairio_tools.catalogue.model.FIELD_ORDER`).
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fairio_tools.catalogue.model import (
    Entry,
    Finding,
    normalise_yaml_values,
    validate_entry_data,
    validate_slug,
)
from fairio_tools.errors import InputError, OutputError

ENTRY_SUFFIX = ".yml"
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (5x faster), else the pure-Python one."""


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

    Raises InputError only when the directory itself is unusable; problems with single
    files (YAML syntax, schema, duplicate uuid/DOI) come back as ``Catalogue.errors``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(
            "catalogue directory not found",
            path=directory,
            hint="give the folder that holds one <slug>.yml per entry",
        )
    catalogue = Catalogue(directory=directory)
    for path in sorted(directory.glob(f"*{ENTRY_SUFFIX}")):
        entry, findings = read_entry(path)
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


def read_entry(path: Path) -> tuple[Entry | None, list[Finding]]:
    """Read one entry file: the entry, or ``None`` and what is wrong with it."""
    findings: list[Finding] = []
    if slug_finding := validate_slug(path.stem):
        findings.append(slug_finding)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except (OSError, UnicodeDecodeError) as error:
        return None, [*findings, Finding("", f"cannot read: {error}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        return None, [*findings, Finding("", f"invalid YAML{where}: {problem}")]
    if isinstance(data, dict):
        data = normalise_yaml_values(data)
    findings += validate_entry_data(data)
    if findings:
        return None, findings
    return Entry.from_dict(path.stem, data), []


def load_entry(path: str | Path) -> Entry:
    """Read one entry file, raising InputError naming the first problem."""
    path = Path(path)
    entry, findings = read_entry(path)
    if entry is None:
        first = findings[0]
        raise InputError(first.message, path=path, field=first.field or None)
    return entry


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
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # a catalogue folder, not a private one like mkdtemp's
    try:
        for entry in entries:
            (staging / f"{entry.id}{ENTRY_SUFFIX}").write_text(dump_entry(entry), encoding="utf-8")
        if directory.exists():
            old = directory.with_name(f".{directory.name}-old-{os.getpid()}")
            directory.rename(old)
            staging.rename(directory)
            for path in old.iterdir():
                path.unlink()
            old.rmdir()
        else:
            staging.rename(directory)
    except BaseException:
        for path in staging.glob("*"):
            path.unlink()
        staging.rmdir()
        raise


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
