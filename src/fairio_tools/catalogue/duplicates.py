"""Find entries that describe the same material.

Exact matches (uuid, DOI, Zenodo/figshare record, normalised URL) are errors. Near-identical
titles are warnings, and only when the entries also share an author (or one has none): two
different courses called "Image processing with Python" by different people are not duplicates,
while version 2 of a Zenodo record submitted next to version 1 is.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from fairio_tools.catalogue import identifiers
from fairio_tools.catalogue.review_findings import ReviewFinding, error, warning

TITLE_SIMILARITY = 92.0
"""rapidfuzz ratio (0-100) of normalised titles above which two titles are near-identical."""
NOT_NAMES = {"et al", "et al.", "unknown", "n/a"}


@dataclass(frozen=True)
class Material:
    """The parts of an entry that identify what it points at (tolerant of invalid entries)."""

    id: str
    name: str
    urls: tuple[str, ...] = ()
    doi: str | None = None
    uuid: str | None = None
    surnames: frozenset[str] = frozenset()

    @classmethod
    def from_data(cls, entry_id: str, data: Any) -> Material:
        data = data if isinstance(data, dict) else {}
        urls = data.get("urls")
        authors = data.get("authors")
        return cls(
            id=entry_id,
            name=data["name"] if isinstance(data.get("name"), str) else "",
            urls=tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else (),
            doi=data["doi"] if isinstance(data.get("doi"), str) else None,
            uuid=data["uuid"] if isinstance(data.get("uuid"), str) else None,
            surnames=frozenset(_surnames(authors if isinstance(authors, list) else [])),
        )

    def keys(self) -> list[tuple[int, str, str, str]]:
        """(priority, field, key, what) for every identifier; lower priority wins."""
        keys = []
        if self.uuid:
            keys.append((0, "uuid", f"uuid:{self.uuid.lower()}", f"uuid {self.uuid}"))
        if self.doi:
            keys += _doi_keys("doi", self.doi.strip().lower())
        for index, url in enumerate(self.urls):
            field = f"urls[{index}]"
            if doi := identifiers.doi_from_url(url):
                keys += _doi_keys(field, doi)
            else:
                keys += _record_keys(field, url)
                keys.append((3, field, f"url:{identifiers.normalise_url(url)}", f"URL {url}"))
        return keys


CODES = {0: "CAT043", 1: "CAT041", 2: "CAT042", 3: "CAT040"}


def _doi_keys(field: str, doi: str) -> list[tuple[int, str, str, str]]:
    return [(1, field, f"doi:{doi}", f"DOI {doi}"), *_record_keys(field, doi)]


def _record_keys(field: str, text: str) -> list[tuple[int, str, str, str]]:
    if record := identifiers.zenodo_record(text):
        return [(2, field, f"zenodo:{record}", f"Zenodo record {record}")]
    if article := identifiers.figshare_article(text):
        return [(2, field, f"figshare:{article}", f"figshare article {article}")]
    return []


class DuplicateIndex:
    """Every material of a catalogue, indexed by identifier and by normalised title."""

    def __init__(self, materials: list[Material]) -> None:
        self.materials = materials
        self.by_key: dict[str, list[Material]] = defaultdict(list)
        for material in materials:
            for key in {key for _, _, key, _ in material.keys()}:  # noqa: SIM118
                self.by_key[key].append(material)
        self.titles = [normalise_title(m.name) for m in materials]

    def findings_for(self, material: Material) -> list[ReviewFinding]:
        """One finding per other entry that duplicates ``material``, strongest reason first."""
        found: dict[str, ReviewFinding] = {}
        for priority, field, key, what in sorted(material.keys()):
            for other in self.by_key.get(key, ()):
                if other.id == material.id or other.id in found:
                    continue
                found[other.id] = error(
                    CODES[priority], field, f"{what} is already in the catalogue as "
                    f"`{other.id}` ({_short(other.name)})",
                    f"update `{other.id}` instead of adding a new entry, or remove this one",
                )  # fmt: skip
        title = normalise_title(material.name)
        if not title:
            return list(found.values())
        for _, score, position in process.extract(
            title, self.titles, scorer=fuzz.ratio, score_cutoff=TITLE_SIMILARITY, limit=None
        ):
            other = self.materials[position]
            if other.id == material.id or other.id in found:
                continue
            shared = material.surnames & other.surnames
            anonymous = not material.surnames or not other.surnames
            if shared or (anonymous and score == 100):
                who = f"shared authors: {', '.join(sorted(shared)[:3])}" if shared else ""
                found[other.id] = warning(
                    "CAT044", "name", f"title is near-identical to `{other.id}` "
                    f"({_short(other.name)}; {score:.0f}% similar{'; ' + who if who else ''})",
                    "if it is a new version of the same material, update that entry instead",
                )  # fmt: skip
        return list(found.values())


def normalise_title(title: str) -> str:
    """Case, accents, punctuation and spacing do not count."""
    text = unicodedata.normalize("NFKD", title.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _surnames(authors: list) -> set[str]:
    names = set()
    for author in authors:
        name = author.get("name") if isinstance(author, dict) else author
        if not isinstance(name, str) or name.strip().casefold() in NOT_NAMES:
            continue
        surname = name.split(",")[0] if "," in name else name.split()[-1] if name.split() else ""
        if key := normalise_title(surname):
            names.add(key)
    return names


def _short(name: str) -> str:
    return name if len(name) <= 70 else name[:67] + "..."
