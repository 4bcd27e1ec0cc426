"""Multiscale images: axes, resolution levels, pyramids, chunks and ``omero``."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from fairio_tools.ngff.axes import SPACE_UNITS, TIME_UNITS
from fairio_tools.ngff.chunks import (
    MAX_DECODED_CHUNK_BYTES,
    ChunkReader,
    ChunkScan,
    decoded_chunk_bytes,
)
from fairio_tools.ngff.format import COORDINATE_SYSTEM_VERSIONS, DIMENSION_NAMES_VERSIONS
from fairio_tools.ngff.zarr_metadata import (
    ArrayMetadata,
    ZarrNode,
)

HUGE_PIXEL_COUNT = 2**50
"""Above this (about 10^15 pixels, a petabyte of uint8) a declared shape is called suspicious."""
_AXIS_RANK = {"time": 0, "channel": 1, "space": 2}  # custom and untyped axes rank as channel
_LISTED = 5  # how many keys a finding about many chunks names


class MultiscaleChecks:
    """Images: each multiscale, its axes and levels, their chunks, omero."""

    def image(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> Image | None:
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
        if not self.metadata_only and (self.root / rel / "labels").is_dir():
            self.labels(rel, first)
        return first

    def multiscale(self, rel: str, node: ZarrNode, m: dict, pointer: str) -> Image:
        file = node.metadata_file
        missing = [key for key in ("name", "type", "metadata") if key not in m]
        if missing:
            self.should(
                "multiscale-incomplete",
                f"the multiscale has no {', '.join(missing)}; the spec says it SHOULD have a "
                "name, the type of downscaling and its metadata",
                file,
                pointer,
                'add "name", "type" (e.g. "gaussian") and "metadata" (e.g. {"method": ...})',
            )
        version = self.versions.get(node.path)
        with_systems = version in COORDINATE_SYSTEM_VERSIONS
        if with_systems:
            axes = self.coordinate_systems(rel, m, file, pointer)
        else:
            axes = self.axes(m.get("axes"), file, f"{pointer}/axes")
        n_axes = len(axes) if axes is not None else None
        datasets = m.get("datasets") if isinstance(m.get("datasets"), list) else []
        if not with_systems:
            self.transformations(m.get("coordinateTransformations"), n_axes, file, pointer)
        levels: list[tuple[str, ArrayMetadata]] = []
        for j, dataset in enumerate(datasets):
            if not isinstance(dataset, dict) or "path" not in dataset:
                continue
            dpointer = f"{pointer}/datasets/{j}"
            if not with_systems:
                transformations = dataset.get("coordinateTransformations")
                self.transformations(transformations, n_axes, file, dpointer)
            arel = self.follow(rel, dataset["path"], "dataset", file, f"{dpointer}/path")
            if arel is None or self.metadata_only:
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
            if version in DIMENSION_NAMES_VERSIONS and axes is not None:
                self.dimension_names(array_node, [name for name, _ in axes])
            self.chunks(arel, array)
            levels.append((str(dataset["path"]), array))
        self.pyramid(levels, axes, file, pointer)
        return Image(rel, axes, levels, len(datasets))

    def dimension_names(self, node: ZarrNode, names: list) -> None:
        """A Zarr v3 level names its dimensions after the axes (NGFF 0.5: MUST)."""
        declared = node.array.raw.get("dimension_names") if node.array else None
        if declared == names:
            return
        found = "has no 'dimension_names'" if declared is None else f"names {declared!r}"
        self.error(
            "dimension-names",
            f"array {node.path!r} {found}; they MUST be included and match the axes {names}",
            node.metadata_file,
            "/dimension_names",
            "write the array with dimension_names equal to the axis names, in order",
        )

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
                self.should(
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
                self.should(
                    "unknown-unit",
                    f"unit {unit!r} of axis {axis.get('name')!r} is not a UDUNITS-2 {kind} "
                    "unit name",
                    file,
                    f"{pointer}/{index}/unit",
                    "use a full unit name such as 'micrometer' or 'second'",
                )
        return pairs

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

    def omero(self, node: ZarrNode, omero: Any, pointer: str, image: Image) -> None:
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


class Image:
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
