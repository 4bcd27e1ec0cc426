"""A PNG preview of an OME-Zarr image: what Galaxy's eye icon shows at once.

The lowest-resolution level of the first image, its first time point, the maximum over z
(and any other axis but c, y, x), each channel scaled to its ``omero`` display window (else
its own range) and drawn in its ``omero`` colour (else grey for one channel, the writer's
default colours for several), added up as RGB.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fairio_tools import limits
from fairio_tools.atomic import atomic_path
from fairio_tools.errors import InputError
from fairio_tools.ngff.reader import NgffImage, open_images
from fairio_tools.ngff.store import reading
from fairio_tools.ngff.writer import DEFAULT_COLORS

MAX_SIDE = 1024
"""Largest side of a preview in pixels: a larger level is read at every n-th pixel."""
MAX_CHANNELS = 16
"""Channels drawn in a preview; more are left out (a preview is not an analysis)."""


def write_preview(location: str, target: str | Path) -> None:
    """Write the preview PNG of the store at ``location`` to ``target`` (atomically)."""
    from PIL import Image

    image = open_images(location)[0]
    with reading(location):
        planes = _channel_planes(image, location)
    rgb = composite(planes, image.channel_colors, image.channel_windows)
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        Image.fromarray(rgb, mode="RGB").save(handle, format="PNG")


def _channel_planes(image: NgffImage, location: str) -> np.ndarray:
    """(channels, y, x) float planes of the lowest level: maximum projection of the rest."""
    level = image.levels[-1]
    names = image.axis_names
    if "y" not in names or "x" not in names:
        raise InputError("the image has no y and x axes to preview", path=location)
    step = max(1, math.ceil(max(level.shape[names.index(a)] for a in ("y", "x")) / MAX_SIDE))
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
        low, high = window or (float(np.nanmin(plane)), float(np.nanmax(plane)))
        scaled = np.clip((plane - low) / (high - low), 0, 1) if high > low else plane * 0
        color = colors[index] if index < len(colors) else None
        color = color or ("FFFFFF" if len(planes) == 1 else DEFAULT_COLORS[index % 7])
        rgb += np.nan_to_num(scaled)[..., None] * (
            np.frombuffer(bytes.fromhex(color), dtype=np.uint8) / 255
        )
    return (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)
