"""Read the image a model runs on, and write its prediction (OME-Zarr or OME-TIFF).

Readers return the pixels with NGFF axis names and the physical scale per axis. Predictions
are written as one-level NGFF images (0.5 by default, or 0.4) through the one NGFF writer
(``ngff.writer``), their axes in NGFF order, or as OME-TIFF.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.atomic import atomic_output
from fairio_tools.errors import InputError, OutputError
from fairio_tools.ngff.axes import AXIS_TYPES, NGFF_ORDER
from fairio_tools.ngff.format import DEFAULT_VERSION, FORMATS, NgffFormat

NPY_MAGIC = b"\x93NUMPY"
_OME_UNITS = {
    "micrometer": "µm", "nanometer": "nm", "millimeter": "mm", "centimeter": "cm",
    "meter": "m", "picometer": "pm", "angstrom": "Å", "inch": "in",
}  # fmt: skip


@dataclass
class Image:
    """Pixels with their NGFF axis names (None when the file does not say) and scale."""

    data: np.ndarray
    axes: list[str] | None
    scale: dict[str, tuple[float, str | None]] = field(default_factory=dict)
    """Physical size per axis: (value, NGFF unit)."""


def read_image(path: Path, level: int = 0) -> Image:
    """Read a TIFF, PNG, ``.npy`` or OME-Zarr (pyramid ``level``) image."""
    path = Path(path)
    if path.is_dir():
        return _read_ome_zarr(path, level)
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(len(NPY_MAGIC))
        if head == NPY_MAGIC:
            return _read_npy(path)
    return _read_with_image_info(path)


def _read_npy(path: Path) -> Image:
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise InputError(f"cannot be read as .npy: {error}", path=path) from error
    return Image(data, None)


def _read_with_image_info(path: Path) -> Image:
    from fairio_tools.images.pixels import read_series

    data, series = read_series(path, 0)
    scale = {a: (q.value, q.unit) for a, q in series.physical_sizes.items()}
    return Image(data, list(series.axes), scale)


def _read_ome_zarr(path: Path, level: int) -> Image:
    from fairio_tools.ngff.reader import open_images
    from fairio_tools.ngff.store import reading

    image = open_images(str(path))[0]
    if not 0 <= level < len(image.levels):
        raise InputError(
            f"pyramid level {level} does not exist (levels 0 to {len(image.levels) - 1})",
            path=path,
            field="--level",
        )
    array = image.levels[level]
    what = f"bytes of level {level} to predict on in memory (a coarser --level holds fewer)"
    limits.enforce("FAIRIO_MAX_DECODED_BYTES", array.nbytes, what, path)
    with reading(path):
        data = np.asarray(array)
    scale = {
        axis: (value, image.unit(axis))
        for axis, value in zip(image.axis_names, image.scales[level], strict=True)
        if AXIS_TYPES.get(axis) in ("space", "time")
    }
    return Image(data, image.axis_names, scale)


def prediction_format(version: str | None) -> NgffFormat:
    """The NGFF format predictions are written in: ``version`` (one of ``FORMATS``, the
    versions every writer writes), by default ``DEFAULT_VERSION``."""
    fmt = FORMATS.get(version or DEFAULT_VERSION)
    if fmt is None:
        raise InputError(
            f"unsupported NGFF version {version!r} for a prediction",
            field="--ngff-version",
            hint=f"use one of {', '.join(FORMATS)}",
        )
    return fmt


def write_prediction(
    data: np.ndarray,
    axes: list[str],
    scale: dict[str, tuple[float, str | None]],
    target: Path,
    output_format: str,
    attributes: dict[str, Any],
    jsonld: str,
    fmt: NgffFormat | None = None,
) -> None:
    """Write one output of a prediction as ``ome-zarr`` (NGFF ``fmt``, by default
    ``DEFAULT_VERSION``, with ``provenance.jsonld`` in the store) or ``tiff``, with
    ``attributes`` in its metadata."""
    if output_format == "ome-zarr":
        files = {"provenance.jsonld": jsonld}
        write_ome_zarr(data, axes, scale, target, attributes, files, fmt)
    elif output_format == "tiff":
        write_ome_tiff(data, axes, scale, target, attributes)
    else:
        raise InputError(f"unknown output format {output_format!r}", field="--format")


def write_ome_zarr(
    data: np.ndarray,
    axes: list[str],
    scale: dict[str, tuple[float, str | None]],
    target: Path,
    attributes: dict[str, Any],
    files: dict[str, str] | None = None,
    fmt: NgffFormat | None = None,
) -> None:
    """Write ``data`` as a one-level NGFF image (``fmt``, by default ``DEFAULT_VERSION``)
    through the NGFF writer; extra ``attributes`` and ``files`` too.

    The axes are those of ``data`` in NGFF order (:func:`ngff_order`), no axis added; a
    batch axis ``b`` of size 1 is dropped. The store is built in a temporary sibling and
    moved into place when complete.
    """
    import zarr

    from fairio_tools.ngff import writer

    fmt = fmt or FORMATS[DEFAULT_VERSION]
    data, axes = ngff_order(data, axes, target)
    refuse_existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target, overwrite=False, folder=True) as location:
        temporary = Path(location)
        group = zarr.open_group(str(temporary), mode="a", zarr_format=fmt.zarr_format)
        chunks = tuple(1 if AXIS_TYPES.get(a) != "space" else 512 for a in axes)
        (array,) = writer.create_levels(group, fmt, [data], axes, chunks, "zstd")
        array[...] = data
        ngff_axes = []
        for axis in axes:
            entry: dict[str, Any] = {"name": axis, "type": AXIS_TYPES.get(axis, "space")}
            unit = scale.get(axis, (1.0, None))[1]
            if unit:
                entry["unit"] = unit
            ngff_axes.append(entry)
        values = [scale.get(a, (1.0, None))[0] for a in axes]
        multiscales = writer.multiscales_attributes(fmt, ngff_axes, values, 1, target.name, None)
        group.attrs.update({**fmt.group_attributes(multiscales), **attributes})
        for name, text in (files or {}).items():
            (temporary / name).write_text(text, encoding="utf-8")


def ngff_order(
    data: np.ndarray, axes: list[str], target: Path | None = None
) -> tuple[np.ndarray, list[str]]:
    """``data`` and its ``axes`` in NGFF order: time, channel, then z, y, x (axes NGFF does
    not name stay, in their order, between channel and space); a batch axis ``b`` of size 1
    is dropped, a larger one refused."""
    if len(axes) != data.ndim:
        raise OutputError(f"{data.ndim}-dimensional output with axes {','.join(axes)}", path=target)
    if "b" in axes:
        batch = axes.index("b")
        if data.shape[batch] != 1:
            raise OutputError(
                f"a batch of {data.shape[batch]} images cannot be one NGFF image", path=target
            )
        data, axes = np.take(data, 0, axis=batch), [a for a in axes if a != "b"]

    def rank(axis: str) -> float:
        if axis in NGFF_ORDER:
            return NGFF_ORDER.index(axis)
        return NGFF_ORDER.index("z") - 0.5  # after t and c, before the space axes

    order = sorted(range(len(axes)), key=lambda i: (rank(axes[i]), i))
    return np.transpose(data, order), [axes[i] for i in order]


def write_ome_tiff(
    data: np.ndarray,
    axes: list[str],
    scale: dict[str, tuple[float, str | None]],
    target: Path,
    description: dict[str, Any],
) -> None:
    """Write ``data`` as OME-TIFF in NGFF axis order (a channels-last output's channel moves
    before its space axes) with physical sizes and ``description`` (JSON) in OME-XML."""
    import tifffile

    refuse_existing(target)
    data, axes = ngff_order(data, axes, target)
    metadata: dict[str, Any] = {
        "axes": "".join(axes).upper(),
        "Description": json.dumps(description),
    }
    for axis in ("z", "y", "x"):
        if axis in axes and axis in scale:
            value, unit = scale[axis]
            metadata[f"PhysicalSize{axis.upper()}"] = value
            if unit:
                metadata[f"PhysicalSize{axis.upper()}Unit"] = _OME_UNITS.get(unit, unit)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target, overwrite=False) as temporary:
        tifffile.imwrite(temporary, data, ome=True, metadata=metadata, compression="zlib")


def refuse_existing(target: Path) -> None:
    """Refuse to overwrite an existing output (an empty file, as Galaxy pre-creates, is fine)."""
    if target.exists() and (target.is_dir() or target.stat().st_size > 0):
        raise OutputError("already exists", path=target, hint="remove it or choose another name")
