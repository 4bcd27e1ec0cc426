"""Access to the pixels of an image file: lazy, chunk by chunk, or one series in memory.

Every tool reads pixels here (``convert`` lazily, ``label``, ``predict`` and ``qc`` through
``read_series``), after ``images.info`` has described the file.

TIFF pixels are read through tifffile's Zarr interface, CZI and LIF pixels through
``vendor.VendorRegions``, one region at a time, so an image larger than memory is never
loaded whole. The region readers are small picklable objects (path, series, shape, dtype):
a Dask distributed worker reopens the file itself.
"""

from __future__ import annotations

import functools
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools.errors import InputError
from fairio_tools.images.formats import ImageFormat, detect_format
from fairio_tools.images.info import SeriesInfo, read_image_info
from fairio_tools.images.ome_set import OmeSet, SetRegions, complete_set
from fairio_tools.images.reading import check_decoded_size, decoding, open_tiff, read_whole
from fairio_tools.images.vendor import VendorRegions, vendor_series

_OPEN_LOCK = threading.Lock()


@functools.lru_cache(maxsize=16)
def _tiff_level(path: str, series: int, mtime_ns: int) -> Any:
    """Level 0 of one TIFF series as a read-only zarr array (cached per process)."""
    import zarr

    with open_tiff(Path(path)) as tif:
        store = tif.aszarr(series=series, level=0)
    return zarr.open_array(store, mode="r")


class TiffRegions:
    """Array-like view of one TIFF series: reads only the region that is indexed."""

    def __init__(self, path: Path, series: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path = str(path)
        self.series = series
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.mtime_ns = path.stat().st_mtime_ns

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray:
        path = Path(self.path)
        with _OPEN_LOCK, decoding(path, "TIFF"):
            array = _tiff_level(self.path, self.series, self.mtime_ns)
        with decoding(path, "TIFF"):  # corrupt compressed data fails here, chunk by chunk
            return np.asarray(array[region])


def lazy_pixels(path: Path, series: int, shape: list[int], dtype: str, chunks: Any) -> Any:
    """Pixels of one series as a Dask array with the given chunks, read on demand."""
    import dask.array as da

    oset = complete_set(path)
    if oset is not None:
        source = SetRegions(oset, series)
        return da.from_array(source, chunks=chunks, lock=False, asarray=False, name=False)
    fmt = detect_format(path)
    if fmt is ImageFormat.TIFF or fmt.is_vendor:
        source = _regions(path, fmt, series, tuple(shape), np.dtype(dtype))
        return da.from_array(source, chunks=chunks, lock=False, asarray=False, name=False)
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize  # PNG, JPEG: decoded
    return da.from_array(read_whole(path, series, nbytes), chunks=chunks)  # whole, bounded


def _regions(
    path: Path, fmt: ImageFormat, series: int, shape: tuple[int, ...], dtype: np.dtype
) -> TiffRegions | VendorRegions:
    """The region reader of one series of a TIFF, CZI or LIF file."""
    if fmt is ImageFormat.TIFF:
        return TiffRegions(path, series, shape, dtype)
    return VendorRegions(path, fmt.value, vendor_series(path, fmt.value)[series])


def read_series(
    path: Path, series: int = 0, channel: int | None = None
) -> tuple[np.ndarray, SeriesInfo]:
    """The pixels of series ``series`` of ``path`` in memory, with what image-info says of it.

    With ``channel`` only that channel is decoded (a TIFF region read) and the ``c`` axis
    removed from the array, not from the returned description. Bounded by
    ``FAIRIO_MAX_DECODED_BYTES``; InputError naming ``--channel`` for a channel it lacks.
    """
    info = read_image_info(path)
    if not 0 <= series < len(info.series):
        raise InputError(
            f"has {len(info.series)} series; series {series} does not exist",
            path=path,
            field="--series",
        )
    described = info.series[series]
    oset = complete_set(path)
    if channel is not None:
        return _read_channel(path, described, channel, oset), described
    if oset is not None:
        check_decoded_size(path, described.nbytes)
        data = SetRegions(oset, series)[(slice(None),) * 5]
    else:
        data = read_whole(path, series, described.nbytes)
    if list(data.shape) != described.shape:
        raise InputError(
            f"pixels have shape {list(data.shape)} but the metadata say {described.shape}",
            path=path,
        )
    return data, described


def _read_channel(
    path: Path, described: SeriesInfo, channel: int, oset: OmeSet | None
) -> np.ndarray:
    """One channel of a series, its ``c`` axis removed; only that channel is decoded from
    a TIFF, CZI, LIF or multi-file set."""
    count = described.shape[described.axes.index("c")] if "c" in described.axes else 1
    if not 0 <= channel < count:
        raise InputError(
            f"has {count} channel(s); channel {channel} does not exist",
            path=path,
            field="--channel",
        )
    if "c" not in described.axes:
        return read_whole(path, described.index, described.nbytes)
    axis = described.axes.index("c")
    region = tuple(
        slice(channel, channel + 1) if i == axis else slice(None)
        for i in range(len(described.axes))
    )
    if oset is not None:
        check_decoded_size(path, described.nbytes // count)
        return SetRegions(oset, described.index)[region].squeeze(axis)
    fmt = detect_format(path)
    if fmt is ImageFormat.TIFF or fmt.is_vendor:
        check_decoded_size(path, described.nbytes // count)
        shape = tuple(described.shape)
        source = _regions(path, fmt, described.index, shape, np.dtype(described.dtype))
        return source[region].squeeze(axis)
    return np.take(read_whole(path, described.index, described.nbytes), channel, axis=axis)
