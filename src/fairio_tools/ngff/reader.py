"""Open the images of an OME-Zarr store (NGFF 0.4 or 0.5, plain image or bioformats2raw layout)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fairio_tools.errors import InputError
from fairio_tools.ngff.format import NgffFormat, detect_format


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

    @property
    def axis_names(self) -> list[str]:
        return [axis["name"] for axis in self.axes]

    def unit(self, axis: str) -> str | None:
        return next((a.get("unit") for a in self.axes if a["name"] == axis), None)


def open_images(location: str) -> list[NgffImage]:
    """Every multiscale image of the store at ``location`` (a path or URL), in series order."""
    import zarr

    try:
        root = zarr.open_group(location, mode="r")
    except Exception as error:  # zarr raises several kinds for "not a store"
        raise InputError(f"not an OME-Zarr store: {error}", path=location) from error
    fmt, attributes = _ome_attributes(root, location)
    if "multiscales" in attributes:
        return [_image(root, "", fmt, attributes, location)]
    if "bioformats2raw.layout" not in attributes:
        raise InputError("holds no multiscales image", path=location, hint="is it OME-Zarr?")
    series = _series_paths(root, fmt)
    images = []
    for path in series:
        group = root[path]
        group_fmt, group_attributes = _ome_attributes(group, location)
        images.append(_image(group, path, group_fmt, group_attributes, location))
    if not images:
        raise InputError("bioformats2raw layout without any image group", path=location)
    return images


def first_image_group(root: Any, location: str) -> tuple[Any, str]:
    """The group holding a store's first multiscales image and its path: the root itself,
    or the first series of a bioformats2raw layout (what ``fairio convert`` writes)."""
    fmt, attributes = _ome_attributes(root, location)
    if "multiscales" in attributes or "bioformats2raw.layout" not in attributes:
        return root, ""
    for path in _series_paths(root, fmt):
        return root[path], path
    raise InputError("bioformats2raw layout without any image group", path=location)


def _ome_attributes(group: Any, location: str) -> tuple[NgffFormat, dict[str, Any]]:
    stored = group.attrs.asdict()
    fmt = detect_format(stored, group.metadata.zarr_format)
    if fmt is None:
        raise InputError("Zarr v3 group without 'ome' attributes", path=location)
    return fmt, fmt.unwrap(stored)


def _series_paths(root: Any, fmt: NgffFormat) -> list[str]:
    if "OME" in root:
        listed = fmt.unwrap(root["OME"].attrs.asdict()).get("series")
        if listed:
            return [_safe_name(str(p)) for p in listed]
    return sorted((name for name in root.group_keys() if name.isdigit()), key=int)


def _safe_name(path: str) -> str:
    """Refuse paths in metadata that could leave the store (``..``, absolute, empty)."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InputError(f"unsafe path {path!r} in store metadata", field="path")
    return path


def _image(
    group: Any, path: str, fmt: NgffFormat, attributes: dict[str, Any], location: str
) -> NgffImage:
    try:
        multiscale = attributes["multiscales"][0]
        axes = multiscale["axes"]
        datasets = multiscale["datasets"]
    except (KeyError, IndexError, TypeError) as error:
        raise InputError(f"incomplete multiscales metadata ({error})", path=location) from error
    levels, scales = [], []
    for dataset in datasets:
        levels.append(group[_safe_name(dataset["path"])])
        scale = next(
            (t["scale"] for t in dataset.get("coordinateTransformations", []) if "scale" in t),
            [1.0] * len(axes),
        )
        scales.append([float(s) for s in scale])
    channels = attributes.get("omero", {}).get("channels", [])
    names = [str(channel.get("label", "")) for channel in channels]
    return NgffImage(path, fmt, multiscale.get("name"), axes, scales, levels, names)
