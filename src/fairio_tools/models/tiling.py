"""Cut an image into model-sized tiles whose halo-free centres cover it without seams.

Per axis the model accepts a fixed size, or ``min + n * step``. The rule, the same as
bioimageio.core's blocked prediction (so both give the same pixels):

* an axis that fits one valid tile of at most ``DEFAULT_MAX_TILE`` (or ``--tile``) is run
  whole, padded at its end up to the smallest valid size when it is not one itself (the way
  a model's own test runs it);
* a longer axis is cut into inner blocks of ``tile - 2 * halo`` pixels, every
  ``tile - 2 * halo`` from 0, the last one moved back to end at the border; each tile reads
  its block plus ``halo`` pixels either side, and where that lies outside the image the
  image is padded by mirroring (numpy's ``symmetric``, bioimage.io's default ``pad``).
  Only the inner block of each tile's output is kept.

Outputs on a rescaled grid (an output axis whose size refers to an input axis with another
``scale``) keep the inner block scaled by ``factor`` output pixels per input pixel.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

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
    """One tile along one axis: read ``[start, start + size)`` of the padded axis (whose
    pixel 0 is image pixel ``-plan.pad_before``) and keep the output of image pixels
    ``[keep_start, keep_stop)``."""

    start: int
    size: int
    keep_start: int
    keep_stop: int


@dataclass(frozen=True)
class AxisPlan:
    """How one axis is tiled: tile size, mirrored padding before and after, the tiles."""

    tile_size: int
    pad_before: int
    pad_after: int
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
        while tile <= 2 * halo:
            tile += size.step
    if tile <= 2 * halo and tile < extent:
        raise InputError(
            f"tile size {tile} leaves nothing inside the model's halo of {halo} on each side",
            field="--tile",
            hint="choose a larger tile",
        )
    return tile


def plan_axis(extent: int, tile: int, halo: int, multiple: int = 1) -> AxisPlan:
    """Tiles of size ``tile`` over ``extent`` pixels by the rule above; inner blocks start
    at multiples of ``multiple`` (input pixels per output pixel of a downsampling model)."""
    if extent <= tile:
        return AxisPlan(tile, 0, tile - extent, (AxisTile(0, tile, 0, extent),))
    inner = tile - 2 * halo
    if inner % multiple or extent % multiple:
        raise InputError(
            f"an axis of {extent} pixels cannot be tiled by {tile} with a halo of {halo} "
            f"when the output has one pixel per {multiple} input pixels",
            field="--tile",
            hint=f"give an image and tile whose inner size are multiples of {multiple}",
        )
    starts = sorted({min(p, extent - inner) for p in range(0, extent, inner)})
    tiles = tuple(AxisTile(s, tile, s, min(s + inner, extent)) for s in starts)
    pad_after = max(0, tiles[-1].start + tile - halo - extent)
    return AxisPlan(tile, halo, pad_after, tiles)


@dataclass(frozen=True)
class Tile:
    """One n-dimensional tile over the tiled axes, in the order the plans were given."""

    read: tuple[slice, ...]
    """Where to read the input (in the padded image)."""
    keep: tuple[tuple[int, int], ...]
    """Which image pixels (input grid) the tile's output is kept for."""
    origin: tuple[int, ...]
    """The image pixel (input grid) of the tile's first pixel."""


def tiles(plans: list[AxisPlan]) -> list[Tile]:
    """The cartesian product of the per-axis plans."""
    result = []
    for combo in itertools.product(*(plan.tiles for plan in plans)):
        result.append(
            Tile(
                read=tuple(slice(t.start, t.start + t.size) for t in combo),
                keep=tuple((t.keep_start, t.keep_stop) for t in combo),
                origin=tuple(t.start - p.pad_before for t, p in zip(combo, plans, strict=True)),
            )
        )
    return result


def scaled(value: int, factor: Fraction, what: str) -> int:
    """``value`` input pixels in output pixels (refused when not a whole number)."""
    result = value * factor
    if result.denominator != 1:
        raise InputError(
            f"{what}: {value} input pixels are {float(result)} output pixels, not a whole number",
            hint="give an image whose size the model's output scale divides",
        )
    return int(result)
