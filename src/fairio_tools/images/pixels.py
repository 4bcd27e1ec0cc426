"""Lazy, chunk-by-chunk access to the pixels of an image file.

TIFF pixels are read through tifffile's Zarr interface, one region at a time, so an image
larger than memory is never loaded whole. The region reader is a small picklable object
(path, series, shape, dtype): a Dask distributed worker reopens the file itself.
"""

from __future__ import annotations

import functools
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools.images.formats import ImageFormat, detect_format
from fairio_tools.images.reading import decoding, open_tiff, read_whole

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

    if detect_format(path) is ImageFormat.TIFF:
        source = TiffRegions(path, series, tuple(shape), np.dtype(dtype))
        return da.from_array(source, chunks=chunks, lock=False, asarray=False, name=False)
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize  # PNG, JPEG: decoded whole, bounded
    return da.from_array(read_whole(path, 0, nbytes), chunks=chunks)
