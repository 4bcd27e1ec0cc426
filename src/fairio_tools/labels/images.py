"""Read the pixels to label (OME-Zarr, TIFF, PNG, JPEG); write NGFF label images.

Labels are written into ``labels/<name>`` of the image group, with the parent image's axes,
one resolution level per parent level (nearest-neighbour, same coordinate transformations)
and ``image-label`` metadata pointing back to the image, in the parent's NGFF version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.errors import InputError
from fairio_tools.ngff.format import FORMATS, detect_format
from fairio_tools.ngff.reader import (
    checked_axes,
    checked_datasets,
    checked_level,
    first_image_group,
)
from fairio_tools.ngff.store import open_root, reading


@dataclass
class OmeZarrImage:
    """The multiscales image of a store (the store root, or series 0 of bioformats2raw)."""

    store: Path
    image: Path
    version: str
    axes: list[dict[str, Any]]
    datasets: list[dict[str, Any]]
    shapes: list[tuple[int, ...]]
    group: Any = None
    """The image's Zarr group, opened confined to the store."""

    @property
    def axis_names(self) -> list[str]:
        return [axis["name"] for axis in self.axes]


def open_ome_zarr(store: Path, *, writable: bool = False, ours: bool = False) -> OmeZarrImage:
    """Find the multiscales image in ``store``; InputError if it is not an OME-Zarr image.

    ``writable``: labels will be added; ``ours``: ``store`` is this command's own output.
    """
    root = open_root(store, mode="r+" if writable else "r", ours=ours)
    group, path = first_image_group(root, str(store))
    image = store / path if path else store
    with reading(store):
        attrs = _ome_attributes(group)
        try:
            multiscales = attrs["multiscales"][0]
        except (KeyError, IndexError, TypeError) as error:
            raise InputError(f"not an OME-Zarr image: missing {error}", path=store) from None
        if not isinstance(multiscales, dict):
            raise InputError("not an OME-Zarr image: multiscales are not objects", path=store)
        axes = checked_axes(multiscales.get("axes"), store)
        datasets = checked_datasets(multiscales.get("datasets"), len(axes), store)
        shapes = [tuple(checked_level(group, d["path"], len(axes), store).shape) for d in datasets]
    declared = multiscales.get("version")
    fmt = detect_format(dict(group.attrs), group.metadata.zarr_format)
    if fmt is not None and declared is not None and str(declared) != fmt.version:
        fmt = None  # a version this Zarr format does not store
    if fmt is None or fmt.version not in FORMATS:
        found = f"NGFF version {declared!r}" if fmt is None else f"NGFF version {fmt.version!r}"
        raise InputError(
            f"{found} is not supported: labels are added to NGFF 0.4 and 0.5 images", path=store
        )
    return OmeZarrImage(store, image, fmt.version, axes, datasets, shapes, group)


def _ome_attributes(group: Any) -> dict[str, Any]:
    attrs = dict(group.attrs)
    return attrs.get("ome", attrs)


def read_pixels(path: Path, channel: int) -> tuple[np.ndarray, list[str]]:
    """Full-resolution pixels of ``path`` (one channel) and their NGFF axis names."""
    if path.is_dir():
        image = open_ome_zarr(path)
        array = image.group[image.datasets[0]["path"]]
        what = "bytes of level 0 to label in memory"
        limits.enforce("FAIRIO_MAX_DECODED_BYTES", array.nbytes, what, path)
        with reading(path):
            data = np.asarray(array[...])
        axes = image.axis_names
        if "c" in axes:
            index = axes.index("c")
            if not 0 <= channel < data.shape[index]:
                raise InputError(
                    f"has {data.shape[index]} channel(s); channel {channel} does not exist",
                    path=path,
                    field="--channel",
                )
            data, axes = np.take(data, channel, axis=index), [a for a in axes if a != "c"]
        return data, axes
    from fairio_tools.images.pixels import read_series

    data, series = read_series(path, 0, channel)  # only that channel is decoded
    return data, [a for a in series.axes if a != "c"]


def fit_to_image(labels: np.ndarray, axes: list[str], image: OmeZarrImage) -> np.ndarray:
    """Reshape ``labels`` (named ``axes``) to the parent's axes; InputError on a mismatch."""
    parent = dict(zip(image.axis_names, image.shapes[0], strict=True))
    extra = tuple(i for i, name in enumerate(axes) if name not in parent)
    for i in extra:
        if labels.shape[i] != 1:
            raise InputError(
                f"labels have axis {axes[i]!r}, which the image lacks", path=image.store
            )
    labels, axes = np.squeeze(labels, axis=extra), [a for a in axes if a in parent]
    size = dict(zip(axes, labels.shape, strict=True))
    for name, wanted in parent.items():
        if name in size and size[name] != wanted:
            raise InputError(
                f"labels are {size[name]} pixels along {name!r} but the image is {wanted}",
                path=image.store,
                hint="label an image of the same size as the OME-Zarr image",
            )
        if name not in size and wanted != 1 and name != "c":
            raise InputError(
                f"image has {wanted} {name!r} planes, the labels one", path=image.store
            )
    labels = np.transpose(labels, [axes.index(name) for name in parent if name in size])
    return labels.reshape([size.get(name, 1) for name in parent])


def write_labels(image: OmeZarrImage, labels: np.ndarray, name: str) -> str:
    """Write ``labels`` (already in the parent's axes) as ``labels/<name>``; return its path.

    One level per parent level (``s0``, ``s1``, ...; nearest neighbour), each with the parent
    level's coordinate transformations and chunks, in the parent's NGFF version.
    """
    fmt = FORMATS[image.version]
    group = image.group
    if "labels" in group and name in group["labels"]:
        raise InputError(f"already has a label image {name!r}", path=image.store, field="--name")
    full = image.shapes[0]
    pyramid = []
    for shape in image.shapes:
        index = [
            np.arange(s) * full[d] // s if labels.shape[d] == full[d] else np.arange(1)
            for d, s in enumerate(shape)
        ]
        pyramid.append(labels[np.ix_(*index)])
    if "labels" in group:
        labels_group = group["labels"]
        listed = fmt.unwrap(dict(labels_group.attrs)).get("labels")
        listed = [str(n) for n in listed] if isinstance(listed, list) else []
    else:
        labels_group, listed = group.create_group("labels"), []
    label_group = labels_group.create_group(name)
    datasets = []
    for level, (dataset, data) in enumerate(zip(image.datasets, pyramid, strict=True)):
        path = f"s{level}"
        parent_chunks = group[dataset["path"]].chunks
        array = label_group.create_array(
            path,
            shape=data.shape,
            chunks=tuple(min(c, max(n, 1)) for c, n in zip(parent_chunks, data.shape, strict=True)),
            dtype=data.dtype,
            **fmt.array_options(image.axis_names, "blosc"),
        )
        array[...] = data
        datasets.append(
            {"path": path, "coordinateTransformations": dataset["coordinateTransformations"]}
        )
    label_group.attrs.update(
        fmt.group_attributes(
            {
                "multiscales": [fmt.multiscale(image.axes, datasets, name)],
                "image-label": fmt.image_label({"source": {"image": "../../"}}),
            }
        )
    )
    labels_group.attrs.update(fmt.group_attributes({"labels": [*listed, name]}))
    return str((image.image / "labels" / name).relative_to(image.store))
