"""Import the NFDI4BIOIMAGE training YAML (``resources: [...]``) into catalogue entries.

The community file has no schema. Every record is normalised into the catalogue schema and
every change is recorded, so a curator can review what the import did; a record that still
does not validate is rejected with its reasons, never silently dropped.
"""

from __future__ import annotations

import dataclasses
import datetime
import html
import re
import uuid as uuid_module
from collections import Counter
from pathlib import Path
from typing import Any

from fairio_tools.catalogue import normalise
from fairio_tools.catalogue.importing import Change, ImportResult, Rejection, unique_slug
from fairio_tools.catalogue.model import Author, Entry, validate_entry_data
from fairio_tools.errors import InputError
from fairio_tools.safe_yaml import load_yaml

DALIA_FLAG_TAGS = {"includeindalia": "include", "excludefromdalia": "exclude"}
"""Tags the community uses as export switches, not as subjects."""

PREFERRED_TAGS = {
    "nfdi4bioimage": "NFDI4BIOIMAGE",
    "neubias": "NEUBIAS",
    "imagej": "ImageJ",
    "cellprofiler": "CellProfiler",
    "github": "GitHub",
    "omero": "OMERO",
    "napari": "napari",
    "fairprinciples": "FAIR principles",
    "bioimageanalysis": "Bioimage Analysis",
}
"""Preferred spelling of tags the community writes several ways (by vocabulary key)."""

ORGANIZATION_WORDS = {
    "institute", "university", "universität", "consortium", "network", "society",
    "initiative", "center", "centre", "facility", "foundation", "nfdi", "tutorials", "team",
    "lab", "laboratory", "project", "euro-bioimaging",
}  # fmt: skip
"""Words that mark an author as an organisation (compared case-insensitively)."""

ORGANIZATION_ACRONYMS = {"ERIC", "de.NBI", "GloBIAS", "EMBL", "EMBL-EBI", "ELIXIR", "NEUBIAS"}
"""Acronyms that mark an author as an organisation (compared exactly: Eric is a person)."""

UNKNOWN_AUTHORS = {"unknown", "n/a", "na", "anonymous"}
DROPPED_KEYS = {"num_downloads": "download counts go stale and are not catalogue metadata"}
DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(10\.\d{4,9}/\S+)$", re.IGNORECASE)
ORCID_IN_TEXT = re.compile(r"^(?P<name>.*?)\s*\(?https?://orcid\.org/(?P<orcid>[0-9X-]{19})\)?$")
CHARACTER_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});", re.I)
"""An HTML character reference with its semicolon (``&uuml;``, ``&#252;``); URLs keep theirs."""
TEXT_KEYS = ("name", "description", "authors", "authors_with_orcid", "tags", "event_location")
_UUID_NAMESPACE = uuid_module.UUID("8f0b6c1e-2f39-4a0c-9c1e-7e7c2d8a5b11")

_FORMAT_TYPES = (
    ({".ppt", ".pptx", ".odp", ".key"}, "slides"),
    ({".ipynb"}, "notebook"),
    ({".mp4", ".mov", ".avi", ".webm", ".mkv"}, "video"),
    ({".pdf", ".odt", ".doc", ".docx", ".tex", ".md", ".txt", ".org"}, "document"),
)
_DATA_FORMATS = {
    ".zip", ".czi", ".nd2", ".tif", ".tiff", ".ome", ".dm4", ".obf", ".dng", ".am", ".lif",
    ".ims", ".csv", ".xlsx", ".xls", ".h5", ".zarr", ".png", ".jpg", ".jpeg", ".svg", ".3mf",
}  # fmt: skip


def import_nfdi4bioimage(path: str | Path) -> ImportResult:
    """Read and normalise an NFDI4BIOIMAGE training YAML file."""
    path = Path(path)
    document = load_yaml(path)
    records = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise InputError(
            "no 'resources' list",
            path=path,
            hint="expected the NFDI4BIOIMAGE training format: resources: [{name: ..., url: ...}]",
        )
    result = ImportResult(source=str(path), records=len(records))
    tag_spellings = _preferred_tag_spellings(records)
    used_ids: set[str] = set()
    seen: dict[tuple[str, str], str] = {}
    record_of: dict[str, int] = {}
    for index, record in enumerate(records):
        kept = len(result.entries)
        _import_record(index, record, tag_spellings, used_ids, seen, result)
        if len(result.entries) > kept:
            record_of[result.entries[-1].id] = index
    _merge_author_spellings(result, record_of)
    return result


def _decode_references(record: dict, change) -> dict:
    """The record with HTML character references in its text decoded ('D&uuml;sseldorf')."""

    def decode(value: Any) -> Any:
        if isinstance(value, str) and "&" in value:
            return CHARACTER_REFERENCE.sub(_decoded, value)
        if isinstance(value, list):
            return [decode(item) for item in value]
        return value

    decoded = dict(record)
    for key in TEXT_KEYS:
        if key in record and (value := decode(record[key])) != record[key]:
            decoded[key] = value
            change(key, "decoded", "HTML character references", None)
    return decoded


def _decoded(match: re.Match) -> str:
    return html.unescape(match[0]).replace("\xa0", " ")


def _merge_author_spellings(result: ImportResult, record_of: dict[str, int]) -> None:
    """One spelling per person: 'Haase Robert' and 'Robert Haase' become the most used one."""
    counts: dict[frozenset[str], Counter] = {}
    for entry in result.entries:
        for author in entry.authors:
            if not author.organization:
                counts.setdefault(_name_key(author.name), Counter())[author.name] += 1
    preferred = {
        key: counter.most_common(1)[0][0] for key, counter in counts.items() if len(counter) > 1
    }
    if not preferred:
        return
    for position, entry in enumerate(result.entries):
        authors: list[Author] = []
        for author in entry.authors:
            name = author.name if author.organization else preferred.get(_name_key(author.name))
            if name and name != author.name:
                result.changes.append(
                    Change(record_of[entry.id], entry.id, "authors", "merged", author.name, name)
                )
                author = dataclasses.replace(author, name=name)
            if all(other.name != author.name for other in authors):
                authors.append(author)
        if tuple(authors) != entry.authors:
            result.entries[position] = dataclasses.replace(entry, authors=tuple(authors))


def _name_key(name: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", name.casefold()))


def _import_record(
    index: int,
    record: Any,
    tag_spellings: dict[str, str],
    used_ids: set[str],
    seen: dict[tuple[str, str], str],
    result: ImportResult,
) -> None:
    if not isinstance(record, dict):
        result.rejected.append(Rejection(index, None, ("record is not a mapping",)))
        return
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        result.rejected.append(Rejection(index, None, ("no name",), _own_uuid(record)))
        return
    entry_id = unique_slug(name, record.get("uuid"), used_ids)
    changes: list[Change] = []
    problems: list[str] = []

    def change(field_name: str, action: str, before: Any = None, after: Any = None) -> None:
        changes.append(Change(index, entry_id, field_name, action, before, after))

    data = _normalise(record, tag_spellings, change, problems)
    if not problems:
        problems += [str(finding) for finding in validate_entry_data(data)]
    for key in ("uuid", "doi"):
        if not problems and data.get(key) and (key, data[key].lower()) in seen:
            problems.append(f"{key}: {data[key]} duplicates entry {seen[(key, data[key].lower())]}")
    if problems:
        result.rejected.append(Rejection(index, name.strip(), tuple(problems), _own_uuid(record)))
        return
    for key in ("uuid", "doi"):
        if data.get(key):
            seen[(key, data[key].lower())] = entry_id
    used_ids.add(entry_id)
    result.entries.append(Entry.from_dict(entry_id, data))
    result.changes += changes


def _own_uuid(record: dict) -> str | None:
    value = record.get("uuid")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _normalise(record: dict, tag_spellings: dict[str, str], change, problems) -> dict[str, Any]:
    """The record as schema data; notes every change and every unfixable problem."""
    data: dict[str, Any] = {}
    record = _decode_references(record, change)
    name = " ".join(record["name"].split())
    if name != record["name"]:
        change("name", "normalised", record["name"], name)
    data["name"] = name

    _import_uuid(record, data, change, problems)
    _import_urls(record, data, change, problems)
    tags = _import_tags(record, data, tag_spellings, change)
    _import_types(record, data, tags, change, problems)
    if tags:
        data["tags"] = tags
    _import_text(record, data, change)
    _import_authors(record, data, change)
    _import_license(record, data, change, problems)
    _import_language(record, data, change)
    _import_levels(record, data, change, problems)
    _import_dates(record, data, change, problems)
    _import_file_formats(record, data, change)
    event = {
        key: text
        for key in ("date", "location")
        if record.get(f"event_{key}") is not None and (text := str(record[f"event_{key}"]).strip())
    }
    if event:
        data["event"] = event
        change("event", "moved", {f"event_{k}": v for k, v in event.items()}, event)

    known = {
        "name", "uuid", "url", "doi", "type", "tags", "description", "authors",
        "authors_with_orcid", "license", "language", "proficiency_level", "publication_date",
        "publication date", "submission_date", "file_formats", "event_date", "event_location",
    }  # fmt: skip
    for key, value in record.items():
        if key in DROPPED_KEYS:
            change(key, "dropped", value, DROPPED_KEYS[key])
        elif key not in known:
            change(key, "dropped", value, "unknown key")
    return data


def _import_uuid(record: dict, data: dict, change, problems: list[str]) -> None:
    value = record.get("uuid")
    if value is None:
        generated = _uuid4_from(record["name"], record.get("url"))
        data["uuid"] = generated
        change("uuid", "generated", None, generated)
        return
    text = str(value).strip().lower()
    try:
        text = str(uuid_module.UUID(text))
    except ValueError:
        problems.append(f"uuid: {value!r} is not a UUID")
        return
    if text != value:
        change("uuid", "normalised", value, text)
    data["uuid"] = text


def _uuid4_from(name: str, url: Any) -> str:
    """A UUID in version-4 form (DALIA requires it) derived from the record: reimports agree."""
    digest = uuid_module.uuid5(_UUID_NAMESPACE, f"{name}\n{url}").bytes
    return str(uuid_module.UUID(bytes=digest, version=4))


def _import_urls(record: dict, data: dict, change, problems: list[str]) -> None:
    raw = record.get("url")
    values = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    if isinstance(raw, list):
        change("url", "renamed", "url", "urls")
    urls: list[str] = []
    for value in values:
        text = str(value).strip()
        doi = DOI_URL.match(text)
        if doi and "doi" not in data:
            data["doi"] = doi.group(1).rstrip("/")
            change("doi", "extracted", text, data["doi"])
            continue
        if text in urls:
            change("urls", "dropped", text, "duplicate")
            continue
        if text != value:
            change("urls", "normalised", value, text)
        urls.append(text)
    if record.get("doi"):
        doi_text = str(record["doi"]).strip()
        match = DOI_URL.match(doi_text)
        doi_text = match.group(1) if match else doi_text
        if data.get("doi", doi_text) != doi_text:
            problems.append(f"doi: {doi_text} differs from the DOI in url ({data['doi']})")
        data["doi"] = doi_text
    if urls:
        data["urls"] = urls
    elif "doi" not in data:
        problems.append("no url and no DOI")


def _import_tags(record: dict, data: dict, tag_spellings: dict[str, str], change) -> list[str]:
    raw = record.get("tags") or []
    tags: list[str] = []
    for value in raw if isinstance(raw, list) else [raw]:
        text = " ".join(str(value).split())
        key = normalise.vocabulary_key(text)
        if key in DALIA_FLAG_TAGS:
            data["dalia"] = DALIA_FLAG_TAGS[key]
            change("tags", "moved", text, f"dalia: {data['dalia']}")
            continue
        preferred = tag_spellings.get(key, text)
        if preferred != text:
            change("tags", "normalised", text, preferred)
        if preferred in tags:
            change("tags", "dropped", text, "duplicate")
            continue
        tags.append(preferred)
    return tags


def _import_types(record: dict, data: dict, tags: list[str], change, problems) -> None:
    raw = record.get("type")
    types: list[str] = []
    for value in raw if isinstance(raw, list) else ([] if raw is None else [raw]):
        try:
            term = normalise.resource_type(str(value))
        except ValueError as error:
            problems.append(f"type: {error}")
            continue
        if term != value:
            change("type", "normalised", value, term)
        if term not in types:
            types.append(term)
    for tag in list(tags):
        try:
            term = normalise.resource_type(tag)
        except ValueError:
            continue
        if term in ("workflow",):  # a subject as often as a type: keep the tag
            continue
        tags.remove(tag)
        if term in types:
            change("tags", "dropped", tag, f"repeats type {term}")
        else:
            types.append(term)
            change("type", "moved", f"tag {tag}", term)
    if not types and not problems:
        inferred, reason = _infer_type(record)
        if inferred is None:
            change("type", "missing", None, "kept without a type: a curator adds one (CAT007)")
            return
        types.append(inferred)
        change("type", "inferred", reason, inferred)
    if types:
        data["type"] = types


def _infer_type(record: dict) -> tuple[str | None, str]:
    """A type for a record without one, from its file formats or its URL."""
    formats = set(_split_formats(record.get("file_formats")))
    for extensions, term in _FORMAT_TYPES:
        if found := sorted(formats & extensions):
            return term, f"file formats {' '.join(found)}"
    if formats and formats <= _DATA_FORMATS:
        return "data", f"file formats {' '.join(sorted(formats))}"
    urls = record.get("url")
    for url in urls if isinstance(urls, list) else [urls]:
        text = str(url)
        if re.match(r"https?://(www\.)?github\.com/[^/]+/[^/]+", text):
            return "code-repository", f"URL {text}"
        if re.match(r"https?://(www\.)?(youtube\.com/watch|youtu\.be/)", text):
            return "video", f"URL {text}"
    return None, ""


def _import_text(record: dict, data: dict, change) -> None:
    value = record.get("description")
    if value is None:
        return
    text = str(value).strip()
    if not text:
        change("description", "dropped", value, "empty")
        return
    if text != value:
        change("description", "normalised", "surrounding whitespace", None)
    data["description"] = text


def _import_authors(record: dict, data: dict, change) -> None:
    raw = record.get("authors")
    names = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    if isinstance(raw, str):
        change("authors", "normalised", raw, [raw])
    orcids: dict[str, str] = {}
    extra: list[str] = []
    for item in record.get("authors_with_orcid") or []:
        match = ORCID_IN_TEXT.match(str(item).strip())
        if match:
            orcids[_display_name(match["name"])] = match["orcid"]
        else:
            extra.append(str(item).strip())
    shared = [o for o, n in Counter(orcids.values()).items() if n > 1]
    for orcid in shared:
        holders = sorted(name for name, value in orcids.items() if value == orcid)
        change("authors", "dropped", f"ORCID {orcid} of {', '.join(holders)}", "given to several")
    orcids = {name: orcid for name, orcid in orcids.items() if orcid not in shared}
    authors: list[dict[str, Any]] = []
    listed = set()
    for value in [*names, *orcids, *extra]:
        author_name = _display_name(str(value))
        if author_name != value:
            change("authors", "normalised", value, author_name)
        if author_name in listed:
            continue
        listed.add(author_name)
        if author_name.casefold() in UNKNOWN_AUTHORS:
            change("authors", "dropped", author_name, "placeholder, not an author")
            continue
        author: dict[str, Any] = {"name": author_name}
        if author_name in orcids:
            author["orcid"] = orcids[author_name]
            change("authors", "merged", f"{author_name} (authors_with_orcid)", author["orcid"])
        if _is_organization(author_name):
            author["organization"] = True
            change("authors", "inferred", author_name, "organization")
        if value not in names:
            change("authors", "merged", "authors_with_orcid", author_name)
        authors.append(author)
    if authors:
        data["authors"] = authors


def _display_name(text: str) -> str:
    """'Haase, Robert' → 'Robert Haase'; whitespace collapsed; organisations kept as written."""
    name = " ".join(text.split())
    family, comma, given = name.partition(", ")
    if comma and given and "," not in given and not _is_organization(name):
        return f"{given} {family}"
    return name


def _is_organization(name: str) -> bool:
    words = {word.strip(",()") for word in name.split()}
    return bool(words & ORGANIZATION_ACRONYMS) or any(
        word.casefold() in ORGANIZATION_WORDS or word.casefold().startswith("nfdi")
        for word in words
    )


def _import_license(record: dict, data: dict, change, problems: list[str]) -> None:
    value = record.get("license")
    if value is None:
        return
    try:
        found = normalise.license_ids(value)
    except ValueError as error:
        problems.append(f"license: {error}")
        return
    if not found:
        change("license", "dropped", value, "not known")
        return
    spdx: str | list[str] = found[0] if len(found) == 1 else found
    if spdx != value:
        change("license", "normalised", value, spdx)
    data["license"] = spdx


STOP_WORDS = {
    "en": frozenset(re.findall(r"\w+", "the and of to in for with is are on this how from an by")),
    "de": frozenset(re.findall(r"\w+", "der die das und zu mit für von ist ein eine im den des")),
}
"""Common words by language: what infers the language of a record that names none."""


def _infer_language(record: dict) -> str | None:
    """The language most of the title's and description's common words belong to, if clear."""
    text = f"{record.get('name') or ''} {record.get('description') or ''}"
    words = re.findall(r"\w+", text.casefold())
    hits = {code: sum(word in common for word in words) for code, common in STOP_WORDS.items()}
    (best, most), (_, second) = sorted(hits.items(), key=lambda kv: -kv[1])[:2]
    return best if most >= 2 and most >= 3 * second else None


def _import_language(record: dict, data: dict, change) -> None:
    raw = record.get("language")
    if raw is None:
        if inferred := _infer_language(record):
            data["language"] = [inferred]
            change("language", "inferred", "common words of title and description", inferred)
        return
    codes = []
    for value in raw if isinstance(raw, list) else str(raw).replace(",", " ").split():
        code = str(value).strip().lower()
        if code and code not in codes:
            codes.append(code)
    if codes != raw:
        change("language", "normalised", raw, codes)
    if codes:
        data["language"] = codes


def _import_levels(record: dict, data: dict, change, problems: list[str]) -> None:
    raw = record.get("proficiency_level")
    if raw is None:
        return
    found = []
    for value in raw if isinstance(raw, list) else [raw]:
        try:
            term = normalise.level(str(value))
        except ValueError as error:
            problems.append(f"proficiency_level: {error}")
            continue
        found.append(term)
    change("proficiency_level", "renamed", raw, found)
    if found:
        data["levels"] = list(dict.fromkeys(found))


def _import_dates(record: dict, data: dict, change, problems: list[str]) -> None:
    for source, target in (
        ("publication_date", "publication_date"),
        ("publication date", "publication_date"),
        ("submission_date", "submission_date"),
    ):
        value = record.get(source)
        if value is None:
            continue
        if source != target:
            change(target, "moved", source, target)
        if target in data:
            problems.append(f"{target}: given twice ({source!r} and {target!r})")
            continue
        if str(value).strip().casefold() in {"unknown", "n/a", ""}:
            change(target, "dropped", value, "not known")
            continue
        text = _date_text(value)
        if text is None:
            problems.append(f"{source}: {value!r} is not a date")
            continue
        if text != value:
            change(target, "normalised", value, text)
        data[target] = text


def _date_text(value: Any) -> str | None:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).strip()
    match = re.match(r"^(\d{4})(-\d{2})?(-\d{2})?(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$", text)
    return "".join(part for part in match.groups() if part) if match else None


def _import_file_formats(record: dict, data: dict, change) -> None:
    raw = record.get("file_formats")
    if raw is None:
        return
    formats = list(dict.fromkeys(_split_formats(raw)))
    if formats != raw:
        change("file_formats", "split", raw, formats)
    if formats:
        data["file_formats"] = formats


def _split_formats(raw: Any) -> list[str]:
    if raw is None:
        return []
    values = raw if isinstance(raw, list) else str(raw).split("*")
    return ["." + text.lstrip(".").lower() for value in values if (text := str(value).strip())]


def _preferred_tag_spellings(records: list) -> dict[str, str]:
    """Per vocabulary key, the curated spelling or else the most used one (first wins ties)."""
    counts: dict[str, Counter] = {}
    for record in records:
        tags = record.get("tags") if isinstance(record, dict) else None
        for tag in tags if isinstance(tags, list) else []:
            text = " ".join(str(tag).split())
            counts.setdefault(normalise.vocabulary_key(text), Counter())[text] += 1
    spellings = {key: counter.most_common(1)[0][0] for key, counter in counts.items()}
    spellings.update(PREFERRED_TAGS)
    return spellings
