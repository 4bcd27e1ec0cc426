"""Build a FAIR Image Object: an RO-Crate holding OME-Zarr stores, reports, metadata, provenance.

The crate follows RO-Crate 1.1+ (``rocrate`` writes the current version) and the Process Run
Crate profile: every tool run is a ``CreateAction`` whose ``instrument`` is a
``SoftwareApplication`` with its ``softwareVersion``; the NGFF check of each store is an
``AssessAction`` whose ``result`` is the JSON report shipped in the crate; so is every
``fairio qc`` report given, its ``object`` the microscope and image it assessed and its
parameters (``PropertyValue``).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fairio_tools import __version__
from fairio_tools.atomic import atomic_output
from fairio_tools.bundle.ngff_check import StoreCheck, check_store
from fairio_tools.bundle.provenance import (
    FAIRIO_HOMEPAGE,
    PROCESS_RUN_CRATE,
    GalaxyContext,
    ProducedBy,
    software_id,
)
from fairio_tools.confined import files_inside
from fairio_tools.errors import InputError, OutputError
from fairio_tools.metadata.nbo import is_score_report
from fairio_tools.names import file_name, safe_name, store_name
from fairio_tools.qc.records import ANALYSES, parameters, qc_kind
from fairio_tools.safe_json import load_json
from fairio_tools.zipping import add_folder, compression

DEFAULT_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
RO_CRATE_VERSION = "1.1"
"""The version Process Run Crate 0.5 builds on; ``rocrate`` defaults to a newer one."""


@dataclass(frozen=True)
class NameAs:
    """Show ``path`` in the crate under ``name`` (e.g. its Galaxy dataset name) with the
    suffix ``extension`` when the name has none."""

    path: Path
    name: str
    extension: str = ""


@dataclass
class BundleRequest:
    """Everything one bundle holds; paths are checked by :func:`create_bundle`."""

    stores: list[Path]
    reports: list[Path] = field(default_factory=list)
    metadata: list[Path] = field(default_factory=list)
    provenance: list[Path] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    produced_by: list[ProducedBy] = field(default_factory=list)
    names: list[NameAs] = field(default_factory=list)
    name: str = "FAIR Image Object"
    description: str = ""
    license: str = DEFAULT_LICENSE
    allow_invalid: bool = False
    galaxy: GalaxyContext = field(default_factory=GalaxyContext)


@dataclass
class BundleSummary:
    """What was written: the crate path, its entities and each store's check."""

    crate: Path
    entities: dict[str, str]
    checks: list[StoreCheck]

    def to_dict(self) -> dict[str, Any]:
        return {
            "crate": str(self.crate),
            "entities": self.entities,
            "stores": [check.to_dict() for check in self.checks],
        }


def create_bundle(
    request: BundleRequest, destination: Path, *, as_zip: bool, overwrite: bool = False
) -> BundleSummary:
    """Check the inputs, then write the crate to ``destination`` (a zip file or a folder).

    Nothing is written when an input is missing or a store fails the NGFF check (unless
    ``allow_invalid``); the crate is assembled beside ``destination`` and moved into place.
    """
    if not request.stores:
        raise InputError("a bundle needs at least one OME-Zarr store", field="--store")
    if not request.license.startswith(("https://", "http://")):
        raise InputError("licence must be a URL", field="--license", hint=DEFAULT_LICENSE)
    _check_inputs(request)
    _check_destination(destination, overwrite)
    checks = [check_store(store) for store in request.stores]
    for store, check in zip(request.stores, checks, strict=True):
        check.store = _readable(request, store)
    for store, check in zip(request.stores, checks, strict=True):
        if not check.valid and not request.allow_invalid:
            raise InputError(
                f"fails NGFF validation: {check.errors[0]}",
                path=store,
                hint="fix the store, or pass --allow-invalid to record the failure in the crate",
            )

    with (
        tempfile.TemporaryDirectory(
            prefix=f".{destination.name}.", dir=destination.parent
        ) as scratch,
        atomic_output(destination, overwrite=overwrite, folder=not as_zip) as staged,
    ):
        crate, entities = _assemble(request, checks, Path(scratch) / "reports")
        if as_zip:
            _write_zip(crate, Path(staged))
        else:
            crate.write(staged)
    return BundleSummary(crate=destination, entities=entities, checks=checks)


def _write_zip(crate: Any, path: Path) -> None:
    """Zip the crate straight from its sources (no copy, no in-memory buffer)."""
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        for name, data in crate.metadata.stream():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        for entity in crate.data_entities:
            source, dest = Path(entity.source), unquote(entity.id).rstrip("/")
            if source.is_dir():
                add_folder(archive, source, dest)
            else:
                archive.write(source, dest, compress_type=compression(dest))


def _check_inputs(request: BundleRequest) -> None:
    for store in request.stores:
        if not store.is_dir():
            what = "does not exist" if not store.exists() else "is not a directory"
            raise InputError(f"OME-Zarr store {what}", path=store)
        for _ in files_inside(store):  # refuses links out, devices, FIFOs
            pass
    documents = [*request.reports, *request.metadata, *request.provenance]
    for path in [*documents, *request.outputs]:
        if not path.is_file():
            what = "does not exist" if not path.exists() else "is not a file"
            raise InputError(f"file {what}", path=path)
    for path in documents:
        load_json(path)
    known = {p.resolve() for p in [*request.stores, *request.reports, *request.outputs]}
    known |= {p.resolve() for p in [*request.metadata, *request.provenance]}
    for item in request.names:
        if item.path.resolve() not in known:
            raise InputError(
                "--name-as names a path that is not bundled",
                path=item.path,
                hint="bundle that path too, e.g. with --store or --result",
            )
    for produced in request.produced_by:
        if produced.path.resolve() not in known:
            raise InputError(
                "--produced-by names a path that is not bundled",
                path=produced.path,
                hint="bundle that path too, e.g. with --store or --result",
            )


def _check_destination(destination: Path, overwrite: bool) -> None:
    if (destination.exists() or destination.is_symlink()) and not overwrite:
        raise OutputError("already exists", path=destination, hint="pass --overwrite to replace it")
    if not destination.parent.is_dir():
        raise OutputError("parent folder does not exist", path=destination.parent)


def _readable(request: BundleRequest, source: Path) -> str:
    """The name ``source`` gets in the crate: its ``--name-as`` name, made safe (a store
    keeps its own ``*.zarr`` folder name), else its own name."""
    item = next((n for n in request.names if n.path.resolve() == source.resolve()), None)
    if any(store.resolve() == source.resolve() for store in request.stores):
        return store_name(source, item.name if item else None)
    if item is None:
        return source.name or source.resolve().name
    return file_name(item.name, item.extension, source.name)


class _Names:
    """Unique, readable paths inside the crate."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def claim(self, folder: str, name: str) -> str:
        stem, dot, suffix = name.partition(".")
        candidate, n = f"{folder}{name}", 1
        while candidate.lower() in self.used:
            n += 1
            candidate = f"{folder}{stem}_{n}{dot}{suffix}"
        self.used.add(candidate.lower())
        return candidate


def _assemble(request: BundleRequest, checks: list[StoreCheck], report_dir: Path):
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    started = _now()
    crate = ROCrate(version=RO_CRATE_VERSION)
    crate.name = request.name
    crate.description = request.description or _describe(checks)
    crate.license = crate.add(
        ContextEntity(
            crate,
            request.license,
            properties={"@type": "CreativeWork", "name": _license_name(request.license)},
        )
    )
    profile = crate.add(
        ContextEntity(
            crate,
            PROCESS_RUN_CRATE,
            properties={"@type": "CreativeWork", "name": "Process Run Crate", "version": "0.5"},
        )
    )
    crate.root_dataset["conformsTo"] = profile

    names = _Names()
    by_source: dict[Path, Any] = {}
    entities: dict[str, str] = {}

    def add(source: Path, folder: str, kind: str, properties: dict[str, Any]):
        dest = names.claim(folder, _readable(request, source))
        properties["name"] = dest.removeprefix(folder)
        properties.setdefault("description", kind.capitalize())
        if source.is_dir():
            entity = crate.add_dataset(source.resolve(), dest_path=dest, properties=properties)
        else:
            entity = crate.add_file(
                source.resolve(), dest_path=dest, properties=properties, record_size=True
            )
        by_source[source.resolve()] = entity
        entities[entity.id] = kind
        return entity

    store_entities = []
    for store, check in zip(request.stores, checks, strict=True):
        properties = {"encodingFormat": "OME-Zarr"}
        if check.ngff_version:
            properties["conformsTo"] = {
                "@id": f"https://ngff.openmicroscopy.org/{check.ngff_version}/"
            }
        if check.axes:
            properties["description"] = (
                f"OME-Zarr image, axes {''.join(check.axes)}, shape "
                f"{' x '.join(map(str, check.shape))}"
            )
        store_entities.append(add(store, "", "ome-zarr store", properties))
    json_file, jsonld_file = "application/json", "application/ld+json"
    given_reports = [
        add(p, "reports/", "validation report", {"encodingFormat": json_file})
        for p in request.reports
    ]
    metadata = [
        add(p, "metadata/", "study metadata", {"encodingFormat": jsonld_file})
        for p in request.metadata
    ]
    provenance = [
        add(p, "provenance/", "provenance record", {"encodingFormat": jsonld_file})
        for p in request.provenance
    ]
    outputs = [add(p, "outputs/", "analysis output", {}) for p in request.outputs]

    fairio = crate.add(
        ContextEntity(
            crate,
            software_id("fairio-tools", __version__),
            properties={
                "@type": "SoftwareApplication",
                "name": "fairio-tools",
                "softwareVersion": __version__,
                "url": FAIRIO_HOMEPAGE,
            },
        )
    )
    report_dir.mkdir()
    actions = []
    for n, (store, check) in enumerate(zip(store_entities, checks, strict=True), start=1):
        actions.append(_record_check(crate, store, check, fairio, report_dir, names, n))
        entities[actions[-1]["result"].id] = "ngff check"
    actions += _record_producers(crate, request.produced_by, by_source)
    bundled = {e.get("name"): e for e in [*store_entities, *outputs]}
    qc_runs = scores = 0
    for path, entity in zip(request.reports, given_reports, strict=True):
        data = load_json(path)
        if qc_kind(data) is not None:
            qc_runs += 1
            actions.append(_record_qc(crate, entity, data, fairio, bundled, qc_runs))
        elif is_score_report(data):
            scores += 1
            actions.append(_record_tier_score(crate, entity, data, fairio, store_entities, scores))
    actions.append(
        _record_bundle_run(
            crate,
            request,
            fairio,
            [*store_entities, *given_reports, *metadata, *provenance, *outputs],
            [action["result"] for action in actions if action.type == "AssessAction"],
            started,
        )
    )
    crate.root_dataset["mentions"] = actions
    return crate, entities


def _record_check(crate, store, check: StoreCheck, fairio, report_dir: Path, names, n: int):
    report = report_dir / f"{Path(store.id.rstrip('/')).name}.ngff-check.json"
    report.write_text(json.dumps(check.to_dict(), indent=2) + "\n", encoding="utf-8")
    dest = names.claim("validation/", report.name)
    result = crate.add_file(
        report,
        dest_path=dest,
        properties={
            "name": f"NGFF check of {store.id.rstrip('/')}",
            "encodingFormat": "application/json",
            "about": store,
            "description": f"{check.validator}: " + ("valid" if check.valid else "INVALID"),
        },
    )
    properties: dict[str, Any] = {
        "@type": "AssessAction",
        "name": f"NGFF validation of {store.id.rstrip('/')}",
        "description": check.validator,
        "actionStatus": "http://schema.org/"
        + ("CompletedActionStatus" if check.valid else "FailedActionStatus"),
        "endTime": _now(),
    }
    if not check.valid:
        properties["error"] = "; ".join(check.errors)
    return crate.add_action(
        fairio, f"#ngff-check-{n}", object=store, result=result, properties=properties
    )


def _record_qc(crate, report, data: dict[str, Any], fairio, bundled: dict[str, Any], n: int):
    """A ``fairio qc`` report as the AssessAction that made it: the instrument (microscope)
    and image it assessed and its parameters as ``object``, the report as ``result``."""
    from rocrate.model.contextentity import ContextEntity

    kind = qc_kind(data)
    name = ANALYSES[kind][0]
    image_name = Path(str(data.get("image", ""))).name
    image = bundled.get(image_name) or crate.add(
        ContextEntity(
            crate,
            f"#qc-{n}-image",
            properties={"@type": "ImageObject", "name": image_name or "image"},
        )
    )
    objects = [image]
    label = data.get("instrument").strip() if isinstance(data.get("instrument"), str) else ""
    if label:
        objects.append(
            crate.add(
                ContextEntity(
                    crate,
                    f"#instrument-{safe_name(label, 'microscope')}",
                    properties={
                        "@type": "IndividualProduct",
                        "name": label,
                        "description": "Microscope assessed by the QC run",
                    },
                )
            )
        )
    for key, value in parameters(data).items():
        objects.append(
            crate.add(
                ContextEntity(
                    crate,
                    f"#qc-{n}-param-{safe_name(key, 'parameter')}",
                    properties={"@type": "PropertyValue", "name": key, "value": value},
                )
            )
        )
    report["about"] = objects[:2]
    properties = {
        "@type": "AssessAction",
        "name": f"{name} of {image_name}",
        "description": f"fairio qc {kind.replace('_', '-')}: QC metrics "
        "(QUAREP-LiMi, MetroloJ_QC, microscope-metrics definitions)",
        "actionStatus": "http://schema.org/CompletedActionStatus",
    }
    return crate.add_action(
        fairio, f"#qc-{n}", object=objects, result=report, properties=properties
    )


def _record_tier_score(crate, report, data: dict[str, Any], fairio, stores: list, n: int):
    """A ``fairio microscopy-metadata`` report as the AssessAction that scored the image's
    instrument and acquisition metadata: its ``object`` the bundled stores and the
    specification, its ``result`` the report."""
    from rocrate.model.contextentity import ContextEntity

    specification = data["specification"]
    spec = crate.add(
        ContextEntity(
            crate,
            str(specification.get("url") or "#nbo-specification"),
            properties={
                "@type": "CreativeWork",
                "name": str(specification.get("name", "4DN-BINA-OME")),
                "version": str(specification.get("version", "")),
                "citation": str(specification.get("citation", "")),
            },
        )
    )
    tiers = sorted({i["highest_tier_met"] for i in data["images"]})
    source = Path(str(data.get("source", ""))).name
    report["about"] = [*stores, spec]
    properties = {
        "@type": "AssessAction",
        "name": f"Microscopy metadata of {source} against the 4DN-BINA-OME tiers",
        "description": "fairio microscopy-metadata: highest tier met "
        + ", ".join(str(t) for t in tiers)
        + f" of 3, over {len(data['images'])} image(s)",
        "actionStatus": "http://schema.org/CompletedActionStatus",
    }
    return crate.add_action(
        fairio, f"#metadata-tiers-{n}", object=[*stores, spec], result=report, properties=properties
    )


def _record_producers(crate, produced_by: Iterable[ProducedBy], by_source: dict[Path, Any]):
    from rocrate.model.contextentity import ContextEntity

    actions = []
    for n, produced in enumerate(produced_by, start=1):
        tool = crate.dereference(software_id(produced.tool_id, produced.tool_version))
        if tool is None:
            tool = crate.add(
                ContextEntity(
                    crate,
                    software_id(produced.tool_id, produced.tool_version),
                    properties={
                        "@type": "SoftwareApplication",
                        "name": produced.tool_id,
                        "identifier": produced.tool_id,
                        "softwareVersion": produced.tool_version,
                    },
                )
            )
        result = by_source[produced.path.resolve()]
        actions.append(
            crate.add_action(
                tool,
                f"#run-{n}",
                result=result,
                properties={
                    "name": f"{produced.tool_id} {produced.tool_version} produced {result.id}",
                    "description": f"The run of {produced.tool_id} that wrote {result.id}",
                },
            )
        )
    return actions


def _record_bundle_run(crate, request: BundleRequest, fairio, inputs, results, started: str):
    from rocrate.model.contextentity import ContextEntity

    galaxy = request.galaxy
    instrument = fairio
    if galaxy.tool_id:
        instrument = crate.add(
            ContextEntity(
                crate,
                software_id(galaxy.tool_id, galaxy.tool_version or "unknown"),
                properties={
                    "@type": "SoftwareApplication",
                    "name": galaxy.tool_id,
                    "identifier": galaxy.tool_id,
                    "softwareVersion": galaxy.tool_version or "unknown",
                    "softwareRequirements": fairio,
                },
            )
        )
        if galaxy.tool_url:
            instrument["url"] = galaxy.tool_url
    parameters = {"allow_invalid": str(request.allow_invalid).lower(), "license": request.license}
    for key in ("url", "history_id", "job_id", "invocation_id"):
        if getattr(galaxy, key):
            parameters[f"galaxy_{key}"] = getattr(galaxy, key)
    values = [
        crate.add(
            ContextEntity(
                crate,
                f"#param-{key}",
                properties={"@type": "PropertyValue", "name": key, "value": value},
            )
        )
        for key, value in parameters.items()
    ]
    properties: dict[str, Any] = {
        "name": "Bundle the FAIR Image Object",
        "startTime": started,
        "endTime": _now(),
        "description": "fairio bundle create: packed the inputs into this RO-Crate",
        "actionStatus": "http://schema.org/CompletedActionStatus",
    }
    if galaxy.history_url:
        properties["isPartOf"] = crate.add(
            ContextEntity(
                crate,
                galaxy.history_url,
                properties={"@type": "CreativeWork", "name": f"Galaxy history {galaxy.history_id}"},
            )
        )
    return crate.add_action(
        instrument,
        "#bundle",
        object=[*inputs, *values],
        result=_single(results),
        properties=properties,
    )


def _single(values: list[Any]) -> Any:
    """RO-Crate prefers a single value to a one-element list."""
    return values[0] if len(values) == 1 else values


def _describe(checks: list[StoreCheck]) -> str:
    invalid = [c.store for c in checks if not c.valid]
    text = f"{len(checks)} OME-Zarr image(s) with their NGFF validation reports and provenance."
    if invalid:
        text += " NGFF validation FAILED for: " + ", ".join(invalid) + "."
    return text


def _license_name(url: str) -> str:
    known = {
        DEFAULT_LICENSE: "CC BY 4.0",
        "https://creativecommons.org/publicdomain/zero/1.0/": "CC0 1.0",
        "https://spdx.org/licenses/MIT": "MIT",
    }
    return known.get(url, url)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
