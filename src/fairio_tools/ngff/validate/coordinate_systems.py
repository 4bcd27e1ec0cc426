"""NGFF 0.6rc0 coordinate systems and transformations (RFC-5), in multiscales and scenes.

The schemas check the shape of each object; here what they cannot: coordinate system names are
unique, the coordinate systems that transformations name as ``input`` or ``output`` exist (in
the same document, or in the image or scene at ``path``), parameters have one value per
dimension of the coordinate systems they map between (scale, translation, affine, rotation,
mapAxis, byDimension, and recursively sequence and bijection), numbers are finite, scales
positive, and the arrays that hold parameters (affine, rotation, displacements, coordinates)
are safe paths to arrays.
"""

from __future__ import annotations

from typing import Any

from fairio_tools.ngff.axes import SPACE_UNITS, TIME_UNITS
from fairio_tools.ngff.validate.transformations import _finite
from fairio_tools.ngff.zarr_metadata import ZarrNode

_PARAMETER_ARRAYS = ("affine", "rotation", "displacements", "coordinates")
"""Transformation types whose parameters may be stored in an array named by ``path``."""

_MAX_DEPTH = 32
"""How deep sequences, bijections and byDimension may nest before the rest is not checked."""

Systems = dict[str, list[dict]]
"""Coordinate systems by name: their axes."""


class CoordinateSystemChecks:
    """Coordinate systems, transformations and scenes of NGFF 0.6rc0."""

    def coordinate_systems(self, rel: str, m: dict, file: str, pointer: str):
        """Check a 0.6rc0 multiscale's coordinate systems and transformations; return the
        (name, type) axes of the coordinate system its datasets map to, or None."""
        systems = self.systems(m.get("coordinateSystems"), file, f"{pointer}/coordinateSystems")
        datasets = m.get("datasets") if isinstance(m.get("datasets"), list) else []
        targets: list[str] = []
        for j, dataset in enumerate(datasets):
            if not isinstance(dataset, dict):
                continue
            where = f"{pointer}/datasets/{j}/coordinateTransformations"
            listed = dataset.get("coordinateTransformations")
            for index, transform in enumerate(listed if isinstance(listed, list) else []):
                if not isinstance(transform, dict):
                    continue
                tpointer = f"{where}/{index}"
                target = transform.get("output")
                n_out = self.system_size(systems, target, file, f"{tpointer}/output")
                if isinstance(target, dict) and isinstance(target.get("name"), str):
                    targets.append(target["name"])
                self.transformation(rel, transform, n_out, n_out, file, tpointer)
        listed = m.get("coordinateTransformations")
        where = f"{pointer}/coordinateTransformations"
        for index, transform in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(transform, dict):
                tpointer = f"{where}/{index}"
                n_in = self.system_size(systems, transform.get("input"), file, f"{tpointer}/input")
                n_out = self.system_size(
                    systems, transform.get("output"), file, f"{tpointer}/output"
                )
                self.transformation(rel, transform, n_in, n_out, file, tpointer)
        intrinsic = targets[0] if targets else None
        if intrinsic not in systems:
            return None
        return [(a.get("name"), a.get("type")) for a in systems[intrinsic]]

    def scene(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> None:
        """A scene: coordinate systems, and transformations between them or those of the
        images below it (``input``/``output`` with a ``path``)."""
        self.schema(node, "scene")
        scene = ome.get("scene")
        if not isinstance(scene, dict):
            return
        file, pointer = node.metadata_file, f"{pointer}/scene"
        systems = self.systems(scene.get("coordinateSystems"), file, f"{pointer}/coordinateSystems")
        listed = scene.get("coordinateTransformations")
        where = f"{pointer}/coordinateTransformations"
        for index, transform in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(transform, dict):
                continue
            tpointer = f"{where}/{index}"
            sizes = []
            for end in ("input", "output"):
                reference = transform.get(end)
                found = systems
                if isinstance(reference, dict) and reference.get("path"):
                    found = self.systems_at(rel, reference["path"], file, f"{tpointer}/{end}/path")
                sizes.append(
                    None if found is None
                    else self.system_size(found, reference, file, f"{tpointer}/{end}")
                )  # fmt: skip
            self.transformation(rel, transform, sizes[0], sizes[1], file, tpointer)

    # -- coordinate systems ----------------------------------------------------------------

    def systems(self, value: Any, file: str, pointer: str) -> Systems:
        """The coordinate systems of a list, by name (the schema checks their shape)."""
        systems: Systems = {}
        for index, system in enumerate(value if isinstance(value, list) else []):
            if not isinstance(system, dict) or not isinstance(system.get("name"), str):
                continue
            name, axes = system["name"], system.get("axes")
            if name in systems:
                self.error(
                    "coordinate-system-duplicate",
                    f"coordinate system name {name!r} is used twice",
                    file,
                    f"{pointer}/{index}/name",
                    "give every coordinate system a unique name",
                )
                continue
            axes = [a for a in axes if isinstance(a, dict)] if isinstance(axes, list) else []
            systems[name] = axes
            self.system_axes(axes, file, f"{pointer}/{index}/axes")
        return systems

    def system_axes(self, axes: list[dict], file: str, pointer: str) -> None:
        seen: set = set()
        for index, axis in enumerate(axes):
            name, unit, kind = axis.get("name"), axis.get("unit"), axis.get("type")
            if isinstance(name, str) and name in seen:
                self.error(
                    "duplicate-axis-name",
                    f"axis name {name!r} is used twice in one coordinate system",
                    file,
                    f"{pointer}/{index}/name",
                    "give every axis of a coordinate system a unique name",
                )
            seen.add(name)
            known = SPACE_UNITS if kind == "space" else TIME_UNITS if kind == "time" else None
            if (
                unit is not None
                and known is not None
                and (not isinstance(unit, str) or unit not in known)
            ):
                self.should(
                    "unknown-unit",
                    f"unit {unit!r} of axis {name!r} is not a UDUNITS-2 {kind} unit name",
                    file,
                    f"{pointer}/{index}/unit",
                    "use a full unit name such as 'micrometer' or 'second'",
                )

    def system_size(self, systems: Systems, reference: Any, file: str, pointer: str):
        """The number of axes of the coordinate system ``reference`` names (None where it
        names none: an error if the name is unknown)."""
        if not isinstance(reference, dict) or not isinstance(reference.get("name"), str):
            return None  # a path to an array, or a shape the schema reports
        name = reference["name"]
        if name not in systems:
            self.error(
                "coordinate-system-unknown",
                f"transformation refers to coordinate system {name!r}, which is not defined "
                f"here (defined: {', '.join(map(repr, systems)) or 'none'})",
                file,
                pointer,
                "name a coordinate system listed in 'coordinateSystems'",
            )
            return None
        return len(systems[name])

    def systems_at(self, rel: str, path: Any, file: str, pointer: str) -> Systems | None:
        """The coordinate systems of the image or scene at ``path`` below ``rel`` (None where
        the walk does not read it)."""
        target = self.follow(rel, path, "coordinate system", file, pointer)
        if target is None or self.metadata_only:
            return None
        node = self.node(target)
        if not isinstance(node, ZarrNode):
            if node is None:
                self.error(
                    "missing-image",
                    f"transformation refers to {path!r}, which holds nothing",
                    file,
                    pointer,
                    "write the image there, or correct the path",
                )
            return None
        ome, _ = self.ome_attributes(node)
        if ome is None:
            return None
        lists = [m.get("coordinateSystems") for m in ome.get("multiscales") or []
                 if isinstance(m, dict)]  # fmt: skip
        if isinstance(ome.get("scene"), dict):
            lists.append(ome["scene"].get("coordinateSystems"))
        systems: Systems = {}
        for value in lists:
            for system in value if isinstance(value, list) else []:
                if isinstance(system, dict) and isinstance(system.get("name"), str):
                    axes = system.get("axes") if isinstance(system.get("axes"), list) else []
                    systems[system["name"]] = [a for a in axes if isinstance(a, dict)]
        return systems

    # -- transformations -------------------------------------------------------------------

    def transformation(
        self, rel: str, t: dict, n_in: int | None, n_out: int | None, file: str, pointer: str,
        depth: int = 0,
    ) -> None:  # fmt: skip
        """One transformation from ``n_in`` to ``n_out`` dimensions (None: unknown)."""
        if depth > _MAX_DEPTH:
            self.error("too-many-entries", "transformations nest too deeply", file, pointer)
            return
        kind = t.get("type")
        if kind in _PARAMETER_ARRAYS and "path" in t:
            self.parameter_array(rel, t["path"], kind, file, f"{pointer}/path")
        if kind in ("scale", "translation"):
            self.vector(t.get(kind), kind, n_in, n_out, file, f"{pointer}/{kind}")
        elif kind == "affine" and isinstance(t.get("affine"), list):
            self.matrix(t["affine"], kind, n_out, None if n_in is None else n_in + 1, file,
                        f"{pointer}/affine", extra_row=True)  # fmt: skip
        elif kind == "rotation" and isinstance(t.get("rotation"), list):
            if n_in is not None and n_out is not None and n_in != n_out:
                self.dimensions(f"rotation between {n_in} and {n_out} dimensions", file, pointer)
            self.matrix(t["rotation"], kind, n_out, n_out, file, f"{pointer}/rotation")
        elif kind == "mapAxis" and isinstance(t.get("mapAxis"), list):
            self.map_axis(t["mapAxis"], n_in, n_out, file, f"{pointer}/mapAxis")
        elif kind == "identity":
            if n_in is not None and n_out is not None and n_in != n_out:
                self.dimensions(f"identity between {n_in} and {n_out} dimensions", file, pointer)
        elif kind == "sequence" and isinstance(t.get("transformations"), list):
            steps = [x for x in t["transformations"] if isinstance(x, dict)]
            current = n_in
            for index, step in enumerate(steps):
                out = n_out if index == len(steps) - 1 else _output_size(step, current)
                self.transformation(rel, step, current, out, file,
                                    f"{pointer}/transformations/{index}", depth + 1)  # fmt: skip
                current = out
        elif kind == "bijection":
            for key, (a, b) in (("forward", (n_in, n_out)), ("inverse", (n_out, n_in))):
                if isinstance(t.get(key), dict):
                    self.transformation(rel, t[key], a, b, file, f"{pointer}/{key}", depth + 1)
        elif kind == "byDimension" and isinstance(t.get("transformations"), list):
            self.by_dimension(rel, t["transformations"], n_in, n_out, file, pointer, depth)

    def by_dimension(self, rel, items: list, n_in, n_out, file: str, pointer: str, depth: int):
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            where = f"{pointer}/transformations/{index}"
            axes = {}
            for key, size in (("inputAxes", n_in), ("outputAxes", n_out)):
                values = item.get(key) if isinstance(item.get(key), list) else []
                axes[key] = values
                outside = [v for v in values if size is not None and not 0 <= v < size]
                if outside:
                    self.dimensions(f"{key} {outside} are not axes of the {size}-dimensional "
                                    "coordinate system", file, f"{where}/{key}")  # fmt: skip
            inner = item.get("transformation")
            if isinstance(inner, dict):
                self.transformation(rel, inner, len(axes["inputAxes"]), len(axes["outputAxes"]),
                                    file, f"{where}/transformation", depth + 1)  # fmt: skip

    def dimensions(self, what: str, file: str, pointer: str) -> None:
        self.error(
            "transformation-dimensions",
            f"{what}: a transformation MUST fit the dimensions of its input and output "
            "coordinate systems",
            file,
            pointer,
            "give one parameter per axis of the coordinate systems it maps between",
        )

    def vector(self, values: Any, kind: str, n_in, n_out, file: str, pointer: str) -> None:
        if not isinstance(values, list):
            return
        sizes = {n for n in (n_in, n_out) if n is not None}
        if (sizes and len(values) not in sizes) or len(sizes) > 1:
            self.error(
                f"{kind}-length",
                f"{kind} has {len(values)} values for coordinate systems of "
                f"{' and '.join(map(str, sorted(sizes)))} dimensions",
                file,
                pointer,
                f"give exactly one {kind} value per axis, in axis order",
            )
        self.finite(values, kind, file, pointer)
        bad = [v for v in values if kind == "scale" and _number(v) and _finite(v) and v <= 0]
        if bad:
            self.error(
                "scale-not-positive",
                f"scale values {bad} are zero or negative",
                file,
                pointer,
                "a scale is a pixel size (or a time step): use a positive number",
            )

    def matrix(self, rows: list, kind: str, n_rows, n_columns, file: str, pointer: str,
               extra_row: bool = False) -> None:  # fmt: skip
        shape_ok = (
            all(isinstance(r, list) for r in rows)
            and (n_rows is None or len(rows) == n_rows or (extra_row and len(rows) == n_rows + 1))
            and (n_columns is None or all(len(r) == n_columns for r in rows if isinstance(r, list)))
        )
        if not shape_ok:
            self.dimensions(
                f"the {kind} matrix has {len(rows)} rows of "
                f"{sorted({len(r) for r in rows if isinstance(r, list)})} values, not "
                f"{n_rows} rows of {n_columns}",
                file,
                pointer,
            )
        self.finite([v for r in rows if isinstance(r, list) for v in r], kind, file, pointer)

    def map_axis(self, values: list, n_in, n_out, file: str, pointer: str) -> None:
        ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        if len(ints) == len(values) and sorted(ints) != list(range(len(ints))):
            self.dimensions(f"mapAxis {values} is not a permutation of 0..{len(values) - 1}",
                            file, pointer)  # fmt: skip
        elif {n for n in (n_in, n_out) if n is not None} - {len(values)}:
            self.dimensions(f"mapAxis names {len(values)} axes, the coordinate systems have "
                            f"{n_in} and {n_out}", file, pointer)  # fmt: skip

    def finite(self, values: list, kind: str, file: str, pointer: str) -> None:
        infinite = [v for v in values if _number(v) and not _finite(v)]
        if infinite:
            self.error(
                f"{kind}-not-finite",
                f"{kind} values {infinite} are not finite numbers",
                file,
                pointer,
                f"write the {kind} as finite numbers",
            )

    def parameter_array(self, rel: str, path: Any, kind: str, file: str, pointer: str) -> None:
        """The array that holds a transformation's parameters: a safe path to an array."""
        target = self.follow(rel, path, f"{kind} parameters", file, pointer)
        if target is None or self.metadata_only:
            return
        node = self.node(target)
        if node is None or (isinstance(node, ZarrNode) and node.array is None):
            self.error(
                "missing-dataset",
                f"{kind} parameters {path!r} should be a Zarr array, but {target!r} holds "
                f"{'nothing' if node is None else 'a group'}",
                file,
                pointer,
                "write the parameter array, or give the parameters inline",
            )


def _output_size(t: dict, n_in: int | None) -> int | None:
    """The dimensions a step of a sequence maps ``n_in`` dimensions to, where it says."""
    if t.get("type") in ("scale", "translation", "rotation", "mapAxis", "identity"):
        return n_in
    rows = t.get("affine")
    if t.get("type") == "affine" and isinstance(rows, list) and rows:
        homogeneous = rows[-1] == [0] * (len(rows[-1]) - 1) + [1]
        return len(rows) - 1 if homogeneous else len(rows)
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
