"""Open the images of an OME-Zarr store (NGFF 0.4 or 0.5, plain image or bioformats2raw layout)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairio_tools import limits
from fairio_tools.confined import unsafe_path_reason
from fairio_tools.errors import InputError
from fairio_tools.ngff.format import NGFF_0_5, READ_FORMATS, NgffFormat, detect_format
from fairio_tools.ngff.store import open_root, reading


@dataclass
class NgffImage:
    """One multiscale image of a store: its levels (zarr arrays), axes and scales."""

    path: str
    fmt: NgffFormat
    name: str | None
    axes: list[dict[str, Any]]
    scales: list[list[float]]
    levels: list[Any]
    channel_names: list[str] = field(default_factory=list)
    channel_colors: list[str | None] = field(default_factory=list)
    """``omero`` colours as ``RRGGBB`` (None where absent or not a colour)."""
    channel_windows: list[tuple[float, float] | None] = field(default_factory=list)
    """``omero`` display windows ``(start, end)`` (None where absent or not finite)."""

    @property
    def axis_names(self) -> list[str]:
        return [axis["name"] for axis in self.axes]

    def unit(self, axis: str) -> str | None:
        return next((a.get("unit") for a in self.axes if a["name"] == axis), None)


def open_images(location: str) -> list[NgffImage]:
    """Every multiscale image of the store at ``location`` (a path or URL), in series order.

    The store is opened confined (:func:`~fairio_tools.ngff.store.open_root`); at most
    ``limits.MAX_SERIES`` series and ``limits.MAX_LEVELS`` levels per image are walked.
    """
    root = open_root(location)
    with reading(location):
        fmt, attributes = _ome_attributes(root, location)
        if "multiscales" in attributes:
            return [_image(root, "", fmt, attributes, location)]
        if "bioformats2raw.layout" not in attributes:
            raise InputError("holds no multiscales image", path=location, hint="is it OME-Zarr?")
        images = []
        for path in _series_paths(root, fmt, location):
            group = _group(root, path, location)
            group_fmt, group_attributes = _ome_attributes(group, location)
            images.append(_image(group, path, group_fmt, group_attributes, location))
    if not images:
        raise InputError("bioformats2raw layout without any image group", path=location)
    return images


def holds_plate(location: str) -> bool:
    """Whether the store at ``location`` has NGFF ``plate`` metadata at its root."""
    root = open_root(location)
    with reading(location):
        return "plate" in _ome_attributes(root, location)[1]


@dataclass
class NgffWell:
    """One well of a plate: its path (``<row>/<column>``) and its fields of view."""

    path: str
    row: str
    column: str
    fields: list[NgffImage]


@dataclass
class NgffPlate:
    """An NGFF plate: its rows and columns (names, in order) and the wells it lists."""

    name: str | None
    rows: list[str]
    columns: list[str]
    wells: list[NgffWell]


def open_plate(location: str) -> NgffPlate:
    """The plate at the root of the store at ``location``, every field of every well opened
    as an image. Opened confined; at most ``limits.MAX_SERIES`` wells and fields are walked."""
    import zarr

    root = open_root(location)
    with reading(location):
        _fmt, attributes = _ome_attributes(root, location)
        plate = attributes.get("plate")
        if not isinstance(plate, dict):
            raise InputError(
                "holds no plate ('plate' metadata at its root)",
                path=location,
                hint="fairio convert writes one from an OME-TIFF of a screen",
            )
        rows, columns = _names(plate, "rows", location), _names(plate, "columns", location)
        listed = _listed(plate, "wells", "plate", location)
        limits.enforce("FAIRIO_MAX_SERIES", len(listed), "wells listed", location)
        wells, fields = [], 0
        for entry in listed:
            path = _safe_name(str(entry.get("path")), location)
            row, column = _well_position(entry, rows, columns, path, location)
            group = _child(root, path, zarr.Group, f"well {path!r}", location)
            _fmt, well_attributes = _ome_attributes(group, location)
            well = well_attributes.get("well")
            images = _listed(well if isinstance(well, dict) else {}, "images", path, location)
            fields += len(images)
            limits.enforce("FAIRIO_MAX_SERIES", fields, "fields of view listed", location)
            opened = []
            for image in images:
                field_path = _safe_name(str(image.get("path")), location)
                where = f"{path}/{field_path}"
                child = _child(group, field_path, zarr.Group, f"field {where!r}", location)
                child_fmt, child_attributes = _ome_attributes(child, location)
                opened.append(_image(child, where, child_fmt, child_attributes, location))
            wells.append(NgffWell(path, row, column, opened))
    name = plate.get("name")
    return NgffPlate(str(name) if name is not None else None, rows, columns, wells)


def _names(plate: dict[str, Any], key: str, location: str) -> list[str]:
    entries = _listed(plate, key, "plate", location)
    limits.enforce("FAIRIO_MAX_SERIES", len(entries), f"plate {key}", location)
    return [str(entry.get("name")) for entry in entries]


def _listed(parent: dict[str, Any], key: str, what: str, location: str) -> list[dict[str, Any]]:
    """``parent[key]``: a list of JSON objects, or an InputError naming ``what``."""
    entries = parent.get(key)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InputError(f"{what} '{key}' is not a list of objects", path=location, field=key)
    return entries


def _well_position(
    entry: dict[str, Any], rows: list[str], columns: list[str], path: str, location: str
) -> tuple[str, str]:
    row, column = entry.get("rowIndex"), entry.get("columnIndex")
    inside = (
        isinstance(row, int)
        and isinstance(column, int)
        and 0 <= row < len(rows)
        and 0 <= column < len(columns)
    )
    if not inside:
        raise InputError(
            f"well {path!r}: rowIndex {row!r} / columnIndex {column!r} outside the plate",
            path=location,
        )
    return rows[row], columns[column]


def first_image_group(root: Any, location: str) -> tuple[Any, str]:
    """The group holding a store's first multiscales image and its path: the root itself,
    or the first series of a bioformats2raw layout (what ``fairio convert`` writes)."""
    with reading(location):
        fmt, attributes = _ome_attributes(root, location)
        if "multiscales" in attributes or "bioformats2raw.layout" not in attributes:
            return root, ""
        for path in _series_paths(root, fmt, location):
            return _group(root, path, location), path
    raise InputError("bioformats2raw layout without any image group", path=location)


def _group(root: Any, path: str, location: str) -> Any:
    import zarr

    return _child(root, path, zarr.Group, f"series {path!r}", location)


def _child(parent: Any, path: str, kind: type, what: str, location: str | Path) -> Any:
    """The node ``path`` of ``parent``, which metadata says is a ``kind`` (group or array)."""
    try:
        node = parent[path]
    except KeyError:
        raise InputError(f"{what} is listed but missing", path=location) from None
    if not isinstance(node, kind):
        raise InputError(f"{what} is not a Zarr {kind.__name__.lower()}", path=location)
    return node


def _ome_attributes(group: Any, location: str) -> tuple[NgffFormat, dict[str, Any]]:
    stored = group.attrs.asdict()
    fmt = detect_format(stored, group.metadata.zarr_format)
    if fmt is None:
        raise InputError("Zarr v3 group without 'ome' attributes", path=location)
    attributes = fmt.unwrap(stored)
    if not isinstance(attributes, dict):
        raise InputError("OME attributes are not a JSON object", path=location)
    return fmt, attributes


def _series_paths(root: Any, fmt: NgffFormat, location: str) -> list[str]:
    if "plate" in fmt.unwrap(root.attrs.asdict()):
        raise InputError(
            "holds a plate, not an image",
            path=location,
            hint="give one field's group (such as STORE/B/2/0), or use fairio plate-summary",
        )
    listed = None
    if "OME" in root:
        listed = fmt.unwrap(root["OME"].attrs.asdict()).get("series")
        if listed is not None and not isinstance(listed, list):
            raise InputError("OME/series is not a list", path=location, field="series")
    if not listed:
        listed = sorted((name for name in root.group_keys() if name.isdigit()), key=int)
    limits.enforce("FAIRIO_MAX_SERIES", len(listed), "series listed", location)
    return [_safe_name(str(p), location) for p in listed]


def _safe_name(path: str, location: str) -> str:
    """Refuse paths in metadata that could leave the store (``..``, absolute, empty)."""
    reason = unsafe_path_reason(path)
    if reason:
        raise InputError(f"path {path!r} in the metadata {reason}", path=location)
    return path


def _image(
    group: Any, path: str, fmt: NgffFormat, attributes: dict[str, Any], location: str
) -> NgffImage:
    try:
        multiscale = attributes["multiscales"][0]
        axes = fmt.axes_of(multiscale)
        datasets = multiscale["datasets"]
    except (KeyError, IndexError, TypeError) as error:
        raise InputError(f"incomplete multiscales metadata ({error})", path=location) from error
    version = multiscale.get("version", fmt.version)
    if str(version) not in READ_FORMATS:
        raise InputError(f"NGFF version {version!r} is not supported", path=location)
    axes = checked_axes(axes, location)
    datasets = checked_datasets(datasets, len(axes), location, fmt)
    levels, scales = [], []
    for dataset in datasets:
        levels.append(checked_level(group, dataset["path"], len(axes), location))
        scale = next(
            (t["scale"] for t in fmt.level_transformations(dataset) if "scale" in t),
            [1.0] * len(axes),
        )
        scales.append([float(value) for value in scale])
    omero = attributes.get("omero")
    channels = omero.get("channels", []) if isinstance(omero, dict) else []
    channels = channels if isinstance(channels, list) else []
    channels = [c if isinstance(c, dict) else {} for c in channels]
    names = [str(c.get("label", "")) for c in channels]
    colors = [_color(c.get("color")) for c in channels]
    windows = [_window(c.get("window")) for c in channels]
    return NgffImage(
        path, fmt, multiscale.get("name"), axes, scales, levels, names, colors, windows
    )


def _color(value: Any) -> str | None:
    return (
        value.upper() if isinstance(value, str) and re.fullmatch(r"[0-9A-Fa-f]{6}", value) else None
    )


def _window(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, dict):
        return None
    start, end = value.get("start"), value.get("end")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (start, end))
    if not numbers or not (math.isfinite(start) and math.isfinite(end)) or end <= start:
        return None
    return float(start), float(end)


def checked_level(group: Any, path: str, ndim: int, location: str | Path) -> Any:
    """The array ``path`` of ``group``: present, an array of ``ndim`` dimensions, with
    positive chunks and a declared size within ``limits.MAX_DECLARED_BYTES``."""
    import zarr

    node = _child(group, path, zarr.Array, f"dataset {path!r}", location)
    declared = math.prod(node.shape) * node.dtype.itemsize  # Python ints: no overflow
    limits.enforce("FAIRIO_MAX_DECLARED_BYTES", declared, f"bytes declared by {path!r}", location)
    if not all(isinstance(c, int) and c > 0 for c in node.chunks):
        raise InputError(f"dataset {path!r} has chunks {node.chunks!r}", path=location)
    if node.ndim != ndim:
        raise InputError(
            f"dataset {path!r} has {node.ndim} dimensions but the image {ndim} axes",
            path=location,
        )
    return node


def checked_axes(axes: Any, location: str | Path) -> list[dict[str, Any]]:
    """A multiscales' axes: objects with distinct string names (and string types, units)."""
    if not isinstance(axes, list) or not axes:
        raise InputError("multiscales needs a list of axes", path=location)
    for axis in axes:
        if not isinstance(axis, dict) or not isinstance(axis.get("name"), str):
            raise InputError(f"axis {axis!r} is not an object with a name", path=location)
        for key in ("type", "unit"):
            if axis.get(key) is not None and not isinstance(axis[key], str):
                raise InputError(f"axis {axis['name']!r} has {key} {axis[key]!r}", path=location)
    names = [axis["name"] for axis in axes]
    if len(set(names)) != len(names):
        raise InputError(f"axis names {names} repeat a name", path=location)
    return axes


def checked_datasets(
    datasets: Any, ndim: int, location: str | Path, fmt: NgffFormat = NGFF_0_5
) -> list[dict[str, Any]]:
    """A multiscales' datasets: at least one, at most ``limits.MAX_LEVELS``, each with a safe
    path and transformations that give one finite number per axis (scales positive)."""
    if not isinstance(datasets, list) or not datasets:
        raise InputError("multiscales needs a list of datasets", path=location)
    limits.enforce("FAIRIO_MAX_LEVELS", len(datasets), "resolution levels listed", location)
    for dataset in datasets:
        if not isinstance(dataset, dict) or not isinstance(dataset.get("path"), str):
            raise InputError(f"dataset {dataset!r} has no path", path=location)
        _safe_name(dataset["path"], str(location))
        transforms = fmt.level_transformations(dataset)
        if not isinstance(transforms, list):
            raise InputError(
                f"dataset {dataset['path']!r}: transformations are not a list", path=location
            )
        for transform in transforms:
            kind = transform.get("type") if isinstance(transform, dict) else None
            if kind not in ("scale", "translation") or kind not in transform:
                raise InputError(f"transformation {transform!r} is not supported", path=location)
            _checked_numbers(transform[kind], ndim, kind, location)
    return datasets


def _checked_numbers(values: Any, ndim: int, kind: str, location: str | Path) -> None:
    if not isinstance(values, list) or len(values) != ndim:
        raise InputError(f"{kind} {values!r} does not give one number per axis", path=location)
    for value in values:
        try:
            number = float(value) if isinstance(value, int | float) else math.nan
        except OverflowError:
            number = math.inf
        if not math.isfinite(number) or (kind == "scale" and number <= 0):
            what = "positive finite" if kind == "scale" else "finite"
            raise InputError(f"{kind} value {value!r} is not a {what} number", path=location)
