"""One RDF graph from image metadata and study metadata, with the provenance of its making."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from rdflib import RDF, BNode, Graph, Literal

from fairio_tools import __version__, limits
from fairio_tools.atomic import INCOMPLETE_MARKER
from fairio_tools.errors import InputError
from fairio_tools.rdf.images import (
    ImageDescription,
    add_image,
    from_image_info,
    from_ngff,
    from_ome_xml,
)
from fairio_tools.rdf.qc import add_qc_report
from fairio_tools.rdf.vocabulary import PROV, SCHEMA, new_graph
from fairio_tools.safe_json import parse_json

MAX_INPUT_BYTES = 64 * 1024 * 1024
_SNIFF_BYTES = 4096
_YAML_KEY = re.compile(rb"[\w-]+\s*:(\s|$)")


def build_graph(inputs: list[Path]) -> Graph:
    """Describe every input in one graph: a ``schema:Dataset`` (the study) with its images,
    and the QC runs (``fairio qc`` reports) linked to the images and instruments they measured."""
    from fairio_tools.metadata.documents import load_document
    from fairio_tools.rdf.study import add_study

    if not inputs:
        raise InputError("no input given", hint="give image metadata and/or study metadata")
    graph = new_graph()
    dataset = BNode()
    studies = [p for p in inputs if is_study_document(Path(p))]
    if len(studies) > 1:
        raise InputError(
            f"{len(studies)} study metadata documents given; one graph describes one study",
            path=studies[1],
        )
    if studies:
        add_study(graph, load_document(studies[0]), dataset)
    else:
        graph.add((dataset, RDF.type, SCHEMA.Dataset))
    activity = _provenance(graph)
    images: dict[str, Any] = {}
    reports = []
    for path in map(Path, inputs):
        source = BNode()
        graph.add((activity, PROV.used, source))
        graph.add((source, RDF.type, PROV.Entity))
        graph.add((source, SCHEMA.name, Literal(path.name)))
        if path in studies:
            continue
        report = _qc_report(path)
        if report is not None:
            reports.append(report)
            continue
        for image in read_images(path):
            node = add_image(graph, image)
            images.setdefault(image.name, node)
            graph.add((dataset, SCHEMA.hasPart, node))
    instruments: dict[str, Any] = {}
    for report in reports:  # after every image, so a run links to the image it measured
        known = set(images)
        add_qc_report(graph, report, images, instruments)
        for name in set(images) - known:
            graph.add((dataset, SCHEMA.hasPart, images[name]))
    return graph


def _qc_report(path: Path) -> dict[str, Any] | None:
    """The QC report (``fairio qc`` JSON) that ``path`` holds, or None for anything else."""
    from fairio_tools.qc.records import qc_kind

    if not path.is_file() or path.stat().st_size > MAX_INPUT_BYTES:
        return None
    with path.open("rb") as handle:
        if not handle.read(64).lstrip().startswith(b"{"):
            return None
    data = parse_json(path.read_bytes(), path)
    return data if qc_kind(data) else None


def is_study_document(path: Path) -> bool:
    """Whether ``path`` holds study metadata, told by content, not by name: a spreadsheet
    (zip) or a YAML mapping (``section:`` first) is a study; a folder (a store), XML
    (OME-XML) or JSON (image-info, NGFF attributes) describes images."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    if head.startswith(b"PK\x03\x04"):
        return True
    for line in head.removeprefix(b"\xef\xbb\xbf").splitlines():
        line = line.strip()
        if line and not line.startswith((b"#", b"---", b"%")):
            return _YAML_KEY.match(line) is not None
    return False


def _provenance(graph: Graph) -> BNode:
    activity, software = BNode(), BNode()
    graph.add((activity, RDF.type, PROV.Activity))
    graph.add((activity, SCHEMA.name, Literal("fairio to-rdf")))
    graph.add((activity, PROV.wasAssociatedWith, software))
    graph.add((software, RDF.type, PROV.SoftwareAgent))
    graph.add((software, RDF.type, SCHEMA.SoftwareApplication))
    graph.add((software, SCHEMA.name, Literal("fairio-tools")))
    graph.add((software, SCHEMA.softwareVersion, Literal(__version__)))
    return activity


def _group_attributes(folder: Path, root: Path) -> dict[str, Any]:
    """The attributes document of a Zarr group folder (zarr.json or .zattrs), read confined
    to the store ``root``."""
    from fairio_tools.ngff.zarr_metadata import MetadataError, read_json

    name = "zarr.json" if os.path.lexists(folder / "zarr.json") else ".zattrs"
    try:
        attributes = read_json(folder / name, name, root)
    except MetadataError as error:
        raise InputError(error.message, path=folder / name) from None
    if not isinstance(attributes, dict):
        return {}
    return attributes.get("attributes", attributes) if name == "zarr.json" else attributes


def read_images(path: Path) -> list[ImageDescription]:
    """The images an input describes: an NGFF store folder, image-info JSON, NGFF
    attributes (.zattrs, zarr.json) or OME-XML."""
    from fairio_tools.ngff.zarr_metadata import has_zarr_metadata

    if not path.exists():
        raise InputError("no such file or directory", path=path)
    if path.is_dir():
        if not has_zarr_metadata(path):
            raise InputError("folder is not a Zarr store", path=path)
        if (path / INCOMPLETE_MARKER).exists():
            raise InputError("incomplete store: a write into it was interrupted", path=path)
        attributes = _group_attributes(path, path)
        ome = attributes.get("ome", attributes)
        if "multiscales" not in ome and "bioformats2raw.layout" in ome:
            # a bioformats2raw store (what `fairio convert` writes): one image per series
            series = sorted(
                (p for p in path.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
            )
            limits.enforce("FAIRIO_MAX_SERIES", len(series), "series", path)
            series = [p for p in series if has_zarr_metadata(p)]
            if series:
                return [from_ngff(_group_attributes(p, path), p, path) for p in series]
        return [from_ngff(attributes, path, path)]
    if not path.is_file():
        raise InputError("not a regular file or folder", path=path)
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(f"{size} bytes is too large for a metadata file", path=path)
    content = path.read_bytes()
    if content[:64].lstrip().startswith(b"<"):
        return from_ome_xml(content.decode("utf-8", errors="replace"), path)
    try:
        data = parse_json(content, path)
    except InputError:
        raise InputError(
            "not image metadata: expected image-info JSON, NGFF attributes (JSON), OME-XML, "
            "an OME-Zarr folder, or study metadata (YAML, xlsx)",
            path=path,
        ) from None
    if isinstance(data, dict) and "series" in data and "format" in data:
        return from_image_info(data, path)
    if isinstance(data, dict):
        return [from_ngff(data, path, None)]
    raise InputError("JSON is neither an image-info report nor NGFF attributes", path=path)
