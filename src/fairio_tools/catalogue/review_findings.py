"""A review finding: a numbered rule, the field it concerns, what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
"""``info``: a problem the base branch already had; shown, never blocking."""

RULES = {
    "CAT001": "entry does not match the catalogue schema",
    "CAT002": "file name is not a slug",
    "CAT003": "file is not readable YAML",
    "CAT004": "placeholder text",
    "CAT005": "bot account as author",
    "CAT006": "title is a single generic word",
    "CAT007": "no type",
    "CAT010": "URL is not https",
    "CAT011": "URL scheme not allowed",
    "CAT012": "link shortener",
    "CAT013": "private, loopback or link-local host",
    "CAT014": "credentials in URL",
    "CAT020": "DOI syntax",
    "CAT021": "Zenodo/figshare URL without its DOI",
    "CAT022": "DOI written as a URL",
    "CAT030": "licence is not an SPDX identifier",
    "CAT031": "no licence",
    "CAT040": "same URL as another entry",
    "CAT041": "same DOI as another entry",
    "CAT042": "same Zenodo/figshare record as another entry",
    "CAT043": "same uuid as another entry",
    "CAT044": "near-identical title and shared authors",
    "CAT050": "overwrites a different material",
    "CAT051": "material removed",
    "CAT052": "material would leave the catalogue",
    "CAT060": "review file is not a review",
    "CAT061": "ORCID iD invalid",
    "CAT062": "review filed under another reviewer's ORCID iD",
    "CAT063": "reviewed material does not exist",
    "CAT064": "second review of one version by one reviewer",
    "CAT065": "review by an author of the material",
    "CAT066": "scores not on the published criteria",
}
"""Every rule the review applies; codes are stable so curators can refer to them."""


@dataclass(frozen=True)
class ReviewFinding:
    """One problem with one entry."""

    code: str
    severity: Severity
    field: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {**asdict(self), "rule": RULES[self.code]}


def error(code: str, field: str, message: str, fix: str) -> ReviewFinding:
    return ReviewFinding(code, "error", field, message, fix)


def as_info(finding: ReviewFinding) -> ReviewFinding:
    """``finding`` as information: the base branch already had it."""
    return ReviewFinding(finding.code, "info", finding.field, finding.message, finding.fix)


def warning(code: str, field: str, message: str, fix: str) -> ReviewFinding:
    return ReviewFinding(code, "warning", field, message, fix)
