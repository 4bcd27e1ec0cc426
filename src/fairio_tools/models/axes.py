"""Where a model's output axes lie relative to its input axes (bioimage.io spec 0.5).

An output space or time axis whose size refers to an input axis lies on that input's grid
rescaled by ``factor`` = input ``scale`` / output ``scale`` output pixels per input pixel
(4 for a 4 x upsampling model, 1/2 for a 2 x downsampling one), plus ``offset`` pixels.
Any other output axis (batch, channel, a fixed-size new axis, a data-dependent size) is
taken whole from the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from fairio_tools.errors import InputError


@dataclass(frozen=True)
class GridLink:
    """An output axis on the grid of input ``tensor_id``'s axis ``axis_id``."""

    tensor_id: str
    axis_id: str
    factor: Fraction
    offset: int


def grid_link(descr: Any, axis: Any) -> GridLink | None:
    """How output ``axis`` follows an input axis, or None when it does not."""
    size = getattr(axis, "size", None)
    if axis.type not in ("space", "time") or not hasattr(size, "tensor_id"):
        return None
    reference = _input_axis(descr, str(size.tensor_id), str(size.axis_id))
    if reference is None:
        return None
    ratio = Fraction(str(getattr(reference, "scale", 1.0))) / Fraction(
        str(getattr(axis, "scale", 1.0))
    )
    return GridLink(str(size.tensor_id), str(size.axis_id), ratio, int(size.offset))


def _input_axis(descr: Any, tensor_id: str, axis_id: str) -> Any:
    for tensor in descr.inputs:
        if str(tensor.id) == tensor_id:
            for axis in tensor.axes:
                if str(axis.id) == axis_id:
                    return axis
    return None


def input_halo(descr: Any, tensor_id: str, axis_id: str) -> int:
    """Input pixels to discard at each side of a tile's ``axis_id``: the largest output halo
    of the outputs on this axis' grid, in input pixels (rounded up)."""
    halos = [0]
    for output in descr.outputs:
        for axis in output.axes:
            link = grid_link(descr, axis)
            halo = getattr(axis, "halo", 0) or 0
            if link and (link.tensor_id, link.axis_id) == (tensor_id, axis_id) and halo:
                halos.append(-(-Fraction(halo) // link.factor))
    return int(max(halos))


def expected_size(descr: Any, axis: Any, input_sizes: dict[tuple[str, str], int]) -> int | None:
    """The size the description promises for output ``axis`` given the input sizes (by
    tensor and axis id), or None when it promises none (data dependent)."""
    if axis.type == "batch":
        return None
    if axis.type == "channel":
        return len(axis.channel_names)
    size = getattr(axis, "size", None)
    if isinstance(size, int):
        return size
    if hasattr(size, "tensor_id"):
        reference = (str(size.tensor_id), str(size.axis_id))
        if reference not in input_sizes:
            return None
        link = grid_link(descr, axis)
        factor = Fraction(1) if link is None else link.factor
        return int(input_sizes[reference] * factor) + int(size.offset)
    return None


def check_output_shape(
    descr: Any,
    output: Any,
    shape: tuple[int, ...],
    input_sizes: dict[tuple[str, str], int],
    source: Any,
) -> None:
    """Refuse a model output whose shape is not the one its description promises."""
    promised = [expected_size(descr, axis, input_sizes) for axis in output.axes]
    if len(shape) != len(promised) or any(
        p is not None and p != s for p, s in zip(promised, shape, strict=False)
    ):
        said = " x ".join("?" if p is None else str(p) for p in promised)
        raise InputError(
            f"the model's output {str(output.id)!r} has shape {' x '.join(map(str, shape))}, "
            f"but its description promises {said}",
            path=source,
        )
