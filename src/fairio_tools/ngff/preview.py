"""A PNG preview of an OME-Zarr image: what Galaxy's eye icon shows at once.

The lowest-resolution level of the first image, its first time point, the maximum over z
(and any other axis but c, y, x), each channel scaled to its ``omero`` display window (else
its own range) and drawn in its ``omero`` colour (else grey for one channel, the writer's
default colours for several), added up as RGB.

A plate is drawn as its grid of wells, each cell the preview of the well's first field, empty
wells black; without ``omero`` windows every channel is scaled over the whole plate, so wells
compare by eye.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fairio_tools import limits
from fairio_tools.atomic import atomic_path
from fairio_tools.errors import InputError
from fairio_tools.ngff.reader import NgffImage, NgffPlate, holds_plate, open_images, open_plate
from fairio_tools.ngff.store import reading
from fairio_tools.ngff.writer import DEFAULT_COLORS

MAX_SIDE = 1024
"""Largest side of a preview in pixels: a larger level is read at every n-th pixel."""
MAX_CHANNELS = 16
"""Channels drawn in a preview; more are left out (a preview is not an analysis)."""


def write_preview(location: str, target: str | Path) -> None:
    """Write the preview PNG of the store at ``location`` to ``target`` (atomically)."""
    from PIL import Image

    if holds_plate(location):
        plate = open_plate(location)
        image = next((w.fields[0] for w in plate.wells if w.fields), None)
        if image is None:
            raise InputError("the plate has no field of view to preview", path=location)
        with reading(location):
            planes = _plate_planes(plate, _channel_count(image), location)
    else:
        image = open_images(location)[0]
        with reading(location):
            planes = _channel_planes(image, location, MAX_SIDE)
    rgb = composite(planes, image.channel_colors, image.channel_windows)
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        Image.fromarray(rgb, mode="RGB").save(handle, format="PNG")


def _plate_planes(plate: NgffPlate, channels: int, location: str) -> np.ndarray:
    """(channels, y, x) mosaic of the wells' first fields, one square cell per well with a
    1-pixel margin (a small field enlarged by whole pixels to fill it); NaN (drawn black)
    where a well or a channel is missing."""
    cell = max(3, MAX_SIDE // max(len(plate.rows), len(plate.columns), 1))
    mosaic = np.full((channels, cell * len(plate.rows), cell * len(plate.columns)), np.nan)
    for well in plate.wells:
        if not well.fields:
            continue
        planes = _channel_planes(well.fields[0], location, cell - 2)[:channels]
        zoom = max(1, (cell - 2) // max(planes.shape[1:]))  # small fields fill their cell
        planes = planes.repeat(zoom, axis=1).repeat(zoom, axis=2)
        top = plate.rows.index(well.row) * cell + 1
        left = plate.columns.index(well.column) * cell + 1
        height, width = planes.shape[1:]
        mosaic[: len(planes), top : top + height, left : left + width] = planes
    return mosaic


def _channel_count(image: NgffImage) -> int:
    names = image.axis_names
    return min(image.levels[-1].shape[names.index("c")], MAX_CHANNELS) if "c" in names else 1


def _channel_planes(image: NgffImage, location: str, side: int) -> np.ndarray:
    """(channels, y, x) float planes of the lowest level, every n-th pixel so that neither
    side exceeds ``side``: maximum projection of the other axes."""
    level = image.levels[-1]
    names = image.axis_names
    if "y" not in names or "x" not in names:
        raise InputError("the image has no y and x axes to preview", path=location)
    step = max(1, math.ceil(max(level.shape[names.index(a)] for a in ("y", "x")) / side))
    index: list[slice | int] = []
    for name, size in zip(names, level.shape, strict=True):
        if name in ("y", "x"):
            index.append(slice(None, None, step))
        elif name == "c":
            index.append(slice(0, min(size, MAX_CHANNELS)))
        elif name == "t":
            index.append(0)
        else:
            index.append(slice(None))
    kept = [n for n, i in zip(names, index, strict=True) if not isinstance(i, int)]
    shape = [
        len(range(*i.indices(size)))
        for i, size in zip(index, level.shape, strict=True)
        if isinstance(i, slice)
    ]
    decoded = math.prod(shape) * level.dtype.itemsize
    limits.enforce("FAIRIO_MAX_DECODED_BYTES", decoded, "bytes read for the preview", location)
    data = np.asarray(level[tuple(index)])
    if "c" not in kept:
        data, kept = data[np.newaxis], ["c", *kept]
    order = [kept.index("c"), *(i for i, n in enumerate(kept) if n not in ("c", "y", "x"))]
    order += [kept.index("y"), kept.index("x")]
    data = np.transpose(data, order)
    data = data.reshape(data.shape[0], -1, *data.shape[-2:]).max(axis=1)
    return data.astype(np.float64)


def composite(
    planes: np.ndarray,
    colors: list[str | None],
    windows: list[tuple[float, float] | None],
) -> np.ndarray:
    """``(c, y, x)`` planes as one ``(y, x, 3)`` uint8 RGB image."""
    rgb = np.zeros((*planes.shape[1:], 3))
    for index, plane in enumerate(planes):
        window = windows[index] if index < len(windows) else None
        if window is None and np.isnan(plane).all():
            continue
        low, high = window or (float(np.nanmin(plane)), float(np.nanmax(plane)))
        scaled = np.clip((plane - low) / (high - low), 0, 1) if high > low else plane * 0
        color = colors[index] if index < len(colors) else None
        color = color or ("FFFFFF" if len(planes) == 1 else DEFAULT_COLORS[index % 7])
        rgb += np.nan_to_num(scaled)[..., None] * (
            np.frombuffer(bytes.fromhex(color), dtype=np.uint8) / 255
        )
    return (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)
