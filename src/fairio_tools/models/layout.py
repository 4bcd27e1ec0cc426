"""Match an image's axes to a model input's axes, or explain plainly why they do not fit."""

from __future__ import annotations

from typing import Any

import numpy as np

from fairio_tools.errors import InputError


def model_axis_name(axis: Any) -> str:
    """The image axis name a model axis corresponds to (``c`` for channel, ``b`` batch)."""
    return {"batch": "b", "channel": "c", "index": "i"}.get(axis.type, str(axis.id))


def expectation(tensor: Any) -> str:
    """What a model input expects, for error messages: e.g. ``'raw': axes b,c,y,x
    (1 channel: raw_intensity; y 512; x 512)``."""
    details = []
    for axis in tensor.axes:
        if axis.type == "batch":
            continue
        if axis.type == "channel":
            names = ", ".join(str(n) for n in axis.channel_names)
            count = len(axis.channel_names)
            details.append(f"{count} channel{'s' if count != 1 else ''}: {names}")
            continue
        size = axis.size
        if hasattr(size, "step"):
            details.append(f"{axis.id} {size.min}+n*{size.step}")
        elif isinstance(size, int):
            details.append(f"{axis.id} {size}")
        else:
            details.append(str(axis.id))
    names = ",".join(model_axis_name(a) for a in tensor.axes)
    return f"input {str(tensor.id)!r} with axes {names} ({'; '.join(details)})"


def guess_axes(shape: tuple[int, ...], tensor: Any, source: Any) -> list[str]:
    """Axes for an array whose file names none (``.npy``): the model's own order when the
    number of dimensions matches, ``y,x`` for 2D; otherwise the user must say."""
    model_axes = [model_axis_name(a) for a in tensor.axes]
    if len(shape) == len(model_axes):
        return model_axes
    if len(shape) == 2 and {"y", "x"} <= set(model_axes):
        return ["y", "x"]
    raise InputError(
        f"cannot tell the axes of an array of shape {shape}",
        path=source,
        hint=f"pass --axes (the model expects {expectation(tensor)})",
    )


def arrange_for_model(
    data: np.ndarray, axes: list[str], tensor: Any, source: Any
) -> tuple[np.ndarray, list[str]]:
    """``data`` (with ``axes``) reordered and reshaped to the model input's axes.

    Singleton axes the model lacks are dropped, batch and single channel axes added.
    Returns the array and the model's axis names (``b``, ``c``, ``z``, ``y``, ``x``, ...).
    """
    if len(axes) != data.ndim or len(set(axes)) != len(axes):
        raise InputError(
            f"axes {''.join(axes)!r} do not fit an array of shape {data.shape}",
            path=source,
            field="--axes",
        )
    sizes = dict(zip(axes, data.shape, strict=True))
    described = f"has axes {''.join(axes)} with shape {' x '.join(map(str, data.shape))}"
    order: list[str] = []
    wanted: list[str] = []
    for axis in tensor.axes:
        name = model_axis_name(axis)
        wanted.append(name)
        if axis.type == "channel":
            expected = len(axis.channel_names)
            present = sizes.get("c", 1)
            if present != expected:
                raise InputError(
                    f"image {described}: {present} channel{'s' if present != 1 else ''}, but "
                    f"the model expects {expectation(tensor)}",
                    path=source,
                    hint=f"give an image with {expected} channel{'s' if expected != 1 else ''}",
                )
        elif name not in sizes and axis.type != "batch":
            size = axis.size
            accepts_one = size is None or size == 1 or (hasattr(size, "step") and size.min == 1)
            if not accepts_one:
                raise InputError(
                    f"image {described}: it has no {name} axis, but the model expects "
                    f"{expectation(tensor)}",
                    path=source,
                )
        if name in sizes:
            order.append(name)
    extra = [a for a in axes if a not in wanted]
    for name in extra:
        if sizes[name] != 1:
            raise InputError(
                f"image {described}: its {name} axis (size {sizes[name]}) has no place in "
                f"the model's {expectation(tensor)}",
                path=source,
                hint=f"give the model one {name} plane at a time",
            )
    squeezed = data.reshape([sizes[a] for a in axes if a not in extra] or [1])
    kept = [a for a in axes if a not in extra]
    arranged = np.transpose(squeezed, [kept.index(a) for a in order])
    shape = [sizes.get(name, 1) for name in wanted]
    return arranged.reshape(shape), wanted
