"""Which materials relate to a tool, a workflow or another material: the materials that name
the tool, then shared *rare* terms (tags, and words of a material's name), weighted by rarity
(inverse document frequency). A term that more than :data:`COMMON` of the entries carry, as a
tag or in their name, tags or description, relates nothing: sharing "Imaging" with hundreds
of materials makes no two of them related.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Set

from fairio_tools.catalogue.model import Entry

COMMON = 0.10
"""The share of entries above which a tag or name word is too common to relate anything."""


def tags_of(entry: Entry) -> set[str]:
    return {tag.casefold() for tag in entry.tags}


def name_words(entry: Entry) -> set[str]:
    return _words(entry.name)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9][a-z0-9-]+", text.casefold()))


class Rarity:
    """How many entries carry each term, as a tag or as words of their text."""

    def __init__(self, entries: list[Entry]) -> None:
        self.total = len(entries)
        self.tags = Counter(tag for entry in entries for tag in tags_of(entry))
        self.words = Counter(
            word
            for entry in entries
            for word in _words(" ".join([entry.name, *entry.tags, entry.description or ""]))
        )

    def count(self, term: str) -> int:
        """Entries with ``term`` as a tag, or at most as many as hold its rarest word."""
        words = _words(term)
        return max(self.tags[term], min((self.words[w] for w in words), default=0))

    def rare(self, term: str) -> bool:
        """Whether at most :data:`COMMON` of the entries (or two) carry ``term``."""
        return 0 < self.count(term) <= max(COMMON * self.total, 2)

    def weight(self, term: str) -> float:
        """The inverse document frequency of a rare term; 0 for a common one."""
        return math.log(self.total / self.count(term)) if self.rare(term) else 0.0


def related_materials(
    tool_ids: Set[str], keywords: Set[str], entries: list[Entry], rarity: Rarity, limit: int = 8
) -> list[Entry]:
    """Materials that name a tool of ``tool_ids`` in ``related_tools`` first, then materials
    sharing a rare tag or two rare name words with ``keywords``, the rarest shared first."""
    scored = []
    for entry in entries:
        explicit = bool(tool_ids & set(entry.related_tools))
        tags = {t for t in keywords & tags_of(entry) if rarity.rare(t)}
        words = {w for w in keywords & name_words(entry) if rarity.rare(w)}
        if explicit or 2 * len(tags) + len(words) >= 2:
            weight = sum(2 * rarity.weight(t) for t in tags) + sum(rarity.weight(w) for w in words)
            scored.append((not explicit, -weight, entry.name.casefold(), entry))
    return [item[-1] for item in sorted(scored, key=lambda s: s[:3])[:limit]]


def similar_materials(
    entries: list[Entry], rarity: Rarity, versions: Mapping[str, Set[str]], limit: int = 5
) -> dict[str, list[Entry]]:
    """For each entry, the materials sharing a rare tag or two rare name words with it, the
    rarest shared first (by the rule of :func:`related_materials`); an entry's own versions
    (``versions``: id -> ids of its group) are listed with it elsewhere, not here."""
    by_tag: dict[str, list[Entry]] = defaultdict(list)
    by_word: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        for tag in tags_of(entry):
            if rarity.rare(tag):
                by_tag[tag].append(entry)
        for word in name_words(entry):
            if rarity.rare(word):
                by_word[word].append(entry)
    found = {}
    for entry in entries:
        shared: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # id -> [points, weight]
        others: dict[str, Entry] = {}
        for terms, index, points in ((tags_of(entry), by_tag, 2), (name_words(entry), by_word, 1)):
            for term in terms:
                for other in index.get(term, ()):
                    score = shared[other.id]
                    score[0] += points
                    score[1] += points * rarity.weight(term)
                    others[other.id] = other
        skip = {entry.id, *versions.get(entry.id, ())}
        ranked = sorted(
            (-weight, others[i].name.casefold(), i)
            for i, (points, weight) in shared.items()
            if points >= 2 and i not in skip
        )
        found[entry.id] = [others[i] for _, _, i in ranked[:limit]]
    return found
