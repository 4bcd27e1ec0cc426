"""The study metadata model: sections, fields and per-profile tiers, read from ``profiles.yaml``.

``profiles.yaml`` is the one place where the profiles are written. The validator, the SHACL
shapes, the templates and the RDF mapping all read this model; none restates a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from fairio_tools.namespaces import NAMESPACES
from fairio_tools.safe_yaml import parse_yaml

REQUIRED = "required"
RECOMMENDED = "recommended"
TIERS = (REQUIRED, RECOMMENDED)
FIELD_TYPES = ("text", "date", "curie")


CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*):(\S+)$")


@dataclass(frozen=True)
class Field:
    """One metadata field: what it means, an example, its type and its tier per profile."""

    section: str
    name: str
    description: str
    example: Any
    type: str
    predicate: str
    tiers: tuple[tuple[str, str], ...]
    multiple: bool = False
    pattern: str | None = None
    ontologies: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    def tier(self, profile: str) -> str | None:
        return dict(self.tiers).get(profile)

    def example_text(self) -> str:
        if isinstance(self.example, list):
            return "[" + ", ".join(str(v) for v in self.example) + "]"
        return str(self.example)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    rdf_class: str
    link: str | None
    """Predicate from the study to this section (None for the study itself)."""
    fields: tuple[Field, ...]

    def in_profile(self, profile: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.tier(profile))


@dataclass(frozen=True)
class Model:
    vocabulary: str
    prefixes: dict[str, str]
    """Ontology prefixes recognised offline, with the namespace each CURIE expands into."""
    profiles: dict[str, dict[str, str]]
    sections: tuple[Section, ...]

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)

    def check_profile(self, profile: str) -> None:
        if profile not in self.profiles:
            from fairio_tools.errors import InputError

            raise InputError(
                f"unknown profile {profile!r}", hint=f"use one of {', '.join(self.profiles)}"
            )

    def iri(self, term: str) -> str:
        """Expand a model term (``schema:name``, ``fairio:Biosample``) into an IRI."""
        prefix, _, local = term.partition(":")
        if prefix == "fairio":
            return self.vocabulary + local
        return NAMESPACES[prefix] + local


def _resolve_tiers(raw: dict[str, str], profiles: dict[str, dict]) -> tuple[tuple[str, str], ...]:
    """Tier of the field in every profile: the most specific profile in a chain wins."""
    resolved = []
    for profile in profiles:
        chain, current = [], profile
        while current:
            chain.append(current)
            current = profiles[current].get("extends")
        tier = next((raw[p] for p in chain if p in raw), None)
        if tier:
            resolved.append((profile, tier))
    return tuple(resolved)


@cache
def load_model() -> Model:
    text = files("fairio_tools.metadata").joinpath("profiles.yaml").read_text(encoding="utf-8")
    data = parse_yaml(text, "profiles.yaml")
    profiles = data["profiles"]
    sections = []
    for name, section in data["sections"].items():
        fields = []
        for field_name, spec in section["fields"].items():
            tiers = spec.get("tiers", {})
            assert set(tiers) <= set(profiles) and set(tiers.values()) <= set(TIERS), field_name
            assert spec["type"] in FIELD_TYPES, field_name
            fields.append(
                Field(
                    section=name,
                    name=field_name,
                    description=spec["description"],
                    example=spec["example"],
                    type=spec["type"],
                    predicate=spec["predicate"],
                    tiers=_resolve_tiers(tiers, profiles),
                    multiple=spec.get("multiple", False),
                    pattern=spec.get("pattern"),
                    ontologies=tuple(spec.get("ontologies", ())),
                )
            )
        predicates = [f.predicate for f in fields]
        assert len(set(predicates)) == len(predicates), f"{name}: a predicate is used twice"
        sections.append(
            Section(name, section["title"], section["class"], section.get("link"), tuple(fields))
        )
    return Model(data["vocabulary"], data["prefixes"], profiles, tuple(sections))
