"""Walking a store: reading nodes once, bounds on the walk, paths from metadata kept inside
the store, the NGFF version of each group and the dispatch by kind of group.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fairio_tools.atomic import INCOMPLETE_MARKER
from fairio_tools.confined import ConfinementError, resolve_inside, unsafe_path_reason
from fairio_tools.findings import Finding, Report, Severity, json_pointer
from fairio_tools.ngff.schemas import SUPPORTED_VERSIONS, schema_errors
from fairio_tools.ngff.zarr_metadata import (
    MetadataError,
    ZarrNode,
    read_node,
)

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


class Traversal:
    """The walk and its report; the checks of each spec object are mixed in."""

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


def _v04_version(attributes: dict, prefix: str) -> tuple[Any, str]:
    """The version an NGFF 0.4 group declares, and where (None if it declares none)."""
    for key in ("multiscales", "plate", "well", "image-label"):
        value = attributes.get(key)
        if key == "multiscales" and isinstance(value, list) and value:
            value, key = value[0], "multiscales/0"
        if isinstance(value, dict) and "version" in value:
            return value["version"], f"{prefix}/{key}/version"
    return None, prefix
