"""Review catalogue submissions the way a curator would, before they become visible.

``review_catalogue`` checks the entries a pull request adds or changes (or every entry) for
schema validity (the one schema in ``schema.json``), URL policy, DOI syntax, SPDX licence and
duplicates of any other entry of the catalogue. The result renders as a Markdown review comment
and as JSON.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairio_tools.catalogue.duplicates import DuplicateIndex, Material
from fairio_tools.catalogue.model import Finding, normalise_yaml_values
from fairio_tools.catalogue.review_findings import ReviewFinding, error
from fairio_tools.catalogue.store import ReadBudget, entry_files, entry_from_data, read_entry_data
from fairio_tools.catalogue.url_policy import check_license, check_urls_and_doi
from fairio_tools.errors import InputError


@dataclass
class EntryReview:
    """The findings for one entry file."""

    path: Path
    name: str
    findings: list[ReviewFinding] = field(default_factory=list)

    @property
    def entry_id(self) -> str:
        return self.path.stem

    @property
    def errors(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "id": self.entry_id,
            "name": self.name,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class Review:
    """The review of a set of entry files against a catalogue."""

    catalogue: Path
    entries: list[EntryReview]

    @property
    def error_count(self) -> int:
        return sum(len(e.errors) for e in self.entries)

    @property
    def warning_count(self) -> int:
        return sum(len(e.warnings) for e in self.entries)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "catalogue": str(self.catalogue),
            "checked": len(self.entries),
            "errors": self.error_count,
            "warnings": self.warning_count,
            "entries": [e.to_dict() for e in self.entries],
        }


def review_catalogue(catalogue: Path, files: Iterable[Path] = ()) -> Review:
    """Review ``files`` (default: every entry of ``catalogue``) against the whole catalogue.

    Each file must be in the catalogue folder itself; every file is read once, without
    leaving the folder (see :func:`~fairio_tools.catalogue.store.read_entry_data`).
    """
    catalogue = Path(catalogue)
    every = entry_files(catalogue)
    files = [_entry_of(catalogue, Path(f)) for f in files] or every
    checked = {path.name for path in files}
    others = [path for path in every if path.name not in checked]
    budget = ReadBudget(catalogue)
    read = {path: read_entry_data(catalogue, path.name, budget) for path in [*files, *others]}
    materials = {path: Material.from_data(path.stem, _normalised(data)) for path, (data, _)
                 in read.items()}  # fmt: skip
    index = DuplicateIndex(list(materials.values()))
    return Review(
        catalogue, [_review_entry(path, *read[path], materials[path], index) for path in files]
    )


def _entry_of(catalogue: Path, path: Path) -> Path:
    """``path`` if it names an entry file of the ``catalogue`` folder (links are not followed)."""
    if not os.path.lexists(path):
        raise InputError("entry file not found", path=path)
    if os.path.abspath(path.parent) != os.path.abspath(catalogue):
        raise InputError(
            f"is not in the catalogue folder {catalogue}",
            path=path,
            hint="check entries of the catalogue given with --catalogue",
        )
    return path


def _review_entry(
    path: Path, data: Any, unreadable: Finding | None, material: Material, index: DuplicateIndex
) -> EntryReview:
    review = EntryReview(path, material.name)
    _, schema_findings = entry_from_data(path.stem, data, unreadable)
    data = _normalised(data)
    if not isinstance(data, dict):
        review.findings = [_from_schema(f) for f in schema_findings]
        return review
    precise = check_urls_and_doi(data) + check_license(data)
    covered = {f.field for f in precise if f.severity == "error"}
    review.findings = [_from_schema(f) for f in schema_findings if f.field not in covered]
    review.findings += precise + index.findings_for(material)
    review.findings.sort(key=lambda f: (f.severity != "error", _field_order(f.field), f.code))
    return review


def _normalised(data: Any) -> Any:
    return normalise_yaml_values(data) if isinstance(data, dict) else data


def _from_schema(finding: Finding) -> ReviewFinding:
    message = finding.message
    if message.startswith("invalid YAML") or message.startswith("cannot read"):
        hint = (
            "fix the YAML syntax (a YAML linter shows where)"
            if message.startswith("invalid YAML")
            else "commit the entry as a plain UTF-8 file of at most 1 MiB"
        )
        return error("CAT003", "", message, hint)
    if message.startswith("file name"):
        return error("CAT002", "", message, "rename the file")
    return error("CAT001", finding.field, message, _schema_fix(finding))


def _schema_fix(finding: Finding) -> str:
    if "is a required property" in finding.message:
        key = finding.message.split("'")[1] if "'" in finding.message else "it"
        return f"add `{key}:`"
    if finding.message.startswith("unknown key"):
        return "remove the key or move its content to a schema field (see schema.json)"
    if "use one of" in finding.message or "give at least one" in finding.message:
        return "see the message for the accepted values"
    return "see the catalogue schema (src/fairio_tools/catalogue/schema.json)"


FIELD_RANK = ("", "name", "uuid", "doi", "urls", "type", "license")


def _field_order(name: str) -> tuple[int, str]:
    base = re.split(r"[.\[]", name, maxsplit=1)[0]
    return (FIELD_RANK.index(base) if base in FIELD_RANK else len(FIELD_RANK), name)
