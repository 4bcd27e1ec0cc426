"""Walking a store: reading nodes once, bounds on the walk, paths from metadata kept inside
the store, the NGFF version of each group and the dispatch by kind of group.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairio_tools.atomic import INCOMPLETE_MARKER
from fairio_tools.confined import ConfinementError, resolve_inside, unsafe_path_reason
from fairio_tools.findings import Finding, Report, Severity, json_pointer
from fairio_tools.ngff.format import COORDINATE_SYSTEM_VERSIONS, ZARR_FORMAT_OF_VERSION
from fairio_tools.ngff.schemas import SUPPORTED_VERSIONS, schema_errors
from fairio_tools.ngff.zarr_metadata import (
    MetadataError,
    ZarrNode,
    read_node,
)

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
    "metadata-symlink": "replace the link by a copy of the document it points to",
    "metadata-too-large": "real metadata documents are far smaller: check their writer",
}


@dataclass(frozen=True)
class Options:
    """How one validation runs."""

    deep: bool = False
    """Read every chunk (else a sample)."""
    workers: int = 1
    strict: bool = False
    """SHOULD-level rules broken are errors (else named warnings)."""
    metadata_only: bool = False
    """Check the root group's metadata document alone: paths it names are checked as paths
    but not followed (no array, label, well, field or series is read)."""


class Traversal:
    """The walk and its report; the checks of each spec object are mixed in."""

    def __init__(
        self, root: Path, options: Options, root_node: ZarrNode | bool | None = None
    ) -> None:
        self.root = root
        self.deep = options.deep
        self.workers = options.workers
        self.strict = options.strict
        self.metadata_only = options.metadata_only
        self.report = Report(subject=root.name or str(root))
        self.version: str | None = None
        self.arrays = 0
        self.chunks_read = 0
        self.versions: dict[str, str] = {}
        """NGFF version each group declares, by its path (schemas are chosen by it)."""
        self.visits = 0
        self._nodes: dict[str, ZarrNode | None | bool] = (
            {} if root_node is None else {"": root_node}
        )
        self._chunked: set[str] = set()
        self._schemas: set[tuple[str, str]] = set()
        self._per_code: dict[str, int] = {}

    # -- reporting -------------------------------------------------------------------------

    def error(self, code: str, message: str, path: str = "", pointer: str = "", hint: str = ""):
        self._add(Finding(Severity.ERROR, code, message, path, pointer, hint))

    def warn(self, code: str, message: str, path: str = "", pointer: str = "", hint: str = ""):
        self._add(Finding(Severity.WARNING, code, message, path, pointer, hint))

    def should(self, code: str, message: str, path: str = "", pointer: str = "", hint: str = ""):
        """A SHOULD of the spec broken: a named warning, an error in strict mode."""
        severity = Severity.ERROR if self.strict else Severity.WARNING
        self._add(Finding(severity, code, message, path, pointer, hint))

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
        if self.root.is_dir() and os.path.lexists(self.root / INCOMPLETE_MARKER):
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
        facts["mode"] = (
            "metadata of the root group only"
            if self.metadata_only
            else "deep (every chunk read)"
            if self.deep
            else "metadata and sample chunks"
        )
        if self.strict:
            facts["mode"] += ", strict"
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
                "write the store as NGFF 0.4 (Zarr v2), 0.5 or 0.6rc0 (Zarr v3)",
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

    def version_should(self, node: ZarrNode, metadata: dict, key: str, pointer: str) -> None:
        """NGFF 0.4 keeps the version inside ``plate``, ``well`` and ``image-label``, where it
        SHOULD be."""
        if node.zarr_format == 2 and "version" not in metadata:
            self.should(
                "version-missing",
                f"'{key}' does not say its NGFF version; the spec says it SHOULD",
                node.metadata_file,
                pointer,
                f'add "version": "0.4" to \'{key}\'',
            )

    def dispatch(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> str:
        if "plate" in ome:  # a plate takes precedence over the bioformats2raw layout
            if "bioformats2raw.layout" in ome:
                self.schema(node, "bf2raw")
            self.plate(rel, node, ome, pointer)
            return "plate"
        if "bioformats2raw.layout" in ome:
            self.bioformats2raw(rel, node, ome, pointer)
            return "bioformats2raw"
        if "well" in ome:
            self.well(rel, node, ome, pointer, None)
            return "well"
        if "multiscales" in ome:
            self.image(rel, node, ome, pointer)
            return "image"
        if "image-label" in ome:
            self.schema(node, "label")
            self.label_metadata(node, ome, pointer)
            if not self.metadata_only:
                self.error(
                    "missing-multiscales",
                    "a label image MUST contain 'multiscales' metadata",
                    node.metadata_file,
                    pointer,
                    "write the label image as a multiscale image",
                )
            return "label"
        if "scene" in ome and self.versions.get(node.path) in COORDINATE_SYSTEM_VERSIONS:
            self.scene(rel, node, ome, pointer)
            return "scene"
        self.error(
            "not-ngff",
            "no NGFF metadata: the attributes hold none of multiscales, plate, well, "
            "image-label, bioformats2raw.layout (or scene, from 0.6rc0)",
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
