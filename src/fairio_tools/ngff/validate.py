"""Validate an OME-Zarr store (NGFF 0.4 and 0.5): images, labels, HCS plates and wells.

Two layers of checks, both offline:

1. the official NGFF JSON Schemas on every group's attributes;
2. what the schemas cannot express: dataset paths stay inside the store and point at arrays,
   array ranks match the axes, scales have one value per axis, pyramid levels shrink, axes are in
   the order the spec requires, ``omero`` channels and label images match their image, plate
   wells exist where rows and columns say, and chunks decode (a sample, or all with ``deep``).

The words of the spec decide the severity: a MUST broken is an error, a SHOULD broken or a
suspicious value is a named warning. Zarr metadata is read as plain JSON, so a broken store
yields findings, never a traceback.

A store may be hostile: every document and chunk is read only if it is a regular file inside
the store (see :mod:`fairio_tools.confined`), metadata is bounded in size, and the lists the
walk follows (multiscales, datasets, labels, wells, fields, series) and the number of groups and
arrays it reads are bounded, so that a crafted store yields an error finding, never a hang.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

from fairio_tools.atomic import INCOMPLETE_MARKER
from fairio_tools.confined import ConfinementError, resolve_inside, unsafe_path_reason
from fairio_tools.errors import InputError
from fairio_tools.findings import Finding, Report, Severity, json_pointer
from fairio_tools.ngff.axes import SPACE_UNITS, TIME_UNITS
from fairio_tools.ngff.chunks import (
    MAX_DECODED_CHUNK_BYTES,
    ChunkReader,
    ChunkScan,
    decoded_chunk_bytes,
)
from fairio_tools.ngff.schemas import SUPPORTED_VERSIONS, schema_errors
from fairio_tools.ngff.zarr_metadata import (
    ArrayMetadata,
    MetadataError,
    ZarrNode,
    has_zarr_metadata,
    read_node,
)
from fairio_tools.threads import default_jobs

HUGE_PIXEL_COUNT = 2**50
"""Above this (about 10^15 pixels, a petabyte of uint8) a declared shape is called suspicious."""

MAX_LISTED = {"multiscales": 100, "datasets": 1_000}
"""The most multiscales of an image and levels of a multiscale the walk follows: real images
have one multiscale of fewer than 20 levels. A longer list is an error finding, not walked."""

MAX_LIST_ENTRIES = 10_000
"""The most entries of any other list in a group's NGFF metadata (labels, wells, rows, fields,
series, channels, axes, colours, ...): real plates have at most 3,456 wells, real images some
hundred channels. A group with a longer list is an error finding, neither schema-checked nor
walked (schema checks of huge lists take minutes)."""

MAX_VISITS = 100_000
"""The most times one validation visits a group or array (a 1,536-well plate with 4 fields of
5 levels makes about 38,000 visits). Each node is read once; beyond this, an error finding ends
the walk, so that lists naming the same node again and again cannot multiply the work."""

MAX_FINDINGS_PER_CODE = 100
"""Findings of one code listed in a report; the rest are counted in one ``findings-truncated``."""

_NGFF_KEYS = ("multiscales", "omero", "labels", "image-label", "plate", "well", "series")

_METADATA_HINTS = {
    "invalid-json": "rewrite this metadata document as valid JSON (RFC 8259: no NaN or "
    "Infinity); the writer may have been interrupted",
    "invalid-zarr-metadata": "see the Zarr specification for this document's required keys",
    "symlink-escape": "replace the link by the document it points to, so the store is "
    "self-contained",
    "metadata-not-a-file": "a metadata document is a regular file: replace what is there",
    "metadata-too-large": "real metadata documents are far smaller: check their writer",
}

ZARR_FORMAT_OF_VERSION = {"0.4": 2, "0.5": 3}
_AXIS_RANK = {"time": 0, "channel": 1, "space": 2}  # custom and untyped axes rank as channel
_LISTED = 5  # how many keys a finding about many chunks names


def validate_ngff(store: Path, *, deep: bool = False, workers: int | None = None) -> Report:
    """Check ``store`` and return every finding; raise :class:`InputError` if it is no store."""
    store = Path(store)
    if not store.exists():
        raise InputError("no such file or directory", path=store)
    if not store.is_dir():
        raise InputError(
            "not a directory", path=store, hint="an OME-Zarr store is a folder; unzip it first"
        )
    if not has_zarr_metadata(store):
        raise InputError(
            "not a Zarr store (no zarr.json, .zgroup, .zattrs or .zarray)",
            path=store,
            hint="give the folder that holds the root metadata of the store",
        )
    validator = _StoreValidator(store, deep=deep, workers=workers or default_jobs())
    return validator.run()


class _StoreValidator:
    def __init__(self, root: Path, *, deep: bool, workers: int) -> None:
        self.root = root
        self.deep = deep
        self.workers = workers
        self.report = Report(subject=root.name or str(root))
        self.version: str | None = None
        self.arrays = 0
        self.chunks_read = 0
        self.versions: dict[str, str] = {}
        """NGFF version each group declares, by its path (schemas are chosen by it)."""
        self.visits = 0
        self._nodes: dict[str, ZarrNode | None | bool] = {}
        self._chunked: set[str] = set()
        self._schemas: set[tuple[str, str]] = set()
        self._per_code: dict[str, int] = {}

    # -- reporting -------------------------------------------------------------------------

    def error(self, code: str, message: str, path: str = "", pointer: str = "", hint: str = ""):
        self._add(Finding(Severity.ERROR, code, message, path, pointer, hint))

    def warn(self, code: str, message: str, path: str = "", pointer: str = "", hint: str = ""):
        self._add(Finding(Severity.WARNING, code, message, path, pointer, hint))

    def _add(self, finding: Finding) -> None:
        seen = self._per_code[finding.code] = self._per_code.get(finding.code, 0) + 1
        if seen <= MAX_FINDINGS_PER_CODE:
            self.report.add(finding)

    def _add_truncation_notes(self) -> None:
        for code, seen in self._per_code.items():
            if seen > MAX_FINDINGS_PER_CODE:
                self.report.add(Finding(
                    Severity.INFO, "findings-truncated",
                    f"{seen - MAX_FINDINGS_PER_CODE:,} more '{code}' findings are not listed",
                ))  # fmt: skip

    # -- reading ---------------------------------------------------------------------------

    def node(self, rel: str) -> ZarrNode | None | bool:
        """The node at ``rel`` (read once); None where absent; False where its metadata is
        broken or the walk has made :data:`MAX_VISITS` visits already."""
        self.visits += 1
        if self.visits > MAX_VISITS:
            if self.visits == MAX_VISITS + 1:
                self.error(
                    "too-many-nodes",
                    f"the walk visited groups and arrays {MAX_VISITS:,} times; the rest of the "
                    "store was not checked",
                    rel,
                    hint="validate its images or plates one by one",
                )
            return False
        if rel not in self._nodes:
            try:
                self._nodes[rel] = read_node(self.root, rel)
            except MetadataError as error:
                self.error(
                    error.code,
                    error.message,
                    error.file,
                    error.pointer,
                    _METADATA_HINTS[error.code],
                )
                self._nodes[rel] = False
        return self._nodes[rel]

    def too_many(
        self, key: str, entries: list, file: str, pointer: str, bound: int | None = None
    ) -> bool:
        """True (with a finding) where a list is longer than the walk follows."""
        bound = MAX_LISTED[key] if bound is None else bound
        if len(entries) <= bound:
            return False
        self.error(
            "too-many-entries",
            f"'{key}' lists {len(entries):,} entries, more than the {bound:,} this validator "
            "follows; none was checked",
            file,
            pointer,
            "real stores list far fewer: check the writer of this metadata",
        )
        return True

    def long_list(self, ome: dict, file: str, pointer: str) -> bool:
        """True (with a finding) where NGFF metadata holds a list of more than
        :data:`MAX_LIST_ENTRIES` entries."""
        stack = [((key,), ome[key]) for key in _NGFF_KEYS if key in ome]
        while stack:
            parts, value = stack.pop()
            if isinstance(value, list):
                if self.too_many(
                    str(parts[-1]), value, file, pointer + json_pointer(*parts), MAX_LIST_ENTRIES
                ):
                    return True  # fmt: skip
                stack.extend(((*parts, i), v) for i, v in enumerate(value))
            elif isinstance(value, dict):
                stack.extend(((*parts, k), v) for k, v in value.items())
        return False

    def follow(self, base: str, rel: Any, what: str, path: str, pointer: str) -> str | None:
        """Join a path taken from metadata to ``base``; None (with a finding) if unsafe."""
        reason = unsafe_path_reason(rel) if isinstance(rel, str) else "is not a string"
        if reason:
            self.error(
                "path-unsafe",
                f"{what} path {rel!r} {reason}",
                path,
                pointer,
                "paths in NGFF metadata are relative, '/'-separated names below the group",
            )
            return None
        joined = f"{base}/{rel}" if base else rel
        try:
            resolve_inside(self.root, joined)
        except ConfinementError:
            self.error(
                "symlink-escape",
                f"{what} path {rel!r} leads outside the store through a symbolic link",
                path,
                pointer,
                "replace the link by the data it points to, so the store is self-contained",
            )
            return None
        return joined

    # -- entry -----------------------------------------------------------------------------

    def run(self) -> Report:
        if os.path.lexists(self.root / INCOMPLETE_MARKER):
            self.error(
                "incomplete",
                "incomplete: a write into this store was interrupted",
                INCOMPLETE_MARKER,
                hint="write the store again; a killed writer leaves this marker behind",
            )
        node = self.node("")
        facts = self.report.facts
        if isinstance(node, ZarrNode):
            facts["zarr_format"] = node.zarr_format
            ome, prefix = self.ome_attributes(node, root=True)
            facts["ngff_version"] = self.version or ""
            if ome is not None:
                facts["kind"] = self.dispatch("", node, ome, prefix)
        facts["mode"] = "deep (every chunk read)" if self.deep else "metadata and sample chunks"
        facts["arrays_checked"] = self.arrays
        facts["chunks_read"] = self.chunks_read
        self._add_truncation_notes()
        return self.report

    def ome_attributes(self, node: ZarrNode, *, root: bool = False):
        """The NGFF attributes of ``node`` and their JSON pointer, checking the version."""
        attributes = node.attributes
        prefix = "/attributes" if node.zarr_format == 3 else ""
        if isinstance(attributes.get("ome"), dict):
            ome, pointer = attributes["ome"], f"{prefix}/ome"
            version, version_pointer = ome.get("version"), f"{pointer}/version"
        else:
            ome, pointer = attributes, prefix
            version, version_pointer = _v04_version(attributes, prefix)
        if self.long_list(ome, node.metadata_file, pointer):
            return None, pointer
        if version is None:
            version = "0.5" if node.zarr_format == 3 else "0.4"
        if not isinstance(version, str) or version not in SUPPORTED_VERSIONS:
            self.error(
                "unsupported-version",
                f"NGFF version {version!r} is not one this validator knows "
                f"({', '.join(SUPPORTED_VERSIONS)})",
                node.metadata_file,
                version_pointer,
                "write the store as NGFF 0.4 (Zarr v2) or 0.5 (Zarr v3)",
            )
            return None, pointer
        expected_format = ZARR_FORMAT_OF_VERSION[version]
        if node.zarr_format != expected_format:
            self.error(
                "zarr-format-mismatch",
                f"NGFF {version} requires Zarr v{expected_format}, but this is a Zarr "
                f"v{node.zarr_format} node",
                node.metadata_file,
                version_pointer,
                "NGFF 0.4 is stored in Zarr v2 (.zattrs), NGFF 0.5 in Zarr v3 (zarr.json "
                'with the metadata under "ome")',
            )
        if root:
            self.version = version
        elif self.version and version != self.version:
            self.warn(
                "version-mixed",
                f"this group claims NGFF {version}, the store's root {self.version}",
                node.metadata_file,
                version_pointer,
                "write every group of a store with the same NGFF version",
            )
        self.versions[node.path] = version
        return ome, pointer

    def dispatch(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> str:
        if "bioformats2raw.layout" in ome:
            self.bioformats2raw(rel, node, ome, pointer)
            return "bioformats2raw"
        if "plate" in ome:
            self.plate(rel, node, ome, pointer)
            return "plate"
        if "well" in ome:
            self.well(rel, node, ome, pointer, None)
            return "well"
        if "multiscales" in ome:
            self.image(rel, node, ome, pointer)
            return "image"
        self.error(
            "not-ngff",
            "no NGFF metadata: the attributes hold none of multiscales, plate, well, "
            "bioformats2raw.layout",
            node.metadata_file,
            pointer,
            "validate the store's root folder, or write NGFF metadata with ome-zarr",
        )
        return "unknown"

    def schema(self, node: ZarrNode, kind: str) -> None:
        if (node.path, kind) in self._schemas:
            return
        self._schemas.add((node.path, kind))
        version = self.versions.get(node.path, self.version or "0.4")
        for pointer, message in schema_errors(node.attributes, version, kind):
            self.error(
                "schema",
                f"breaks the NGFF {version} {kind} schema: {message}",
                node.metadata_file,
                ("/attributes" if node.zarr_format == 3 else "") + pointer,
                f"see https://ngff.openmicroscopy.org/{version}/ for the {kind} metadata",
            )

    # -- images ----------------------------------------------------------------------------

    def image(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> _Image | None:
        multiscales = ome.get("multiscales")
        if isinstance(multiscales, list) and (
            self.too_many("multiscales", multiscales, node.metadata_file, f"{pointer}/multiscales")
            or any(
                self.too_many("datasets", m["datasets"], node.metadata_file,
                              f"{pointer}/multiscales/{i}/datasets")
                for i, m in enumerate(multiscales)
                if isinstance(m, dict) and isinstance(m.get("datasets"), list)
            )
        ):  # fmt: skip
            return None
        self.schema(node, "image")
        if "image-label" in ome:
            self.schema(node, "label")
        if not isinstance(multiscales, list) or not multiscales:
            return None
        images = [
            self.multiscale(rel, node, m, f"{pointer}/multiscales/{i}")
            for i, m in enumerate(multiscales)
            if isinstance(m, dict)
        ]
        if not images:
            return None
        first = images[0]
        self.omero(node, ome.get("omero"), pointer, first)
        if (self.root / rel / "labels").is_dir():
            self.labels(rel, first)
        return first

    def multiscale(self, rel: str, node: ZarrNode, m: dict, pointer: str) -> _Image:
        file = node.metadata_file
        axes = self.axes(m.get("axes"), file, f"{pointer}/axes")
        n_axes = len(axes) if axes is not None else None
        datasets = m.get("datasets") if isinstance(m.get("datasets"), list) else []
        self.transformations(m.get("coordinateTransformations"), n_axes, file, pointer)
        levels: list[tuple[str, ArrayMetadata]] = []
        for j, dataset in enumerate(datasets):
            if not isinstance(dataset, dict) or "path" not in dataset:
                continue
            dpointer = f"{pointer}/datasets/{j}"
            self.transformations(dataset.get("coordinateTransformations"), n_axes, file, dpointer)
            arel = self.follow(rel, dataset["path"], "dataset", file, f"{dpointer}/path")
            if arel is None:
                continue
            array_node = self.node(arel)
            if array_node is False:
                continue
            if array_node is None or array_node.array is None:
                what = "nothing" if array_node is None else "a group"
                self.error(
                    "missing-dataset",
                    f"dataset {dataset['path']!r} should be a Zarr array, but {arel!r} "
                    f"holds {what}",
                    file,
                    f"{dpointer}/path",
                    "write the missing resolution level, or remove it from 'datasets'",
                )
                continue
            array = array_node.array
            if n_axes is not None and array.ndim != n_axes:
                self.error(
                    "ndim-mismatch",
                    f"array {arel!r} has {array.ndim} dimensions but 'axes' names {n_axes}",
                    array_node.metadata_file.replace(".zattrs", ".zarray"),
                    "/shape",
                    "write one axis per array dimension, in the array's order",
                )
            self.chunks(arel, array)
            levels.append((str(dataset["path"]), array))
        self.pyramid(levels, axes, file, pointer)
        return _Image(rel, axes, levels, len(datasets))

    def axes(self, axes: Any, file: str, pointer: str) -> list[tuple[str, str | None]] | None:
        """Check the axes; return (name, type) pairs, or None when unusable."""
        if not isinstance(axes, list) or not all(isinstance(a, dict) for a in axes):
            return None  # the schema reports it
        pairs = [(a.get("name"), a.get("type")) for a in axes]
        names = [n for n, _ in pairs]
        seen: set = set()
        for index, name in enumerate(names):
            if isinstance(name, str) and name in seen:
                self.error(
                    "duplicate-axis-name",
                    f"axis name {name!r} is used twice",
                    file,
                    f"{pointer}/{index}/name",
                    "give every axis a unique name (t, c, z, y, x)",
                )
            seen.add(name)
        types = [t for _, t in pairs]
        n_space = types.count("space")
        n_time = types.count("time")
        n_other = len(types) - n_space - n_time
        if not 2 <= len(axes) <= 5 or not 2 <= n_space <= 3 or n_time > 1 or n_other > 1:
            self.error(
                "axis-count",
                f"{len(axes)} axes ({n_space} space, {n_time} time, {n_other} channel or "
                "custom); NGFF allows 2-3 space axes, at most one time and at most one "
                "channel or custom axis, 5 in all",
                file,
                pointer,
                "merge or drop extra dimensions before writing NGFF",
            )
        ranks = [_AXIS_RANK.get(t, 1) if isinstance(t, str) or t is None else 1 for t in types]
        if ranks != sorted(ranks):
            order = ", ".join(f"{n}:{t or 'custom'}" for n, t in pairs)
            self.error(
                "axes-order",
                f"axes are not ordered time, then channel or custom, then space ({order})",
                file,
                pointer,
                "transpose the arrays to t, c, z, y, x order and list the axes so",
            )
        space = [n for n, t in pairs if t == "space"]
        if set(space) <= set("zyx") and len(set(space)) == len(space):
            expected = [n for n in "zyx" if n in space]
            if space != expected:
                self.warn(
                    "space-axis-order",
                    f"space axes are {''.join(space)}; the spec says they SHOULD be in "
                    f"{''.join(expected)} order",
                    file,
                    pointer,
                    "transpose the arrays so z comes before y before x",
                )
        for index, axis in enumerate(axes):
            unit, kind = axis.get("unit"), axis.get("type")
            known = SPACE_UNITS if kind == "space" else TIME_UNITS if kind == "time" else None
            if (
                unit is not None
                and known is not None
                and (not isinstance(unit, str) or unit not in known)
            ):
                self.warn(
                    "unknown-unit",
                    f"unit {unit!r} of axis {axis.get('name')!r} is not a UDUNITS-2 {kind} "
                    "unit name",
                    file,
                    f"{pointer}/{index}/unit",
                    "use a full unit name such as 'micrometer' or 'second'",
                )
        return pairs

    def transformations(self, value: Any, n_axes: int | None, file: str, pointer: str) -> None:
        if not isinstance(value, list):
            return
        pointer = f"{pointer}/coordinateTransformations"
        kinds = [t.get("type") if isinstance(t, dict) else None for t in value]
        if (
            "translation" in kinds
            and "scale" in kinds
            and (kinds.index("translation") < kinds.index("scale"))
        ):
            self.error(
                "transformation-order",
                "'translation' is listed before 'scale'; it MUST come after",
                file,
                pointer,
                "list the scale first, then the translation",
            )
        for index, transform in enumerate(value):
            kind = kinds[index]
            values = transform.get(kind) if kind in ("scale", "translation") else None
            if not isinstance(values, list):
                continue
            where = f"{pointer}/{index}/{kind}"
            if n_axes is not None and len(values) != n_axes:
                self.error(
                    f"{kind}-length",
                    f"{kind} has {len(values)} values for {n_axes} axes",
                    file,
                    where,
                    f"give exactly one {kind} value per axis, in axis order",
                )
            numbers = [
                (i, v) for i, v in enumerate(values) if isinstance(v, int | float)
                and not isinstance(v, bool)
            ]  # fmt: skip
            infinite = [(i, v) for i, v in numbers if not _finite(v)]
            if infinite:
                self.error(
                    f"{kind}-not-finite",
                    f"{kind} values {[v for _, v in infinite]} are not finite numbers",
                    file,
                    f"{where}/{infinite[0][0]}",
                    f"write the {kind} as finite numbers",
                )
            bad = [(i, v) for i, v in numbers if kind == "scale" and _finite(v) and v <= 0]
            if bad:
                self.error(
                    "scale-not-positive",
                    f"scale values {[v for _, v in bad]} are zero or negative",
                    file,
                    f"{where}/{bad[0][0]}",
                    "a scale is a pixel size (or a time step): use a positive number",
                )

    def pyramid(self, levels, axes, file: str, pointer: str) -> None:
        names = [n for n, _ in axes] if axes else None
        for (prev_path, prev), (path, level) in pairwise(levels):
            if prev.ndim != level.ndim:
                continue
            grown = [i for i, (a, b) in enumerate(zip(prev.shape, level.shape)) if b > a]  # noqa: B905
            if grown:
                axis = names[grown[0]] if names and grown[0] < len(names) else grown[0]
                self.error(
                    "level-order",
                    f"level {path!r} {list(level.shape)} is larger than the level before it, "
                    f"{prev_path!r} {list(prev.shape)}, along axis {axis!r}",
                    file,
                    f"{pointer}/datasets",
                    "list the levels from the largest (full resolution) to the smallest",
                )
            if level.dtype != prev.dtype:
                self.warn(
                    "dtype-changes",
                    f"level {path!r} is {level.dtype} but {prev_path!r} is {prev.dtype}",
                    file,
                    f"{pointer}/datasets",
                    "write every resolution level with the data type of the full-resolution one",
                )
        if levels and levels[0][1].pixel_count > HUGE_PIXEL_COUNT:
            path, level = levels[0]
            self.warn(
                "huge-shape",
                f"level {path!r} declares {level.pixel_count:.3g} pixels {list(level.shape)}, "
                "implausibly many",
                file,
                f"{pointer}/datasets/0",
                "check the array's shape: a writer may have stored a wrong size",
            )

    def chunks(self, rel: str, array: ArrayMetadata) -> None:
        if rel in self._chunked:
            return
        self._chunked.add(rel)
        self.arrays += 1
        decoded = decoded_chunk_bytes(array)
        if decoded > MAX_DECODED_CHUNK_BYTES and array.chunk_count:
            self.error(
                "chunk-too-large",
                f"one chunk decodes to {decoded:,} bytes, more than the "
                f"{MAX_DECODED_CHUNK_BYTES:,} this validator reads; no chunk was read",
                f"{rel}/.zarray" if array.zarr_format == 2 else f"{rel}/zarr.json",
                "/chunks" if array.zarr_format == 2 else "/chunk_grid",
                "write the array with smaller chunks (a few MB each is usual)",
            )
            return
        reader = ChunkReader(self.root, rel, array)
        try:
            scan = reader.read_all(self.workers) if self.deep else reader.read_sample()
        except OSError as error:
            self.error("chunk-unreadable", f"chunks cannot be listed: {error.strerror}", rel)
            return
        self.chunks_read += scan.read
        self._chunk_findings(rel, array, scan)

    def _chunk_findings(self, rel: str, array: ArrayMetadata, scan: ChunkScan) -> None:
        if scan.unreadable:
            keys = ", ".join(k for k, _ in scan.unreadable[:_LISTED])
            self.error(
                "chunk-unreadable",
                f"{len(scan.unreadable)} chunk(s) do not decode ({keys}): {scan.unreadable[0][1]}",
                rel,
                hint="re-write the array; a copy or the writer may have been interrupted",
            )
        if scan.refused:
            keys = ", ".join(k for k, _ in scan.refused[:_LISTED])
            key, reason = scan.refused[0]
            self.error(
                "chunk-not-a-file",
                f"{len(scan.refused)} chunk key(s) name no chunk file and were not read "
                f"({keys}): {key!r} {reason}",
                rel,
                hint="a chunk is a regular file no larger than its encoded size can be",
            )
        if scan.escaping:
            self.error(
                "symlink-escape",
                f"{len(scan.escaping)} chunk(s) are links to outside the store "
                f"({', '.join(scan.escaping[:_LISTED])})",
                rel,
                hint="copy the data into the store instead of linking to it",
            )
        if not self.deep:
            return
        stored = scan.read - len(scan.refused)
        missing = array.chunk_count - stored
        if missing > 0:
            self.warn(
                "chunks-missing",
                f"{missing:,} of {array.chunk_count:,} chunks are not stored (they read as the "
                "fill value)",
                rel,
                hint="if the image is not meant to be empty there, the copy is incomplete",
            )
        if scan.stray:
            self.warn(
                "stray-file",
                f"{len(scan.stray)} file(s) are not chunks of this array "
                f"({', '.join(scan.stray[:_LISTED])})",
                rel,
                hint="check the chunk key separator, or remove files that do not belong",
            )

    def omero(self, node: ZarrNode, omero: Any, pointer: str, image: _Image) -> None:
        if not isinstance(omero, dict) or not isinstance(omero.get("channels"), list):
            return
        channels = len(omero["channels"])
        if not image.levels or not image.axes:
            return
        shape = image.levels[0][1].shape
        c_index = next((i for i, (_, t) in enumerate(image.axes) if t == "channel"), None)
        if c_index is None or c_index >= len(shape):
            size, axis_text = 1, "the image has no channel axis"
        else:
            size, axis_text = shape[c_index], f"the 'c' axis has {shape[c_index]}"
        if channels != size:
            self.warn(
                "omero-channels",
                f"'omero' describes {channels} channel(s) but {axis_text}",
                node.metadata_file,
                f"{pointer}/omero/channels",
                "list one omero channel per channel of the image",
            )

    # -- labels ----------------------------------------------------------------------------

    def labels(self, image_rel: str, image: _Image) -> None:
        labels_rel = f"{image_rel}/labels" if image_rel else "labels"
        node = self.node(labels_rel)
        if not isinstance(node, ZarrNode):
            return
        ome, pointer = self.ome_attributes(node)
        if ome is None:
            return
        names = ome.get("labels")
        if not isinstance(names, list):
            self.error(
                "labels-invalid",
                "the 'labels' group does not list its label images under 'labels'",
                node.metadata_file,
                pointer,
                'write {"labels": ["name", ...]} into the labels group',
            )
            return
        for index, name in enumerate(names):
            where = f"{pointer}/labels/{index}"
            label_rel = self.follow(labels_rel, name, "label", node.metadata_file, where)
            if label_rel is None:
                continue
            label_node = self.node(label_rel)
            if label_node is False:
                continue
            if label_node is None:
                self.error(
                    "missing-label",
                    f"label image {name!r} is listed but {label_rel!r} holds nothing",
                    node.metadata_file,
                    where,
                    "write the label image, or remove it from the list",
                )
                continue
            self.label(label_rel, label_node, image)

    def label(self, rel: str, node: ZarrNode, image: _Image) -> None:
        ome, pointer = self.ome_attributes(node)
        if ome is None:
            return
        if "multiscales" not in ome:
            self.error(
                "missing-multiscales",
                "a label image MUST contain 'multiscales' metadata",
                node.metadata_file,
                pointer,
                "write the label image as a multiscale image",
            )
            return
        if "image-label" not in ome:
            self.warn(
                "label-metadata-missing",
                "listed as a label image but has no 'image-label' metadata",
                node.metadata_file,
                pointer,
                'add "image-label": {"colors": [...], "source": {"image": "../../"}}',
            )
        label = self.image(rel, node, ome, pointer)
        if label is None:
            return
        if label.declared != image.declared:
            self.error(
                "label-levels",
                f"label has {label.declared} resolution levels, its image "
                f"{image.declared}; they MUST have the same number",
                node.metadata_file,
                f"{pointer}/multiscales/0/datasets",
                "write the label pyramid with the image's levels",
            )
        if label.levels and image.levels:
            label_space = label.space_shape()
            image_space = image.space_shape()
            if label_space and image_space and label_space != image_space:
                self.warn(
                    "label-shape-mismatch",
                    f"label's spatial shape {label_space} differs from its image's {image_space}",
                    node.metadata_file,
                    f"{pointer}/multiscales/0/datasets/0",
                    "a label image covers its image pixel for pixel: resample it",
                )
            dtype = label.levels[0][1].dtype
            if not dtype.startswith(("int", "uint")):
                self.warn(
                    "label-dtype",
                    f"label image is {dtype}; label values are integers",
                    node.metadata_file,
                    pointer,
                    "store labels as an unsigned integer type (uint8, uint16, uint32)",
                )
        colors = (ome.get("image-label") or {}).get("colors")
        if isinstance(colors, list):
            values = [c.get("label-value") for c in colors if isinstance(c, dict)]
            counts = Counter(map(json.dumps, values))
            duplicates = sorted({v for v in values if counts[json.dumps(v)] > 1}, key=str)
            if duplicates:
                self.warn(
                    "label-value-duplicate",
                    f"label values {duplicates} have more than one colour",
                    node.metadata_file,
                    f"{pointer}/image-label/colors",
                    "give each label value one entry",
                )

    # -- HCS -------------------------------------------------------------------------------

    def plate(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> None:
        plate = ome.get("plate")
        file = node.metadata_file
        self.schema(node, "plate")
        if not isinstance(plate, dict):
            return
        pointer = f"{pointer}/plate"
        names: dict[str, list] = {}
        for key in ("rows", "columns"):
            entries = plate.get(key) if isinstance(plate.get(key), list) else []
            names[key] = [e.get("name") if isinstance(e, dict) else None for e in entries]
            seen: set = set()
            for index, name in enumerate(names[key]):
                if name is not None and name in seen:
                    self.error(
                        "plate-duplicate-name",
                        f"{key[:-1]} name {name!r} is used twice",
                        file,
                        f"{pointer}/{key}/{index}/name",
                        f"give every {key[:-1]} a unique name",
                    )
                seen.add(name)
        acquisitions = plate.get("acquisitions")
        acquisition_ids = (
            {a.get("id") for a in acquisitions if isinstance(a, dict)}
            if isinstance(acquisitions, list)
            else None
        )
        wells = plate.get("wells") if isinstance(plate.get("wells"), list) else []
        for index, well in enumerate(wells):
            if not isinstance(well, dict):
                continue
            where = f"{pointer}/wells/{index}"
            row, column = well.get("rowIndex"), well.get("columnIndex")
            if not (isinstance(row, int) and 0 <= row < len(names["rows"])) or not (
                isinstance(column, int) and 0 <= column < len(names["columns"])
            ):
                self.error(
                    "well-index",
                    f"well rowIndex {row!r} / columnIndex {column!r} is outside the plate's "
                    f"{len(names['rows'])} rows and {len(names['columns'])} columns",
                    file,
                    where,
                    "use 0-based indices into 'rows' and 'columns'",
                )
            elif well.get("path") != f"{names['rows'][row]}/{names['columns'][column]}":
                self.error(
                    "well-path-mismatch",
                    f"well path {well.get('path')!r} does not name row "
                    f"{names['rows'][row]!r} and column {names['columns'][column]!r} of its "
                    "indices",
                    file,
                    f"{where}/path",
                    "write the path as '<row name>/<column name>'",
                )
            well_rel = self.follow(rel, well.get("path"), "well", file, f"{where}/path")
            if well_rel is None:
                continue
            well_node = self.node(well_rel)
            if well_node is False:
                continue
            if well_node is None:
                self.error(
                    "missing-well",
                    f"well {well.get('path')!r} is listed but holds nothing",
                    file,
                    f"{where}/path",
                    "write the well group, or remove it from 'wells'",
                )
                continue
            well_ome, well_pointer = self.ome_attributes(well_node)
            if well_ome is not None:
                self.well(well_rel, well_node, well_ome, well_pointer, acquisition_ids)

    def well(self, rel: str, node: ZarrNode, ome: dict, pointer: str, acquisitions) -> None:
        well = ome.get("well")
        self.schema(node, "well")
        if not isinstance(well, dict) or not isinstance(well.get("images"), list):
            if not isinstance(well, dict):
                self.error("missing-well", "group has no 'well' metadata", node.metadata_file)
            return
        file, pointer = node.metadata_file, f"{pointer}/well"
        for index, field_of_view in enumerate(well["images"]):
            if not isinstance(field_of_view, dict):
                continue
            where = f"{pointer}/images/{index}"
            acquisition = field_of_view.get("acquisition")
            if (
                acquisitions is not None
                and acquisition is not None
                and (acquisition not in acquisitions)
            ):
                self.error(
                    "well-acquisition",
                    f"field refers to acquisition {acquisition!r}, which the plate does not define",
                    file,
                    f"{where}/acquisition",
                    "use an 'id' from the plate's 'acquisitions'",
                )
            image_rel = self.follow(rel, field_of_view.get("path"), "field", file, f"{where}/path")
            if image_rel is None:
                continue
            self.nested_image(image_rel, file, f"{where}/path", "field of view")

    def nested_image(self, rel: str, file: str, pointer: str, what: str) -> None:
        node = self.node(rel)
        if node is False:
            return
        if node is None:
            self.error(
                "missing-image",
                f"{what} {rel!r} is listed but holds nothing",
                file,
                pointer,
                f"write the {what}, or remove it from the list",
            )
            return
        ome, ome_pointer = self.ome_attributes(node)
        if ome is None:
            return
        if "multiscales" not in ome:
            self.error(
                "missing-multiscales",
                f"{what} {rel!r} has no 'multiscales' metadata",
                node.metadata_file,
                ome_pointer,
                "write it as an NGFF image",
            )
            return
        self.image(rel, node, ome, ome_pointer)

    # -- bioformats2raw --------------------------------------------------------------------

    def bioformats2raw(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> None:
        self.schema(node, "bf2raw")
        series: list = []
        ome_rel = f"{rel}/OME" if rel else "OME"
        ome_node = self.node(ome_rel) if (self.root / ome_rel).is_dir() else None
        if isinstance(ome_node, ZarrNode):
            ome_attrs, _ = self.ome_attributes(ome_node)
            listed = (ome_attrs or {}).get("series")
            if ome_attrs is not None:
                self.schema(ome_node, "ome")
            if isinstance(listed, list):
                series = [(s, ome_node.metadata_file, json_pointer("series", i)) for i, s in
                          enumerate(listed)]  # fmt: skip
        if not series:  # without a series list, images are the groups 0, 1, 2, ...
            index = 0
            while has_zarr_metadata(self.root / rel / str(index)):
                if index == MAX_LIST_ENTRIES:
                    groups = [None] * (index + 1)
                    self.too_many("series", groups, node.metadata_file, pointer, MAX_LIST_ENTRIES)
                    return
                series.append((str(index), node.metadata_file, pointer))
                index += 1
        if not series:
            self.error(
                "missing-image",
                "bioformats2raw layout without any image (no OME/series, no group '0')",
                node.metadata_file,
                pointer,
                "write the images as groups 0, 1, ... below the root",
            )
        for name, file, where in series:
            image_rel = self.follow(rel, name, "series", file, where)
            if image_rel is not None:
                self.nested_image(image_rel, file, where, "series")


class _Image:
    """One multiscale image as found: its axes and its levels that exist."""

    def __init__(self, rel: str, axes, levels: list[tuple[str, ArrayMetadata]], declared: int):
        self.rel = rel
        self.axes = axes
        self.levels = levels
        self.declared = declared
        """Number of levels the metadata lists (some may be missing)."""

    def space_shape(self) -> tuple[int, ...] | None:
        if not self.axes or not self.levels:
            return None
        shape = self.levels[0][1].shape
        if len(shape) != len(self.axes):
            return None
        return tuple(n for n, (_, kind) in zip(shape, self.axes, strict=True) if kind == "space")


def _v04_version(attributes: dict, prefix: str) -> tuple[Any, str]:
    """The version an NGFF 0.4 group declares, and where (None if it declares none)."""
    for key in ("multiscales", "plate", "well", "image-label"):
        value = attributes.get(key)
        if key == "multiscales" and isinstance(value, list) and value:
            value, key = value[0], "multiscales/0"
        if isinstance(value, dict) and "version" in value:
            return value["version"], f"{prefix}/{key}/version"
    return None, prefix


def _finite(value: float) -> bool:
    """Whether ``value`` is a finite number a float can hold (``10**400`` is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
