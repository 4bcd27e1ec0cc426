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

    def identifier_keys(self) -> list[tuple[int, str, str, str]]:
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
    """Every material of a catalogue, indexed by identifier and by normalised title.

    Materials that share an identifier, directly or through another one, form a cluster:
    four entries with one link are one cluster, reported once, not six pairs.
    """

    def __init__(self, materials: list[Material]) -> None:
        self.materials = materials
        self.by_key: dict[str, list[Material]] = defaultdict(list)
        for material in materials:
            for key in {key for _, _, key, _ in material.identifier_keys()}:
                self.by_key[key].append(material)
        self.titles = [normalise_title(m.name) for m in materials]
        self._root = {m.id: m.id for m in materials}
        for members in self.by_key.values():
            for other in members[1:]:
                self._join(members[0].id, other.id)
        self._clusters: dict[str, list[Material]] = defaultdict(list)
        for material in sorted(materials, key=lambda m: m.id):
            self._clusters[self._find(material.id)].append(material)

    def _find(self, entry_id: str) -> str:
        while self._root[entry_id] != entry_id:
            self._root[entry_id] = self._root[self._root[entry_id]]
            entry_id = self._root[entry_id]
        return entry_id

    def _join(self, a: str, b: str) -> None:
        self._root[self._find(a)] = self._find(b)

    def cluster(self, material: Material) -> list[Material]:
        """Every material sharing an identifier with ``material`` (transitively), by id."""
        return self._clusters[self._find(material.id)]

    def cluster_finding(self, material: Material) -> ReviewFinding | None:
        """One error naming every other member of ``material``'s cluster, strongest reason."""
        others = [m for m in self.cluster(material) if m.id != material.id]
        if not others:
            return None
        ids = {m.id for m in others}
        shared = [
            (priority, field, what)
            for priority, field, key, what in material.identifier_keys()
            if any(m.id in ids for m in self.by_key.get(key, ()))
        ]
        priority, field, what = min(shared) if shared else (3, "", "an identifier")
        names = ", ".join(f"`{m.id}` ({_short(m.name)})" for m in others)
        return error(
            CODES[priority], field, f"{what} is already in the catalogue: same material as "
            f"{names}", "keep one entry per material: update the existing entry instead of "
            "adding one, or remove the copies",
        )  # fmt: skip

    def similar_titles(self, material: Material, exclude: set[str]) -> ReviewFinding | None:
        """One warning naming the entries with a near-identical title and a shared author."""
        title = normalise_title(material.name)
        if not title:
            return None
        similar = []
        for _, score, position in process.extract(
            title, self.titles, scorer=fuzz.ratio, score_cutoff=TITLE_SIMILARITY, limit=None
        ):
            other = self.materials[position]
            if other.id == material.id or other.id in exclude:
                continue
            shared = material.surnames & other.surnames
            anonymous = not material.surnames or not other.surnames
            if shared or (anonymous and score == 100):
                who = f"; shared authors: {', '.join(sorted(shared)[:3])}" if shared else ""
                similar.append((other.id, f"`{other.id}` ({_short(other.name)}; "
                                          f"{score:.0f}% similar{who})"))  # fmt: skip
        if not similar:
            return None
        return warning(
            "CAT044", "name", "title is near-identical to "
            + ", ".join(text for _, text in sorted(similar)),
            "if it is a new version of the same material, update that entry instead",
        )  # fmt: skip


def version_groups(materials: list[Material]) -> list[list[Material]]:
    """Materials that are versions or copies of one material, groups of two or more by id.

    One group: a shared identifier (transitively, as :class:`DuplicateIndex` clusters), or
    the same normalised title and a shared author. Stricter than the near-identical-title
    warning: the portal's search shows one result per group, so a wrong group hides a material.
    """
    index = DuplicateIndex(materials)
    root = {m.id: index.cluster(m)[0].id for m in materials}

    def find(entry_id: str) -> str:
        while root[entry_id] != entry_id:
            entry_id = root[entry_id]
        return entry_id

    by_title: dict[str, list[Material]] = defaultdict(list)
    for material, title in zip(materials, index.titles, strict=True):
        if title:
            by_title[title].append(material)
    for same in by_title.values():
        for position, material in enumerate(same):
            for other in same[:position]:
                if material.surnames & other.surnames:
                    a, b = sorted((find(material.id), find(other.id)))
                    root[b] = a
    groups: dict[str, list[Material]] = defaultdict(list)
    for material in sorted(materials, key=lambda m: m.id):
        groups[find(material.id)].append(material)
    return [group for group in groups.values() if len(group) > 1]


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
