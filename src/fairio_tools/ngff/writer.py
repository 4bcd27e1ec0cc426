"""Write NGFF groups: multiscale images, label images and the bioformats2raw layout.

The functions here create arrays and metadata; the pixels are stored afterwards by one
``dask.array.store`` over every level, so that each chunk is read once and each level is
computed from the level above while it is still in memory.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from fairio_tools.ngff.format import NgffFormat

LAYOUT_VERSION = 3
"""bioformats2raw layout: series groups ``0``, ``1``... and ``OME/METADATA.ome.xml``."""

OME_XML_FILE = "OME/METADATA.ome.xml"

DEFAULT_COLORS = ("FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00", "FFFFFF")


def level_scales(scale: list[float], count: int) -> list[list[float]]:
    """The ``scale`` of each level: y and x (the last two axes) double at each level."""
    return [scale[:-2] + [s * 2**level for s in scale[-2:]] for level in range(count)]


def create_levels(
    group: Any,
    fmt: NgffFormat,
    levels: list[Any],
    axis_names: list[str],
    chunks: tuple[int, ...],
    compression: str,
) -> list[Any]:
    """Create one empty zarr array per pyramid level (``0``, ``1``, ...) in ``group``."""
    arrays = []
    for index, level in enumerate(levels):
        level_chunks = tuple(min(c, max(n, 1)) for c, n in zip(chunks, level.shape, strict=True))
        arrays.append(
            group.create_array(
                str(index),
                shape=level.shape,
                chunks=level_chunks,
                dtype=level.dtype,
                **fmt.array_options(axis_names, compression),
            )
        )
    return arrays


def multiscales_attributes(
    fmt: NgffFormat,
    axes: list[dict[str, str]],
    scale: list[float],
    level_count: int,
    name: str | None,
    method: str | None,
) -> dict[str, Any]:
    """The ``multiscales`` attribute for ``level_count`` levels of factor 2 in y and x
    (``method`` None: one level, made by no downsampling)."""
    datasets = [
        fmt.dataset(str(index), s) for index, s in enumerate(level_scales(scale, level_count))
    ]
    multiscale = fmt.multiscale(axes, datasets, name)
    if method is not None:
        multiscale["type"] = method
        multiscale["metadata"] = {
            "method": f"fairio_tools.ngff.pyramid ({method}, factor 2 in y, x)"
        }
    return {"multiscales": [multiscale]}


def omero_attributes(
    names: list[str], colors: list[str | None], dtype: np.dtype, windows: list[tuple[float, float]]
) -> dict[str, Any]:
    """The ``omero`` rendering attribute: channel labels, colours and display windows."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        low, high = float(info.min), float(info.max)
    else:
        low = min((w[0] for w in windows), default=0.0)
        high = max((w[1] for w in windows), default=1.0)
    single = len(windows) == 1
    channels = []
    for index, (start, end) in enumerate(windows):
        color = colors[index] if index < len(colors) else None
        name = names[index] if index < len(names) else ""
        channels.append(
            {
                "label": name or f"Channel {index}",
                "color": color or ("FFFFFF" if single else DEFAULT_COLORS[index % 7]),
                "active": True,
                "coefficient": 1,
                "family": "linear",
                "inverted": False,
                "window": {"min": low, "max": high, "start": start, "end": end},
            }
        )
    model = "greyscale" if single else "color"
    return {"omero": {"channels": channels, "rdefs": {"model": model}}}


def channel_windows(array: Any) -> list[tuple[float, float]]:
    """Per channel (axis 1 of t, c, z, y, x) the min and max of a stored level, read one
    stored chunk at a time (with ``--levels 1`` that level is the full image)."""
    channels = array.shape[1]
    if 0 in array.shape:
        return [(0.0, 0.0)] * channels
    lows: list[list[Any]] = [[] for _ in range(channels)]
    highs: list[list[Any]] = [[] for _ in range(channels)]
    steps = [range(0, n, c) for n, c in zip(array.shape, array.chunks, strict=True)]
    for corner in itertools.product(*steps):
        region = tuple(slice(i, i + c) for i, c in zip(corner, array.chunks, strict=True))
        block = np.asarray(array[region])
        for channel in range(block.shape[1]):
            lows[corner[1] + channel].append(block[:, channel].min())
            highs[corner[1] + channel].append(block[:, channel].max())
    return [(float(np.min(lo)), float(np.max(hi))) for lo, hi in zip(lows, highs, strict=True)]


def plate_attributes(
    fmt: NgffFormat,
    name: str,
    rows: list[str],
    columns: list[str],
    wells: list[tuple[str, str]],
    acquisitions: list[dict[str, Any]],
    field_count: int,
) -> dict[str, Any]:
    """The ``plate`` attribute: ``wells`` as (row name, column name) pairs of the plate's
    ``rows`` and ``columns``, the acquisitions left out when there are none."""
    row_index = {row: index for index, row in enumerate(rows)}
    column_index = {column: index for index, column in enumerate(columns)}
    plate: dict[str, Any] = {
        "name": name,
        "rows": [{"name": row} for row in rows],
        "columns": [{"name": column} for column in columns],
        "wells": [
            {
                "path": f"{row}/{column}",
                "rowIndex": row_index[row],
                "columnIndex": column_index[column],
            }
            for row, column in wells
        ],
        "field_count": field_count,
    }
    if acquisitions:
        plate["acquisitions"] = acquisitions
    return {"plate": fmt.versioned(plate)}


def well_attributes(fmt: NgffFormat, images: list[tuple[str, int | None]]) -> dict[str, Any]:
    """The ``well`` attribute: its fields of view as (path, acquisition id or None)."""
    entries = [
        {"path": path} if acquisition is None else {"acquisition": acquisition, "path": path}
        for path, acquisition in images
    ]
    return {"well": fmt.versioned({"images": entries})}
