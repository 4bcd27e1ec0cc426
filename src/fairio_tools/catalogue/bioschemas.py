"""Bioschemas TrainingMaterial JSON-LD: entries out, harvested records (TeSS-style) in.

The context is written inline (``@vocab`` schema.org) rather than as the remote
``https://schema.org/`` document, so every consumer can read it offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fairio_tools.catalogue import normalise
from fairio_tools.catalogue.importing import Change, ImportResult, Rejection, unique_slug
from fairio_tools.catalogue.model import (
    DOI_RESOLVER,
    ORCID_RESOLVER,
    Entry,
    levels,
    resource_types,
    validate_entry_data,
)
from fairio_tools.safe_json import load_json

PROFILE = "https://bioschemas.org/profiles/TrainingMaterial/1.0-RELEASE"
CONTEXT = {"@vocab": "https://schema.org/", "dct": "http://purl.org/dc/terms/"}
SPDX_URL = "https://spdx.org/licenses/"
MAX_JSONLD_BYTES = 8 * 1024 * 1024
"""Larger JSON-LD files are refused unread, like YAML (``safe_yaml.MAX_YAML_BYTES``)."""


def entry_to_jsonld(entry: Entry, *, context: bool = True) -> dict[str, Any]:
    """One entry as a Bioschemas TrainingMaterial (LearningResource) node."""
    vocabulary = resource_types()
    node: dict[str, Any] = {}
    if context:
        node["@context"] = CONTEXT
    node |= {
        "@type": "LearningResource",
        "@id": entry.link,
        "dct:conformsTo": {"@id": PROFILE},
        "name": entry.name,
        "description": entry.description or derived_description(entry),
        "keywords": ", ".join(entry.tags or entry.type_labels or ("training material",)),
        "url": entry.link,
    }
    if entry.type:
        node["learningResourceType"] = [vocabulary[t].label for t in entry.type]
    if entry.doi:
        node["identifier"] = f"{DOI_RESOLVER}{entry.doi}"
    if len(entry.links) > 1:
        node["sameAs"] = [link for link in entry.links if link != entry.link]
    if entry.authors:
        node["author"] = [_author(author) for author in entry.authors]
    licenses = [_license(spdx) for spdx in entry.licenses]
    if licenses:
        node["license"] = licenses[0] if len(licenses) == 1 else licenses
    if entry.language:
        node["inLanguage"] = list(entry.language)
    if entry.levels:  # one value in the profile: several levels as one range
        node["educationalLevel"] = LEVEL_SEPARATOR.join(levels()[lv] for lv in entry.levels)
    if entry.audience:
        node["audience"] = [{"@type": "Audience", "audienceType": a} for a in entry.audience]
    if entry.learning_outcomes:
        node["teaches"] = list(entry.learning_outcomes)
    if entry.publication_date and len(entry.publication_date) == len("2024-01-31"):
        node["datePublished"] = entry.publication_date
    elif entry.publication_date:  # the profile's datePublished is a full date
        node["copyrightYear"] = int(entry.publication_date[:4])
    if entry.file_formats:
        node["encodingFormat"] = list(entry.file_formats)
    return node


def catalogue_to_jsonld(entries: list[Entry]) -> dict[str, Any]:
    """All entries as one JSON-LD document with a ``@graph``."""
    return {"@context": CONTEXT, "@graph": [entry_to_jsonld(e, context=False) for e in entries]}


def script_json(data: Any) -> str:
    """JSON safe to place inside ``<script type="application/ld+json">``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def import_bioschemas(path: str | Path) -> ImportResult:
    """Read Bioschemas TrainingMaterial / LearningResource records from a JSON-LD file."""
    path = Path(path)
    document = load_json(path, MAX_JSONLD_BYTES)
    nodes = _nodes(document)
    result = ImportResult(source=str(path), records=len(nodes))
    used: set[str] = set()
    for index, node in enumerate(nodes):
        name = _text(node.get("name"))
        if not name:
            result.rejected.append(Rejection(index, None, ("no name",)))
            continue
        entry_id = unique_slug(name, None, used)
        changes: list[Change] = []
        problems: list[str] = []
        data = _entry_data(node, name, problems, changes, index, entry_id)
        if not problems:
            problems = [str(finding) for finding in validate_entry_data(data)]
        if problems:
            result.rejected.append(Rejection(index, name, tuple(problems)))
            continue
        used.add(entry_id)
        result.entries.append(Entry.from_dict(entry_id, data))
        result.changes += changes
    return result


DERIVED_PREFIX = "Catalogue record, no description given: "
"""Starts the description the profile requires when the material gives none: never passed off
as the authors' own words."""
LEVEL_SEPARATOR = ", "


def derived_description(entry: Entry) -> str:
    """A description the profile requires, marked as derived from the record's own fields."""
    kinds = " and ".join(label.lower() for label in entry.type_labels) or "material"
    about = f" tagged {', '.join(entry.tags)}" if entry.tags else ""
    return f"{DERIVED_PREFIX}{kinds}{about}."


def _license(spdx: str) -> str | dict[str, str]:
    """An SPDX licence URL; LicenseRef-* (no URL) as a named CreativeWork."""
    if spdx.startswith("LicenseRef-"):
        label = spdx.removeprefix("LicenseRef-").replace("-", " ").capitalize()
        return {"@type": "CreativeWork", "name": label, "identifier": spdx}
    return f"{SPDX_URL}{spdx}"


def _author(author) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@type": "Organization" if author.organization else "Person",
        "name": author.name,
    }
    if author.orcid:
        node["@id"] = author.orcid_url
    return node


def _nodes(document: Any) -> list[dict[str, Any]]:
    """The LearningResource nodes of a document (object, list or @graph)."""
    if isinstance(document, dict) and "@graph" in document:
        document = document["@graph"]
    items = document if isinstance(document, list) else [document]
    nodes = []
    for item in items:
        if not isinstance(item, dict):
            continue
        types = item.get("@type")
        types = types if isinstance(types, list) else [types]
        if {"LearningResource", "TrainingMaterial", "CreativeWork"} & {
            str(t).rsplit("/", 1)[-1] for t in types
        }:
            nodes.append(item)
    return nodes


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("@value")
    if isinstance(value, list):
        value = value[0] if value else None
    return " ".join(str(value).split()) if value not in (None, "") else None


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _entry_data(
    node: dict, name: str, problems: list[str], changes: list[Change], index: int, entry_id: str
) -> dict[str, Any]:
    def change(field: str, action: str, before: Any, after: Any) -> None:
        changes.append(Change(index, entry_id, field, action, before, after))

    data: dict[str, Any] = {"name": name}
    urls = [str(u) for key in ("url", "sameAs") for u in _values(node.get(key)) if u]
    for identifier in [*_values(node.get("identifier")), node.get("@id")]:
        text = _text(identifier) or ""
        if text.startswith(DOI_RESOLVER) or text.startswith("10."):
            data["doi"] = text.removeprefix(DOI_RESOLVER)
            break
    doi_url = f"{DOI_RESOLVER}{data['doi']}" if "doi" in data else None
    urls = list(dict.fromkeys(u for u in urls if u != doi_url))
    if urls:
        data["urls"] = urls
    description = node.get("description")
    if _text(description):
        data["description"] = str(_values(description)[0]).strip()
    keywords = node.get("keywords")
    tags = [
        k.strip()
        for value in _values(keywords)
        for k in (str(value).split(",") if isinstance(value, str) else [_text(value) or ""])
        if k.strip()
    ]
    types = []
    for value in _values(node.get("learningResourceType")):
        try:
            term = normalise.resource_type(_text(value) or "")
        except ValueError:
            change("type", "dropped", value, "not in the vocabulary")
            continue
        if term not in types:
            types.append(term)
    if types:
        data["type"] = types
    else:
        change("type", "missing", None, "kept without a type: a curator adds one (CAT007)")
    if tags:
        data["tags"] = list(dict.fromkeys(tags))
    authors = []
    for author in _values(node.get("author")) + _values(node.get("creator")):
        if isinstance(author, str):
            authors.append({"name": author})
            continue
        entry: dict[str, Any] = {"name": _text(author.get("name")) or ""}
        orcid = str(author.get("@id") or author.get("identifier") or "")
        if orcid.startswith(ORCID_RESOLVER):
            entry["orcid"] = orcid.removeprefix(ORCID_RESOLVER)
        if "Organization" in str(author.get("@type")):
            entry["organization"] = True
        authors.append(entry)
    if authors:
        data["authors"] = authors
    spellings = [
        (value.get("identifier") if isinstance(value, dict) else None)
        or (_text(value) or "").removeprefix(SPDX_URL).removesuffix(".html")
        for value in _values(node.get("license"))
    ]
    try:
        licenses = normalise.license_ids([s for s in spellings if s])
    except ValueError as error:
        problems.append(f"license: {error}")
    else:
        if licenses:
            data["license"] = licenses[0] if len(licenses) == 1 else licenses
    languages = [str(v).lower()[:2] for v in _values(node.get("inLanguage"))]
    if languages:
        data["language"] = list(dict.fromkeys(languages))
    found_levels = []
    for value in _values(node.get("educationalLevel")):
        for part in (_text(value) or "").split(LEVEL_SEPARATOR):
            try:
                found_levels.append(normalise.level(part))
            except ValueError:
                change("levels", "dropped", part, "not a Dreyfus level")
    if found_levels:
        data["levels"] = list(dict.fromkeys(found_levels))
    outcomes = [_text(v) for v in _values(node.get("teaches")) if _text(v)]
    if outcomes:
        data["learning_outcomes"] = outcomes
    date = _text(node.get("datePublished"))
    if date:
        data["publication_date"] = date[:10]
    elif isinstance(node.get("copyrightYear"), int):
        data["publication_date"] = f"{node['copyrightYear']:04d}"
    return data
