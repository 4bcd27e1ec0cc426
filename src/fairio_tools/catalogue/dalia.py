"""DALIA Interchange Format (DIF) 1.3 CSV export, checked with DALIA's own reader.

DIF 1.3 requires an id (UUID4), link, title, language, licence, description and at least
one author. Entries without them (or that curators excluded) are not exported but listed
with the reason; the written CSV is read back with ``dalia_dif`` and any row its validator
rejects is a bug here, reported as an OutputError.
"""

from __future__ import annotations

import csv
import io
import uuid as uuid_module
from dataclasses import dataclass
from pathlib import Path

from fairio_tools.atomic import atomic_path
from fairio_tools.catalogue.model import Author, Entry, levels, resource_types
from fairio_tools.errors import OutputError

COLUMNS = (
    "DALIA_ID", "Title", "Link", "Description", "Authors", "License", "Language", "Keywords",
    "LearningResourceType", "MediaType", "ProficiencyLevel", "PublicationDate", "TargetGroup",
    "FileFormat", "Community", "Discipline", "RelatedWork", "Size", "Version",
)  # fmt: skip
SEPARATOR = " * "
TARGET_GROUPS = {
    "researcher": "researcher",
    "data-steward": "data steward",
    "phd-student": "student (phd)",
    "masters-student": "student (ma)",
    "bachelors-student": "student (ba)",
    "school-student": "student (school)",
    "teacher-higher-education": "teacher (higher education)",
    "teacher-school": "teacher (school)",
    "content-provider": "content provider",
}
"""Catalogue audience term → DALIA DIF 1.3 TargetGroup picklist key."""


@dataclass(frozen=True)
class Skipped:
    """An entry left out of the DALIA export, and why."""

    id: str
    reasons: tuple[str, ...]


def dalia_rows(entries: list[Entry]) -> tuple[list[dict[str, str]], list[Skipped]]:
    """DIF 1.3 rows for the exportable entries, and the entries left out."""
    rows, skipped = [], []
    for entry in entries:
        reasons = _missing(entry)
        if reasons:
            skipped.append(Skipped(entry.id, tuple(reasons)))
        else:
            rows.append(_row(entry))
    return rows, skipped


def write_dalia_csv(entries: list[Entry], path: str | Path) -> list[Skipped]:
    """Write the DIF 1.3 CSV to ``path`` after DALIA's reader accepted every row."""
    rows, skipped = dalia_rows(entries)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    text = buffer.getvalue()
    errors = validate_dalia_csv(text)
    if errors:
        raise OutputError(
            f"DALIA's validator rejected the export: {errors[0]}",
            path=path,
            hint="this is a bug in fairio-tools; please report it",
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return skipped


def validate_dalia_csv(text: str, name: str = "export.csv") -> list[str]:
    """Errors ``dalia_dif``'s DIF 1.3 reader finds in CSV ``text`` (empty when valid)."""
    from dalia_dif.dif13 import read_dif13

    errors: list[str] = []
    stream = io.StringIO(text)
    stream.name = name
    read_dif13(stream, error_accumulator=errors)
    return errors


def _missing(entry: Entry) -> list[str]:
    reasons = []
    if entry.dalia == "exclude":
        reasons.append("curators excluded it from DALIA (dalia: exclude)")
    if not entry.uuid:
        reasons.append("no uuid")
    elif uuid_module.UUID(entry.uuid).version != 4:
        reasons.append(f"uuid {entry.uuid} is not a version-4 UUID (DIF 1.3 requires one)")
    if not entry.language:
        reasons.append("no language")
    if not entry.licenses:
        reasons.append("no license")
    for spdx in entry.licenses:
        if spdx.startswith("LicenseRef-") and spdx != "LicenseRef-all-rights-reserved":
            reasons.append(f"license {spdx} has no DIF 1.3 equivalent")
    if not entry.description:
        reasons.append("no description")
    if not entry.authors:
        reasons.append("no authors")
    elif any(("*" in a.name or "," in a.name or " : " in a.name) for a in entry.authors):
        reasons.append("an author name holds '*', ',' or ' : ', which DIF 1.3 cannot encode")
    return reasons


def _row(entry: Entry) -> dict[str, str]:
    vocabulary = resource_types()
    types = [vocabulary[t] for t in entry.type]
    return {
        "DALIA_ID": entry.uuid or "",
        "Title": entry.name,
        "Link": SEPARATOR.join(entry.links),
        "Description": entry.description or "",
        "Authors": SEPARATOR.join(_author(a) for a in entry.authors),
        "License": SEPARATOR.join(
            "proprietary" if spdx == "LicenseRef-all-rights-reserved" else spdx
            for spdx in entry.licenses
        ),
        "Language": SEPARATOR.join(entry.language),
        "Keywords": SEPARATOR.join(t for t in entry.tags if "*" not in t),
        "LearningResourceType": SEPARATOR.join(
            dict.fromkeys(
                t.dalia_learning_resource_type for t in types if t.dalia_learning_resource_type
            )
        ),
        "MediaType": SEPARATOR.join(
            dict.fromkeys(t.dalia_media_type for t in types if t.dalia_media_type)
        ),
        "ProficiencyLevel": SEPARATOR.join(levels()[level].lower() for level in entry.levels),
        "PublicationDate": _date(entry.publication_date),
        "TargetGroup": SEPARATOR.join(TARGET_GROUPS[a] for a in entry.audience),
        "FileFormat": SEPARATOR.join(entry.file_formats),
        "Community": "",
        "Discipline": "",
        "RelatedWork": "",
        "Size": "",
        "Version": "",
    }


def _author(author: Author) -> str:
    if author.organization:
        return f"{author.name} : {{organization}}"
    given, _, family = author.name.rpartition(" ")
    name = f"{family}, {given}" if given else family
    return f"{name} : {{{author.orcid_url}}}" if author.orcid else name


def _date(value: str | None) -> str:
    """DIF 1.3 takes a full date or a year; a year-month keeps its year."""
    if not value:
        return ""
    return value if len(value) != 7 else value[:4]
