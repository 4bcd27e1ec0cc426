"""List and check a FAIR Image Object crate (a folder or a zip), offline.

Checks the RO-Crate 1.1+ essentials (metadata descriptor, root data entity, data entities
present), parses the metadata as RDF with rdflib using the RO-Crate context shipped with
``rocrate`` (no network), and the bundle's own promises: every OME-Zarr store has an NGFF
check report, every recorded tool run names a tool with a version.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from fairio_tools.confined import files_inside, read_inside
from fairio_tools.errors import InputError
from fairio_tools.safe_json import parse_json

METADATA = "ro-crate-metadata.json"
ACTION_TYPES = {"CreateAction", "AssessAction", "UpdateAction", "ActivateAction"}


@dataclass
class CrateEntity:
    """One line of the listing."""

    id: str
    type: str
    name: str
    detail: str = ""


@dataclass
class CrateReport:
    """What the crate holds and which checks failed (``problems``) or need a look (``warnings``)."""

    crate: str
    conforms_to: list[str] = field(default_factory=list)
    triples: int = 0
    entities: list[CrateEntity] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, **asdict(self)}


MAX_MEMBERS = 1_000_000
"""Most files (or zip members) a crate may hold."""
MAX_METADATA_BYTES = 64 * 1024 * 1024
"""Largest ``ro-crate-metadata.json`` that is parsed."""


def _text(data: bytes, crate: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{METADATA} is not UTF-8 text", path=crate) from None


class _CrateFiles:
    """The member paths of a crate folder or zip, and its metadata text."""

    def __init__(self, crate: Path) -> None:
        if not crate.exists():
            raise InputError("crate does not exist", path=crate)
        self.files: set[str] = set()
        if crate.is_dir():
            for rel, _ in files_inside(crate):  # refuses links out, devices, FIFOs
                self.files.add(rel)
                if len(self.files) > MAX_MEMBERS:
                    raise InputError(f"holds more than {MAX_MEMBERS} files", path=crate)
            data = read_inside(crate, METADATA, MAX_METADATA_BYTES)
            if data is None:
                raise InputError(f"not an RO-Crate: no {METADATA}", path=crate)
            self.metadata = _text(data, crate)
        elif zipfile.is_zipfile(crate):
            with zipfile.ZipFile(crate) as archive:
                if len(archive.infolist()) > MAX_MEMBERS:
                    raise InputError(f"holds more than {MAX_MEMBERS} members", path=crate)
                for name in archive.namelist():
                    parts = PurePosixPath(name).parts
                    if name.startswith("/") or ".." in parts or "\\" in name:
                        raise InputError(f"zip member {name!r} is outside the crate", path=crate)
                    if not name.endswith("/"):
                        self.files.add(name)
                if METADATA not in self.files:
                    raise InputError(f"not an RO-Crate: no {METADATA} at the zip root", path=crate)
                if archive.getinfo(METADATA).file_size > MAX_METADATA_BYTES:
                    raise InputError(f"{METADATA} is implausibly large", path=crate)
                try:  # zipfile never inflates a member beyond its declared size
                    self.metadata = _text(archive.read(METADATA), crate)
                except (zipfile.BadZipFile, zlib.error, NotImplementedError) as error:
                    raise InputError(f"damaged zip archive: {error}", path=crate) from None
        else:
            raise InputError("not an RO-Crate folder or zip file", path=crate)
        self.folders = {str(p) for f in self.files for p in PurePosixPath(f).parents}

    def has(self, entity_id: str, is_dataset: bool) -> bool:
        path = unquote(entity_id).rstrip("/")
        return path in self.folders if is_dataset else path in self.files


def inspect_crate(crate: Path) -> CrateReport:
    """List the entities of ``crate`` and run the checks; raise InputError if unreadable."""
    files = _CrateFiles(crate)
    report = CrateReport(crate=str(crate))
    try:
        document = parse_json(files.metadata, crate)
        graph = {e["@id"]: e for e in document["@graph"]}
    except InputError as error:
        report.problems.append(f"{METADATA} is not JSON: {error.message}")
        return report
    except (KeyError, TypeError) as error:
        report.problems.append(f"{METADATA} is not RO-Crate JSON-LD: {error}")
        return report
    _check_root(graph, files, report)
    _check_actions(graph, report)
    report.triples = _count_triples(document, report)
    return report


def _types(entity: dict[str, Any]) -> set[str]:
    kind = entity.get("@type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v["@id"] for v in values if isinstance(v, dict) and "@id" in v]


def _check_root(graph: dict[str, Any], files: _CrateFiles, report: CrateReport) -> None:
    descriptor = graph.get(METADATA)
    if descriptor is None:
        report.problems.append(f"no metadata descriptor entity '{METADATA}'")
        return
    specs = _ids(descriptor.get("conformsTo"))
    if not any(s.startswith("https://w3id.org/ro/crate/1.") for s in specs):
        report.problems.append("metadata descriptor does not conform to RO-Crate 1.x")
    root_id = (_ids(descriptor.get("about")) or ["./"])[0]
    root = graph.get(root_id)
    if root is None or "Dataset" not in _types(root):
        report.problems.append(f"root data entity {root_id!r} missing or not a Dataset")
        return
    report.conforms_to = specs + _ids(root.get("conformsTo"))
    for key in ("name", "description", "datePublished", "license"):
        if not root.get(key):
            report.problems.append(f"root data entity has no {key}")
    for part in _ids(root.get("hasPart")):
        entity = graph.get(part, {})
        is_dataset = "Dataset" in _types(entity)
        kind = ", ".join(sorted(_types(entity))) or "?"
        detail = entity.get("encodingFormat", "")
        report.entities.append(CrateEntity(part, kind, entity.get("name", ""), str(detail)))
        if "://" not in part and not files.has(part, is_dataset):
            report.problems.append(f"data entity {part!r} is listed but not in the crate")


def _check_actions(graph: dict[str, Any], report: CrateReport) -> None:
    assessed: dict[str, dict[str, Any]] = {}
    for entity_id, entity in graph.items():
        kinds = _types(entity) & ACTION_TYPES
        if not kinds:
            continue
        tools = [graph.get(i, {}) for i in _ids(entity.get("instrument"))]
        versions = [f"{t.get('name', '?')} {t.get('softwareVersion', '?')}" for t in tools]
        report.entities.append(
            CrateEntity(entity_id, kinds.pop(), entity.get("name", ""), "; ".join(versions))
        )
        if not tools or any(not t.get("softwareVersion") for t in tools):
            report.problems.append(f"action {entity_id!r} names no tool with a softwareVersion")
        if "AssessAction" in _types(entity):
            for target in _ids(entity.get("object")):
                assessed[target] = entity
    for entity_id, entity in graph.items():
        if entity.get("encodingFormat") != "OME-Zarr":
            continue
        check = assessed.get(entity_id)
        if check is None:
            report.problems.append(f"OME-Zarr store {entity_id!r} has no NGFF validation record")
        elif "FailedActionStatus" in str(check.get("actionStatus")):
            report.warnings.append(
                f"OME-Zarr store {entity_id!r} failed NGFF validation: {check.get('error', '?')}"
            )


@cache
def ro_crate_context() -> dict[str, Any]:
    """The RO-Crate JSON-LD context shipped with ``rocrate`` (a superset of 1.1 and 1.2)."""
    import rocrate

    data = Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld"
    return json.loads(data.read_text(encoding="utf-8"))["@context"]


def _count_triples(document: dict[str, Any], report: CrateReport) -> int:
    """Parse the metadata as RDF offline: known RO-Crate contexts are resolved locally."""
    import rdflib

    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    local = []
    for item in contexts:
        if isinstance(item, str) and item.startswith("https://w3id.org/ro/crate/1."):
            local.append(ro_crate_context())
        elif isinstance(item, str):
            report.problems.append(f"unknown remote JSON-LD context {item!r}: cannot check offline")
            return 0
        else:
            local.append(item)
    offline = {**document, "@context": local}
    try:
        graph = rdflib.Graph().parse(data=json.dumps(offline), format="json-ld", base="arcp://x/")
    except Exception as error:  # rdflib raises many types for bad JSON-LD
        report.problems.append(f"metadata does not parse as JSON-LD: {error}")
        return 0
    if len(graph) == 0:
        report.problems.append("metadata parses to an empty RDF graph")
    return len(graph)
