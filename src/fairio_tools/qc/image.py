"""The pixels of one channel of a QC image, with its spatial calibration in micrometres.

Pixels are read through the project's one image reader (``images.pixels.read_series``), bounded by
``FAIRIO_MAX_DECODED_BYTES``; calibration comes from ``images.info`` (OME-XML, ImageJ or
TIFF resolution tags).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fairio_tools.errors import InputError
from fairio_tools.ngff.axes import micrometres


@dataclass
class QcImage:
    """Spatial pixels (axes ``z, y, x`` or ``y, x``) of one channel and time point."""

    path: Path
    data: np.ndarray
    axes: list[str]
    dtype: str
    spacing_um: dict[str, float] = field(default_factory=dict)
    """Pixel size per calibrated spatial axis, in micrometres."""
    saturation: float | None = None
    """The largest value the pixel type holds (integer types), where a detector saturates."""
    notes: list[str] = field(default_factory=list)

    def scale(self, axis: str) -> float:
        """Micrometres per pixel along ``axis``, or 1.0 (a pixel) when it is not calibrated."""
        return self.spacing_um.get(axis, 1.0)

    def unit(self, axis: str) -> str:
        return "micrometer" if axis in self.spacing_um else "pixel"


def read_qc_image(path: Path, channel: int = 0, series: int = 0) -> QcImage:
    """One channel of series ``series`` of ``path``; InputError when it cannot be used."""
    from fairio_tools.images.pixels import read_series

    data, described = read_series(path, series)
    axes = list(described.axes)
    notes: list[str] = []
    if "t" in axes:
        index = axes.index("t")
        if data.shape[index] > 1:
            raise InputError(
                f"has {data.shape[index]} time points; a QC metric measures one",
                path=path,
                hint="export the time point to measure as its own image",
            )
        data, axes = np.take(data, 0, axis=index), [a for a in axes if a != "t"]
    if "c" in axes:
        index = axes.index("c")
        if not 0 <= channel < data.shape[index]:
            raise InputError(
                f"has {data.shape[index]} channel(s); channel {channel} does not exist",
                path=path,
                field="--channel",
            )
        data, axes = np.take(data, channel, axis=index), [a for a in axes if a != "c"]
    elif channel > 0:
        raise InputError(
            f"has 1 channel; channel {channel} does not exist", path=path, field="--channel"
        )
    if not set(axes) <= {"z", "y", "x"} or axes[-2:] != ["y", "x"]:
        raise InputError(
            f"has axes {''.join(axes)!r}; expected spatial axes ending in yx", path=path
        )
    if "z" in axes and data.shape[axes.index("z")] == 1:
        data, axes = data[0], ["y", "x"]
    dtype = np.dtype(described.dtype)
    spacing: dict[str, float] = {}
    for axis in axes:
        quantity = described.physical_sizes.get(axis)
        size = None if quantity is None else micrometres(quantity.value, quantity.unit)
        if size is None:
            notes.append(f"axis {axis} is not calibrated in a length unit: values in pixels")
        else:
            spacing[axis] = size
    saturation = float(np.iinfo(dtype).max) if dtype.kind in "ui" else None
    return QcImage(path, data.astype(np.float64), axes, dtype.name, spacing, saturation, notes)
