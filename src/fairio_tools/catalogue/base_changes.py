"""What a change does to the materials already in the catalogue (the base branch).

Three things a line-by-line review misses: an existing entry overwritten by a different
material under the same file or uuid, an entry removed, and an entry (or a record of a
training file) that no longer validates, so the catalogue (or the importer) would drop it
without a word.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from rapidfuzz import fuzz

from fairio_tools.catalogue.duplicates import normalise_title
from fairio_tools.catalogue.review_findings import ReviewFinding, error, warning
from fairio_tools.catalogue.snapshot import Dropped, Record, Snapshot, record_key

SAME_TITLE = 60.0
"""rapidfuzz token-set ratio of normalised titles from which two versions are one material
(a corrected typo, an added subtitle); below it, and with no shared link, they are two."""

IMPORTER_DUPLICATE = re.compile(r"^(uuid|doi): (\S+) duplicates entry (\S+)$")
"""The importer's reason for dropping a record whose uuid or DOI an earlier record has."""


def same_material(old: Record, new: Record) -> bool:
    """Whether ``new`` is a version of ``old``: a shared DOI, record or URL, or a similar
    title (a shared author is not enough: authors make many materials). Records too broken
    to tell (no title, no links) count as the same."""
    a, b = old.material, new.material
    if not (a.name or a.urls or a.doi) or not (b.name or b.urls or b.doi):
        return True
    keys = {key for _, field, key, _ in a.identifier_keys() if field != "uuid"}
    if keys & {key for _, field, key, _ in b.identifier_keys() if field != "uuid"}:
        return True
    first, second = normalise_title(a.name), normalise_title(b.name)
    return bool(first and second) and fuzz.token_set_ratio(first, second) >= SAME_TITLE


def changes_against_base(record: Record, head: Snapshot, base: Snapshot) -> list[ReviewFinding]:
    """Overwrites of a base material by ``record``, and a valid base entry it invalidates."""
    findings = []
    versions = (base.records.get(record.id), base.by_uuid.get(record.uuid or ""))
    candidates = {r.id: r for r in versions if r is not None}
    for old in candidates.values():
        if old.id != record.id and old.id in head.records:
            continue  # the base entry is still there: a copy, reported as a duplicate
        if not same_material(old, record):
            how = "file" if old.id == record.id else f"uuid {old.uuid}"
            findings.append(error(
                "CAT050", "uuid" if how != "file" else "",
                f"replaces `{old.id}` ({_short(old.material.name)}) under the same {how} "
                f"with a different material ({_short(record.material.name)})",
                "add the new material as a new file with its own uuid, and restore the "
                "existing entry",
            ))  # fmt: skip
    old = base.counterpart(record)
    if old is not None and old.valid and not record.valid:
        findings.append(error(
            "CAT052", "", f"`{old.id}` was a valid entry on the base branch; with this change "
            "it is not, so the material would leave the catalogue",
            "fix the problems below (they name the fields)",
        ))  # fmt: skip
    return findings


def left_the_catalogue(
    head: Snapshot, base: Snapshot
) -> list[tuple[Path, str, str, list[ReviewFinding]]]:
    """(file, id, title, findings) for base materials that have no version in ``head``
    (removed, or dropped by the importer) and for new records the importer drops."""
    present = {id(r) for r in (base.counterpart(h) for h in head.records.values()) if r}
    dropped = {d.key: d for d in head.dropped}
    left = []
    for old in base.records.values():
        if id(old) in present:
            continue
        reason = dropped.pop(record_key(old.uuid, old.material.name), None)
        if reason is not None and old.valid:
            finding = error(
                "CAT052", "", "the importer now rejects this record, so the material would "
                "leave the catalogue: " + "; ".join(reason.reasons),
                "restore the fields the reasons name",
            )  # fmt: skip
        elif reason is None:
            finding = warning(
                "CAT051", "", f"`{old.id}` is removed from the catalogue",
                "if the material is gone, keep the entry: link health deprecates it and keeps "
                "its record; remove only true duplicates",
            )  # fmt: skip
        else:
            continue  # invalid on the base too: nothing changes
        left.append((head.source if reason else old.path, old.id, old.material.name, [finding]))
    known = {d.key for d in base.dropped}
    copies: dict[tuple[str, str, str], list[Dropped]] = defaultdict(list)
    for new in dropped.values():
        if new.key in known:
            continue
        if len(new.reasons) == 1 and (match := IMPORTER_DUPLICATE.match(new.reasons[0])):
            copies[match.group(1, 2, 3)].append(new)
            continue
        finding = error(
            "CAT052", "", "the importer rejects this record, so the material would not "
            "enter the catalogue: " + "; ".join(new.reasons),
            "add the fields the reasons name",
        )  # fmt: skip
        left.append((head.source, new.key.split(":", 1)[1], new.name, [finding]))
    for (field, value, entry_id), records in copies.items():
        names = ", ".join(_short(r.name) for r in records[1:])
        finding = error(
            "CAT043" if field == "uuid" else "CAT041", field,
            f"{field} {value} is already in the catalogue as `{entry_id}`: the importer drops "
            "this record" + (f" and {len(records) - 1} more with it ({names})" if names else ""),
            f"update `{entry_id}` instead of adding a record, or remove the copies",
        )  # fmt: skip
        left.append((head.source, records[0].key.split(":", 1)[1], records[0].name, [finding]))
    return left


def _short(name: str) -> str:
    return name if len(name) <= 70 else name[:67] + "..."
