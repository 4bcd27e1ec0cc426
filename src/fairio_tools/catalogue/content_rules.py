"""Entries that are not finished or not written by a person: placeholder text, bot accounts
as authors, titles that are one generic word ("training", "slides"), no type."""

from __future__ import annotations

import re
from typing import Any

from fairio_tools.catalogue.duplicates import normalise_title
from fairio_tools.catalogue.review_findings import ReviewFinding, error, warning

PLACEHOLDER = re.compile(
    r"\b(?:todo|tbd|tba|fixme|x{3,}|lorem\s+ipsum|dolor\s+sit\s+amet)\b", re.IGNORECASE
)
"""Text left for later: ``TODO``, ``TBD``, ``FIXME``, ``xxx``, lorem ipsum."""
TEXT_FIELDS = (
    "name", "description", "tags", "authors", "audience", "learning_outcomes", "urls",
    "license", "language", "file_formats", "event", "related_tools",
)  # fmt: skip
BOT = re.compile(
    r"(?:\[bot\]|[-_]bot)$|^(?:dependabot|renovate|github-actions|pre-commit-ci|"
    r"allcontributors|codecov|greenkeeper|snyk|imgbot|mergify|web-flow|copilot)\b",
    re.IGNORECASE,
)
"""GitHub App and automation accounts (``dependabot[bot]``, ``renovate-bot``, ...)."""
GENERIC_TITLES = frozenset({
    "training", "trainings", "tutorial", "tutorials", "course", "courses", "material",
    "materials", "slides", "slide", "presentation", "talk", "lecture", "lectures", "video",
    "videos", "webinar", "workshop", "notebook", "notebooks", "document", "documentation",
    "docs", "paper", "publication", "poster", "book", "dataset", "data", "software", "tool",
    "code", "example", "examples", "demo", "test", "testing", "untitled", "title", "name",
    "new", "entry", "draft", "resource", "resources", "link", "website", "homepage", "page",
    "readme", "introduction", "intro", "overview", "misc", "other", "collection", "event",
})  # fmt: skip
"""One-word titles that say nothing about the material."""


def check_content(data: dict[str, Any]) -> list[ReviewFinding]:
    """Placeholder text in any text field, bot authors, a generic one-word title."""
    findings = [
        error("CAT004", field, f"{_quote(text)} is placeholder text",
              "write the real value, or leave the field out until it is known")
        for field, text in _texts(data)
        if PLACEHOLDER.search(text)
    ]  # fmt: skip
    authors = data.get("authors")
    for index, author in enumerate(authors if isinstance(authors, list) else []):
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and BOT.search(name.strip()):
            findings.append(error("CAT005", f"authors[{index}]",
                                  f"{_quote(name)} is a bot account, not an author",
                                  "credit the people who made the material"))  # fmt: skip
    name = data.get("name")
    if isinstance(name, str) and normalise_title(name) in GENERIC_TITLES:
        findings.append(error("CAT006", "name", f"{_quote(name)} says nothing about the material",
                              "use the material's own title"))  # fmt: skip
    return findings


def check_type(data: dict[str, Any]) -> list[ReviewFinding]:
    """A material without a type is kept (imports keep such records) but flagged to curators."""
    if data.get("type"):
        return []
    return [warning("CAT007", "type", "no type: the material is in no type facet",
                    "add `type:` with terms of the catalogue vocabulary")]  # fmt: skip


def _texts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, text) for every string in the entry's text fields."""
    found: list[tuple[str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            found.append((path, value))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")

    for key in TEXT_FIELDS:
        walk(data.get(key), key)
    return found


def _quote(text: str) -> str:
    return "`" + text.replace("`", "'")[:80] + "`"
