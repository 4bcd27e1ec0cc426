"""Open peer review of catalogue materials: review files, their rules, and the valid reviews.

Reviews live next to the catalogue, one file per reviewer and material:
``reviews/<material-id>/<reviewer-orcid>.yml``. A file holds one review, or a list of
reviews of successive versions of the material::

    reviewer: {name: Rosalind Franklin, orcid: 0000-0002-1825-0097}
    date: 2026-03-01
    version: v2.1            # or  url: https://... (what exactly was reviewed)
    scores: {accuracy: 5, clarity: 4, reusability: 4, currency: 3}   # 1 (poor) to 5
    text: |
      What works, what does not, and what to change.

The rules (codes CAT06x of the pull-request review): readable YAML of the shape above; the
ORCID iD well-formed with a valid ISO 7064 11,2 check digit, and the file named after it;
the material exists; one review per reviewer per version; nobody reviews a material they
are an author of. Files are read confined to the reviews folder and bounded like entries.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairio_tools.catalogue.duplicates import normalise_title
from fairio_tools.catalogue.model import ORCID_RESOLVER, SLUG_PATTERN
from fairio_tools.catalogue.review_findings import ReviewFinding, error
from fairio_tools.catalogue.store import MAX_ENTRIES, MAX_ENTRY_BYTES, ReadBudget
from fairio_tools.catalogue.url_policy import check_url
from fairio_tools.confined import ConfinementError, read_inside
from fairio_tools.errors import InputError
from fairio_tools.safe_yaml import parse_yaml

CRITERIA = {
    "accuracy": "Accuracy: the content is correct and up to date with the methods it teaches.",
    "clarity": "Clarity: a learner at the stated level can follow it.",
    "reusability": "Reusability and FAIRness: licence, persistent identifier, open formats, "
    "data and code available.",
    "currency": "Currency: the software versions and links still work.",
}
"""The published criteria, scored 1 (poor) to 5 (excellent)."""
SCORES = range(1, 6)
ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
KEYS = {"reviewer", "date", "version", "url", "scores", "text"}
MAX_TEXT = 20_000
MAX_REVIEWS_PER_FILE = 50


def orcid_checksum_ok(orcid: str) -> bool:
    """The ORCID iD's last character is its ISO 7064 MOD 11-2 check digit."""
    digits = orcid.replace("-", "")
    total = 0
    for digit in digits[:-1]:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def orcid_problem(value: Any) -> str | None:
    """Why ``value`` is not an ORCID iD (None when it is one)."""
    if not isinstance(value, str) or not ORCID.fullmatch(value):
        return f"{_quote(value)} is not an ORCID iD (0000-0000-0000-000X)"
    if not orcid_checksum_ok(value):
        return f"{value} fails the ORCID check digit (ISO 7064 11,2): a typo"
    return None


@dataclass(frozen=True)
class PeerReview:
    """One valid review of one version of a material."""

    material: str
    reviewer_name: str
    orcid: str
    date: str
    version: str | None
    url: str | None
    scores: dict[str, int]
    text: str
    path: Path

    @property
    def reviewed(self) -> str:
        """What was reviewed: the version, else the URL."""
        return self.version or self.url or ""

    @property
    def orcid_url(self) -> str:
        return f"{ORCID_RESOLVER}{self.orcid}"

    @property
    def mean(self) -> float:
        return sum(self.scores.values()) / len(self.scores)


@dataclass(frozen=True)
class ReviewFile:
    """A review file as found: where, for which material and reviewer (from its path)."""

    path: Path
    rel: str
    material: str
    orcid: str


@dataclass
class ReviewCheck:
    """Valid reviews, and the findings for each review file that is not."""

    reviews: list[PeerReview]
    findings: dict[Path, list[ReviewFinding]]


def review_files(root: Path) -> list[ReviewFile]:
    """``<material>/<orcid>.yml`` files below ``root`` (nothing is followed or opened)."""
    found: list[ReviewFile] = []
    if not root.is_dir():
        return found
    for folder in sorted(os.scandir(root), key=lambda d: d.name):
        if not folder.is_dir(follow_symlinks=False):
            continue
        for item in sorted(os.scandir(folder.path), key=lambda d: d.name):
            if item.name.endswith((".yml", ".yaml")):
                stem = item.name.rsplit(".", 1)[0]
                found.append(
                    ReviewFile(Path(item.path), f"{folder.name}/{item.name}", folder.name, stem)
                )
            if len(found) > MAX_ENTRIES:
                raise InputError(f"holds more than {MAX_ENTRIES} review files", path=root)
    return found


def check_reviews(
    root: Path,
    materials: dict[str, Any],
    only: set[Path] | None = None,
) -> ReviewCheck:
    """Validate every review file below ``root`` against the catalogue's ``materials``
    (entry id → entry data); findings only for the files in ``only`` when given."""
    budget = ReadBudget(root)
    files = review_files(root)
    reviews: list[PeerReview] = []
    findings: dict[Path, list[ReviewFinding]] = {}
    seen: dict[tuple[str, str, str], Path] = {}
    for file in files:
        found, valid = _check_file(root, file, materials, budget)
        for review in valid:
            key = (review.material, review.orcid, normalise_title(review.reviewed))
            if key in seen:
                found.append(
                    error(
                        "CAT064",
                        "version",
                        f"{review.reviewer_name} already "
                        f"reviewed {_quote(review.reviewed)} of `{review.material}` "
                        f"({seen[key].name})",
                        "one review per reviewer per version: edit the existing "
                        "review, or review a newer version",
                    )
                )
            else:
                seen[key] = file.path
        if found:
            findings[file.path] = found
        else:
            reviews.extend(valid)
    if only is not None:
        findings = {path: f for path, f in findings.items() if path in only}
    return ReviewCheck(reviews, findings)


def _check_file(
    root: Path, file: ReviewFile, materials: dict[str, Any], budget: ReadBudget
) -> tuple[list[ReviewFinding], list[PeerReview]]:
    if not file.rel.endswith(".yml"):
        return [error("CAT060", "", "review files end in .yml", "rename the file")], []
    if not SLUG_PATTERN.fullmatch(file.material):
        return [
            error(
                "CAT060",
                "",
                f"folder {_quote(file.material)} is not a material id",
                "put the review in reviews/<material-id>/",
            )
        ], []
    if problem := orcid_problem(file.orcid):
        return [
            error(
                "CAT061",
                "",
                f"file name: {problem}",
                "name the file after your ORCID iD: reviews/<material-id>/<orcid>.yml",
            )
        ], []
    try:
        data = read_inside(root, file.rel, MAX_ENTRY_BYTES)
    except (ConfinementError, OSError) as failure:
        return [
            error(
                "CAT060",
                "",
                f"cannot read: {getattr(failure, 'message', failure)}",
                "commit the review as a plain UTF-8 file of at most 1 MiB",
            )
        ], []
    if data is None:
        return [error("CAT060", "", "cannot read: no such file", "commit the file")], []
    budget.spend(len(data))
    try:
        document = parse_yaml(data, file.path)
    except InputError as failure:
        return [error("CAT060", "", failure.message, "fix the YAML at the line named")], []
    items = document if isinstance(document, list) else [document]
    if not items or len(items) > MAX_REVIEWS_PER_FILE:
        return [
            error(
                "CAT060",
                "",
                f"a review file holds 1 to {MAX_REVIEWS_PER_FILE} reviews",
                "write one review, or a list of reviews of successive versions",
            )
        ], []
    material = materials.get(file.material)
    if material is None:
        return [
            error(
                "CAT063",
                "",
                f"there is no material `{file.material}` in the catalogue",
                "use the material's file name (without .yml) as the folder name",
            )
        ], []
    findings: list[ReviewFinding] = []
    valid = []
    for number, item in enumerate(items):
        where = f"[{number}]." if isinstance(document, list) else ""
        problems, review = _check_review(item, file, material, where)
        findings += problems
        if review is not None:
            valid.append(review)
    return findings, valid


def _check_review(
    item: Any, file: ReviewFile, material: Any, where: str
) -> tuple[list[ReviewFinding], PeerReview | None]:
    if not isinstance(item, dict):
        return [
            error(
                "CAT060",
                where.rstrip("."),
                "a review is a mapping of reviewer, date, version or url, scores and text",
                "see the review process page",
            )
        ], None
    found: list[ReviewFinding] = []
    if unknown := sorted(str(k) for k in item if k not in KEYS):
        found.append(
            error(
                "CAT060",
                f"{where}{unknown[0]}",
                f"unknown keys: {', '.join(unknown)}",
                f"use only: {', '.join(sorted(KEYS))}",
            )
        )
    reviewer = item.get("reviewer")
    name = reviewer.get("name") if isinstance(reviewer, dict) else None
    orcid = reviewer.get("orcid") if isinstance(reviewer, dict) else None
    if not isinstance(name, str) or not name.strip():
        found.append(
            error(
                "CAT060",
                f"{where}reviewer.name",
                "the reviewer's name is missing",
                "add reviewer: {name: ..., orcid: ...}",
            )
        )
    if problem := orcid_problem(orcid):
        found.append(
            error(
                "CAT061", f"{where}reviewer.orcid", problem, "copy your iD from https://orcid.org"
            )
        )
    elif orcid != file.orcid:
        found.append(
            error(
                "CAT062",
                f"{where}reviewer.orcid",
                f"the file is named after {file.orcid}, the review is by {orcid}",
                "a review goes in the file named after its reviewer's ORCID iD",
            )
        )
    date = item.get("date")
    date = date.isoformat() if isinstance(date, datetime.date) else date
    if not isinstance(date, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        found.append(
            error(
                "CAT060",
                f"{where}date",
                "the date is missing or not YYYY-MM-DD",
                "add date: YYYY-MM-DD (the day the review was written)",
            )
        )
    version, url = item.get("version"), item.get("url")
    version = str(version) if isinstance(version, int | float) else version
    if not (isinstance(version, str) and version.strip()) and not isinstance(url, str):
        found.append(
            error(
                "CAT060",
                f"{where}version",
                "say what was reviewed",
                "add version: (the material's version) or url: (the exact link)",
            )
        )
    if isinstance(url, str):
        found += [
            ReviewFinding(f.code, f.severity, f"{where}url", f.message, f.fix)
            for f in check_url(url, "url")
        ]
    scores = item.get("scores")
    if (
        not isinstance(scores, dict)
        or set(scores) != set(CRITERIA)
        or not all(type(v) is int and v in SCORES for v in scores.values())
    ):
        found.append(
            error(
                "CAT066",
                f"{where}scores",
                "scores must give each criterion ("
                + ", ".join(CRITERIA)
                + ") a whole number from 1 to 5",
                "see the criteria on the review process page",
            )
        )
    text = item.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        found.append(
            error(
                "CAT060",
                f"{where}text",
                f"the review text is missing or longer than {MAX_TEXT} characters",
                "write what works and what to change",
            )
        )
    if isinstance(orcid, str) or isinstance(name, str):
        found += _self_review(material, orcid, name, where)
    if found:
        return found, None
    return [], PeerReview(
        file.material,
        name.strip(),
        orcid,
        date,
        version.strip() if version else None,
        url,
        dict(scores),
        text.strip(),
        file.path,
    )


def _self_review(material: Any, orcid: Any, name: Any, where: str) -> list[ReviewFinding]:
    authors = material.get("authors") if isinstance(material, dict) else None
    for author in authors if isinstance(authors, list) else []:
        if not isinstance(author, dict):
            continue
        same_orcid = isinstance(orcid, str) and author.get("orcid") == orcid
        same_name = (
            isinstance(name, str)
            and isinstance(author.get("name"), str)
            and _person(author["name"]) == _person(name)
        )
        if same_orcid or same_name:
            return [
                error(
                    "CAT065",
                    f"{where}reviewer",
                    f"{_quote(author.get('name'))} is an "
                    "author of the material and cannot review it",
                    "reviews come from people who did not make the material",
                )
            ]
    return []


def _person(name: str) -> str:
    """``Franklin, Rosalind`` and ``Rosalind Franklin`` are one person."""
    if "," in name:
        last, first = name.split(",", 1)
        name = f"{first} {last}"
    return " ".join(sorted(normalise_title(name).split()))


def _quote(value: Any) -> str:
    return "`" + str(value).replace("`", "'")[:80] + "`"
