"""Cut an image into model-sized tiles whose halo-free centres cover it without seams.

Per axis the model accepts a fixed size, or ``min + n * step``. A tile of size ``T`` with
output halo ``h`` gives trustworthy output only in its centre ``[h, T - h)``; tiles overlap by
``2h`` and each output pixel is taken from the centre of exactly one tile (at the image's
border from the tile's edge, as when the model sees that image whole). An axis shorter than a
valid tile is padded (reflected) up to one and cropped afterwards.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from fairio_tools.errors import InputError

DEFAULT_MAX_TILE = 1024
"""Largest tile per axis chosen for parameterized inputs when the user names none."""


@dataclass(frozen=True)
class AxisSize:
    """Valid input sizes of one spatial axis: ``min + n * step`` (step 0: fixed at min)."""

    min: int
    step: int = 0

    def is_valid(self, size: int) -> bool:
        if size < self.min:
            return False
        return size == self.min if self.step == 0 else (size - self.min) % self.step == 0

    def at_least(self, size: int) -> int:
        """The smallest valid size >= ``size``."""
        if size <= self.min or self.step == 0:
            return self.min
        return self.min + -(-(size - self.min) // self.step) * self.step

    def at_most(self, size: int) -> int | None:
        """The largest valid size <= ``size`` (None when even ``min`` is larger)."""
        if size < self.min:
            return None
        if self.step == 0:
            return self.min
        return self.min + (size - self.min) // self.step * self.step

    def describe(self) -> str:
        return str(self.min) if self.step == 0 else f"{self.min} + n*{self.step}"


@dataclass(frozen=True)
class AxisTile:
    """One tile along one axis: read ``[start, start + size)`` of the (padded) axis and
    keep the output ``[keep_start, keep_stop)`` (image coordinates)."""

    start: int
    size: int
    keep_start: int
    keep_stop: int


@dataclass(frozen=True)
class AxisPlan:
    """How one axis is tiled: the tile size, padding at the end, and the tiles."""

    tile_size: int
    pad: int
    tiles: tuple[AxisTile, ...]


def choose_tile_size(extent: int, size: AxisSize, halo: int, requested: int | None) -> int:
    """The tile size for an axis of length ``extent`` (``requested`` is checked, not bent)."""
    if requested is not None:
        if not size.is_valid(requested):
            raise InputError(
                f"tile size {requested} is not valid: the model accepts {size.describe()}",
                field="--tile",
            )
        tile = requested
    elif size.step == 0:
        tile = size.min
    elif size.at_least(extent) <= max(DEFAULT_MAX_TILE, size.min):
        tile = size.at_least(extent)  # the whole axis in one tile
    else:
        tile = size.at_most(DEFAULT_MAX_TILE) or size.min
        while tile <= 2 * halo and tile < size.at_least(extent):
            tile += size.step
    if tile <= 2 * halo and tile < extent:
        raise InputError(
            f"tile size {tile} leaves nothing inside the model's halo of {halo} on each side",
            field="--tile",
            hint="choose a larger tile",
        )
    return tile


def plan_axis(extent: int, tile: int, halo: int) -> AxisPlan:
    """Tiles of size ``tile`` over ``extent`` pixels, overlapping so that each output pixel
    comes from at least ``halo`` pixels inside its tile (except at the image's border)."""
    if extent <= tile:
        return AxisPlan(tile, tile - extent, (AxisTile(0, tile, 0, extent),))
    step = tile - 2 * halo
    starts = []
    start = 0
    while True:
        start = min(start, extent - tile)
        starts.append(start)
        if start == extent - tile:
            break
        start += step
    tiles = []
    keep_start = 0
    for index, start in enumerate(starts):
        last = index == len(starts) - 1
        keep_stop = extent if last else start + tile - halo
        tiles.append(AxisTile(start, tile, keep_start, keep_stop))
        keep_start = keep_stop
    return AxisPlan(tile, 0, tuple(tiles))


@dataclass(frozen=True)
class Tile:
    """One n-dimensional tile over the spatial axes, in the order the plan was given."""

    read: tuple[slice, ...]
    """Where to read the input (in the padded image)."""
    keep_in_tile: tuple[slice, ...]
    """Which part of the tile's output to keep."""
    write: tuple[slice, ...]
    """Where that part goes in the output image."""


def tiles(plans: list[AxisPlan]) -> list[Tile]:
    """The cartesian product of the per-axis plans."""
    result = []
    for combo in itertools.product(*(plan.tiles for plan in plans)):
        result.append(
            Tile(
                read=tuple(slice(t.start, t.start + t.size) for t in combo),
                keep_in_tile=tuple(
                    slice(t.keep_start - t.start, t.keep_stop - t.start) for t in combo
                ),
                write=tuple(slice(t.keep_start, t.keep_stop) for t in combo),
            )
        )
    return result
