"""Review catalogue submissions the way a curator would, before they become visible.

``review_catalogue`` checks the entries a pull request adds or changes (or every entry) for
schema validity (the one schema in ``schema.json``), URL policy, DOI syntax, SPDX licence,
placeholder text, bot authors, generic titles and duplicates of any other entry of the
catalogue. Given the base branch's catalogue it also names what the change does to existing
materials (overwritten by a different material, removed, no longer valid so they would leave
the catalogue), and shows problems the base already had as information, never as errors.
The result renders as a Markdown review comment and as JSON.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairio_tools.catalogue.base_changes import (
    changes_against_base,
    left_the_catalogue,
)
from fairio_tools.catalogue.content_rules import check_content, check_type
from fairio_tools.catalogue.duplicates import DuplicateIndex
from fairio_tools.catalogue.model import Finding
from fairio_tools.catalogue.peer_review import check_reviews, review_files
from fairio_tools.catalogue.review_findings import ReviewFinding, as_info, error
from fairio_tools.catalogue.snapshot import Record, Snapshot, read_snapshot
from fairio_tools.catalogue.store import MAX_ENTRY_BYTES
from fairio_tools.catalogue.url_policy import check_license, check_urls_and_doi
from fairio_tools.confined import ConfinementError, read_inside
from fairio_tools.errors import InputError


@dataclass
class EntryReview:
    """The findings for one entry (a file of a folder, or a record of a training file)."""

    path: Path
    name: str
    findings: list[ReviewFinding] = field(default_factory=list)
    id: str = ""

    @property
    def entry_id(self) -> str:
        return self.id or self.path.stem

    @property
    def label(self) -> str:
        """The file, and the record's id when the file holds many."""
        stem = self.path.name.removesuffix(".yml").removesuffix(".yaml")
        if stem == self.entry_id or self.entry_id.endswith(f"/{self.path.name}"):
            return self.entry_id if "/" in self.entry_id else self.path.name
        return f"{self.path.name}: {self.entry_id}"

    @property
    def errors(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def infos(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.severity == "info"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "id": self.entry_id,
            "name": self.name,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class Review:
    """The review of a set of entries against a catalogue (and its base, when given)."""

    catalogue: Path
    entries: list[EntryReview]
    base: Path | None = None

    @property
    def error_count(self) -> int:
        return sum(len(e.errors) for e in self.entries)

    @property
    def warning_count(self) -> int:
        return sum(len(e.warnings) for e in self.entries)

    @property
    def info_count(self) -> int:
        return sum(len(e.infos) for e in self.entries)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "catalogue": str(self.catalogue),
            "base": str(self.base) if self.base else None,
            "checked": len(self.entries),
            "errors": self.error_count,
            "warnings": self.warning_count,
            "infos": self.info_count,
            "entries": [e.to_dict() for e in self.entries],
        }


def review_catalogue(
    catalogue: Path,
    files: Iterable[Path] = (),
    base: Path | None = None,
    reviews: Path | None = None,
    base_reviews: Path | None = None,
    head: Snapshot | None = None,
) -> Review:
    """Review ``files`` of the ``catalogue`` folder (default: every entry, or with ``base``
    every entry that differs from it) against the whole catalogue.

    ``catalogue`` and ``base`` are catalogue folders or NFDI4BIOIMAGE training files. Each
    file must be in the catalogue folder itself; every file is read once, without leaving the
    folder (see :func:`~fairio_tools.catalogue.store.read_entry_data`). ``reviews`` is the
    peer-review folder (``<material-id>/<orcid>.yml``): its files are checked too (with
    ``base_reviews``, those that differ from the base's). ``head``: the catalogue as already
    read (:func:`~fairio_tools.catalogue.snapshot.read_snapshot`), so it is not read again.
    """
    catalogue = Path(catalogue)
    head = head if head is not None else read_snapshot(catalogue)
    previous = read_snapshot(Path(base)) if base is not None else None
    files = [Path(f) for f in files]
    chosen_reviews = {f for f in files if reviews is not None and _in_reviews(Path(reviews), f)}
    files = [f for f in files if f not in chosen_reviews]
    if files and not head.is_folder:
        raise InputError(
            "entry files are checked in a catalogue folder",
            path=catalogue,
            hint="give the training file alone to check its changed records",
        )
    if files or chosen_reviews:
        targets = [head.add_file(_entry_of(catalogue, f)).id for f in files]
    elif previous is not None:
        targets = [i for i, r in head.records.items() if _changed(r, previous)]
    else:
        targets = list(head.records)
    reviewer = _Reviewer(head, targets)
    before = _Reviewer(previous, []) if previous is not None else None
    entries = []
    for entry_id in targets:
        record = head.records[entry_id]
        findings = reviewer.findings(record)
        if previous is not None and before is not None:
            old = previous.counterpart(record)
            if old is not None:
                known = {_key(f) for f in before.findings(old, report_cluster=True)}
                findings = [as_info(f) if _key(f) in known else f for f in findings]
            findings = changes_against_base(record, head, previous) + findings
        findings.sort(key=lambda f: (_severity_rank(f), _field_order(f.field), f.code))
        entries.append(EntryReview(record.path, record.material.name, findings, record.id))
    if previous is not None:
        for path, entry_id, name, findings in left_the_catalogue(head, previous):
            entries.append(EntryReview(path, name, findings, entry_id))
    if reviews is not None:
        entries += _review_files(head, Path(reviews), base_reviews, chosen_reviews)
    return Review(catalogue, entries, Path(base) if base is not None else None)


def _in_reviews(root: Path, path: Path) -> bool:
    """Whether ``path`` names a file ``<material>/<orcid>.yml`` of the reviews folder."""
    return os.path.abspath(path.parent.parent) == os.path.abspath(root)


def _review_files(
    head: Snapshot, root: Path, base_root: Path | None, chosen: set[Path]
) -> list[EntryReview]:
    """The findings for each peer-review file that is not valid: the ``chosen`` ones, else
    those that differ from the base's, else all."""
    materials = {i: r.normalised for i, r in head.records.items() if r.valid}
    only = None
    if chosen:
        only = {f.path for f in review_files(root) if any(_same_path(f.path, c) for c in chosen)}
    elif base_root is not None:
        only = {f.path for f in review_files(root) if not _same_file(root, Path(base_root), f.rel)}
    checked = check_reviews(root, materials, only)
    return [
        EntryReview(path, "peer review", findings, path.relative_to(root).as_posix())
        for path, findings in sorted(checked.findings.items())
    ]


def _same_path(a: Path, b: Path) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _same_file(root: Path, base_root: Path, rel: str) -> bool:
    """Whether review file ``rel`` is byte for byte the base's (both read confined)."""
    try:
        ours = read_inside(root, rel, MAX_ENTRY_BYTES)
        return ours is not None and ours == read_inside(base_root, rel, MAX_ENTRY_BYTES)
    except (ConfinementError, OSError):
        return False


class _Reviewer:
    """The rules for one record of a snapshot, with duplicates reported once per cluster."""

    def __init__(self, snapshot: Snapshot, targets: list[str]) -> None:
        self.index = DuplicateIndex([r.material for r in snapshot.records.values()])
        self.targets = set(targets)
        self.titled: dict[str, set[str]] = {}

    def findings(self, record: Record, report_cluster: bool = False) -> list[ReviewFinding]:
        data = record.normalised
        schema = [_from_schema(f) for f in record.schema_findings]
        if not isinstance(data, dict):
            return schema
        precise = check_urls_and_doi(data) + check_license(data)
        covered = {f.field for f in precise if f.severity == "error"}
        found = [f for f in schema if f.field not in covered] + precise
        found += check_content(data) + check_type(data)
        cluster = self.index.cluster(record.material)
        reporter = next((m.id for m in cluster if m.id in self.targets), record.id)
        if (report_cluster or reporter == record.id) and (
            duplicate := self.index.cluster_finding(record.material)
        ):
            found.append(duplicate)
        exclude = {m.id for m in cluster} | {
            other for other, seen in self.titled.items() if record.id in seen
        }
        if similar := self.index.similar_titles(record.material, exclude):
            found.append(similar)
            self.titled[record.id] = set(re.findall(r"`([^`]+)` \(", similar.message))
        return found


def _changed(record: Record, base: Snapshot) -> bool:
    old = base.counterpart(record)
    return old is None or old.id != record.id or old.same_content_key != record.same_content_key


def _key(finding: ReviewFinding) -> tuple[str, str, str]:
    """What makes two findings the same problem (list positions do not count)."""
    return (finding.code, re.sub(r"\[\d+\]", "[]", finding.field), finding.message)


def _severity_rank(finding: ReviewFinding) -> int:
    return ("error", "warning", "info").index(finding.severity)


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
