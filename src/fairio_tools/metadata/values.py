"""How a value written in a metadata file becomes a typed term (shared by report and RDF)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from fairio_tools.metadata.model import CURIE, Field, Model

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Term:
    """A value as RDF will hold it: ``kind`` is "string", "date", "iri" or "structure"."""

    kind: str
    text: str
    """The value as written (a CURIE stays a CURIE)."""
    iri: str = ""
    """For kind "iri": the CURIE expanded with its ontology's namespace."""


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def values_of(value: Any) -> list[Any]:
    """The non-empty values given for a field (a single value or a list of them)."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if not is_empty(v) and not (isinstance(v, str) and not v.strip())]


def to_term(field: Field, value: Any, model: Model) -> Term:
    if isinstance(value, dict | list):
        return Term("structure", "")
    if isinstance(value, date):  # datetime is a date too
        text = value.isoformat()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value).strip()
    if field.type == "date":
        return Term("date" if _is_iso_date(text) else "string", text)
    if field.type == "curie":
        match = CURIE.match(text)
        if match and match.group(1) in model.prefixes:
            return Term("iri", text, model.prefixes[match.group(1)] + match.group(2))
    return Term("string", text)


def _is_iso_date(text: str) -> bool:
    if not _ISO_DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
