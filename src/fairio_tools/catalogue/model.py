"""The catalogue entry: its JSON Schema (the one source of truth), vocabularies and typed form.

``schema.json`` beside this module defines what an entry is. Everything else here is read
from it: the controlled type vocabulary with its schema.org / HCRT / DALIA mappings, the
Dreyfus levels and the SPDX identifiers. Validation returns findings; it never raises.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 80
DOI_RESOLVER = "https://doi.org/"
ORCID_RESOLVER = "https://orcid.org/"

FIELD_ORDER = (
    "name", "uuid", "doi", "urls", "type", "description", "authors", "license", "language",
    "levels", "tags", "audience", "learning_outcomes", "publication_date", "submission_date",
    "file_formats", "event", "related_tools", "dalia",
)  # fmt: skip
"""Order of keys in an entry file: what a reviewer reads first comes first."""


@cache
def schema() -> dict[str, Any]:
    """The catalogue entry JSON Schema shipped with the package."""
    text = resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class ResourceType:
    """One term of the controlled type vocabulary and what it maps to."""

    term: str
    label: str
    schema_org: str
    hcrt: str
    dalia_learning_resource_type: str | None
    dalia_media_type: str | None


@cache
def resource_types() -> dict[str, ResourceType]:
    """The controlled type vocabulary, term → mapping, in schema order."""
    definition = schema()["$defs"]["resource_type"]
    mappings = definition["x-vocabulary"]
    return {
        term: ResourceType(
            term=term,
            label=mappings[term]["title"],
            schema_org=mappings[term]["x-schema-org"],
            hcrt=mappings[term]["x-hcrt"],
            dalia_learning_resource_type=mappings[term].get("x-dalia-learning-resource-type"),
            dalia_media_type=mappings[term].get("x-dalia-media-type"),
        )
        for term in definition["enum"]
    }


@cache
def levels() -> dict[str, str]:
    """Dreyfus proficiency levels, term → label, from novice to expert."""
    definition = schema()["$defs"]["level"]
    return {term: definition["x-labels"][term] for term in definition["enum"]}


@cache
def spdx_ids() -> tuple[str, ...]:
    """SPDX licence identifiers the schema accepts (besides ``LicenseRef-*``)."""
    return tuple(schema()["$defs"]["spdx_id"]["enum"])


@dataclass(frozen=True)
class Author:
    """A person or organisation credited for a material."""

    name: str
    orcid: str | None = None
    organization: bool = False

    @property
    def orcid_url(self) -> str | None:
        return f"{ORCID_RESOLVER}{self.orcid}" if self.orcid else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.orcid:
            data["orcid"] = self.orcid
        if self.organization:
            data["organization"] = True
        return data


@dataclass(frozen=True)
class Entry:
    """One valid catalogue entry; ``id`` is its file name without ``.yml``."""

    id: str
    name: str
    type: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    doi: str | None = None
    uuid: str | None = None
    description: str | None = None
    authors: tuple[Author, ...] = ()
    license: str | tuple[str, ...] | None = None
    """One SPDX id (or LicenseRef-*), or several when parts come under different licences."""
    language: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    learning_outcomes: tuple[str, ...] = ()
    publication_date: str | None = None
    submission_date: str | None = None
    file_formats: tuple[str, ...] = ()
    event: dict[str, str] = field(default_factory=dict)
    related_tools: tuple[str, ...] = ()
    dalia: str | None = None

    @property
    def link(self) -> str:
        """The preferred link: the DOI when there is one, else the first URL."""
        return f"{DOI_RESOLVER}{self.doi}" if self.doi else self.urls[0]

    @property
    def links(self) -> tuple[str, ...]:
        """Every link, DOI first."""
        return ((f"{DOI_RESOLVER}{self.doi}",) if self.doi else ()) + self.urls

    @property
    def licenses(self) -> tuple[str, ...]:
        """Every licence of the material (none, one or several)."""
        if self.license is None:
            return ()
        return (self.license,) if isinstance(self.license, str) else self.license

    @property
    def type_labels(self) -> tuple[str, ...]:
        vocabulary = resource_types()
        return tuple(vocabulary[term].label for term in self.type)

    @classmethod
    def from_dict(cls, entry_id: str, data: dict[str, Any]) -> Entry:
        """Build an entry from schema-valid data (validate with :func:`validate_entry_data`)."""
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "authors":
                value = tuple(Author(**author) for author in value)
            elif key == "event":
                value = dict(value)
            elif isinstance(value, list):
                value = tuple(value)
            values[key] = value
        return cls(id=entry_id, **values)

    def to_dict(self) -> dict[str, Any]:
        """The entry as stored: schema keys in :data:`FIELD_ORDER`, empty values left out."""
        data: dict[str, Any] = {}
        for key in FIELD_ORDER:
            value = getattr(self, key)
            if key == "authors":
                value = [author.to_dict() for author in value]
            elif isinstance(value, tuple):
                value = list(value)
            if value not in (None, [], {}):
                data[key] = value
        return data


@dataclass(frozen=True)
class Finding:
    """One problem with one entry: which field, what is wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def normalise_yaml_values(data: dict[str, Any]) -> dict[str, Any]:
    """Turn YAML's implicit dates (``publication_date: 2024-01-02``) back into strings."""
    return {
        key: value.isoformat() if isinstance(value, datetime.date) else value
        for key, value in data.items()
    }


def validate_entry_data(data: Any) -> list[Finding]:
    """Check ``data`` against the schema; an empty list means valid."""
    import jsonschema

    if not isinstance(data, dict):
        return [Finding("", f"an entry must be a mapping, not {type(data).__name__}")]
    validator = _validator()
    findings = [
        Finding(_field_path(error.absolute_path), _message(error))
        for error in sorted(validator.iter_errors(data), key=jsonschema.exceptions.relevance)
    ]
    return sorted(set(findings), key=lambda f: (f.field, f.message))


def validate_slug(entry_id: str) -> Finding | None:
    """Check an entry identifier (file name without ``.yml``)."""
    if len(entry_id) > SLUG_MAX_LENGTH or not SLUG_PATTERN.fullmatch(entry_id):
        return Finding(
            "",
            f"file name {entry_id!r} is not a slug: use lower-case letters, digits and "
            f"single hyphens, at most {SLUG_MAX_LENGTH} characters",
        )
    return None


@cache
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def _field_path(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _message(error) -> str:
    """A message a curator can act on, naming the allowed values for vocabularies."""
    if error.validator == "enum" and error.schema is schema()["$defs"]["resource_type"]:
        return f"{error.instance!r} is not a catalogue type; use one of: " + ", ".join(
            resource_types()
        )
    if error.validator == "enum" and error.schema is schema()["$defs"]["level"]:
        return f"{error.instance!r} is not a Dreyfus level; use one of: " + ", ".join(levels())
    if error.validator == "anyOf" and error.schema is schema()["properties"]["license"]:
        return (
            f"{error.instance!r} is not an SPDX licence identifier (https://spdx.org/licenses/) "
            "nor LicenseRef-<name>"
        )
    if error.validator == "anyOf" and not error.absolute_path:
        return "give at least one of 'urls' or 'doi'"
    if error.validator == "pattern" and error.schema is schema()["$defs"]["http_url"]:
        return f"{error.instance!r} is not an http(s) URL"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are", "unknown keys are").replace(
            "Additional properties is", "unknown key is"
        )
    return error.message
