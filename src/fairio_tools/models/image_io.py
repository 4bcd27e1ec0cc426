"""Read the image a model runs on, and write its prediction (OME-Zarr or OME-TIFF).

Readers return the pixels with NGFF axis names and the physical scale per axis. The OME-Zarr
writer is deliberately minimal (NGFF 0.4, one resolution level): the conversion module owns
the full writer.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from fairio_tools.errors import InputError, OutputError
from fairio_tools.ngff.axes import AXIS_TYPES

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
    from fairio_tools.images.info import read_image_info
    from fairio_tools.images.reading import read_whole

    info = read_image_info(path)
    series = info.series[0]
    data = read_whole(path, 0, series.nbytes)
    if list(data.shape) != series.shape:
        raise InputError(
            f"pixels have shape {data.shape} but the metadata says {series.shape}", path=path
        )
    scale = {a: (q.value, q.unit) for a, q in series.physical_sizes.items()}
    return Image(data, list(series.axes), scale)


def _read_ome_zarr(path: Path, level: int) -> Image:
    import zarr

    from fairio_tools.ngff.reader import first_image_group

    try:
        root = zarr.open_group(str(path), mode="r")
    except Exception as error:
        raise InputError(f"not a readable Zarr group: {error}", path=path) from error
    group, _ = first_image_group(root, str(path))
    attributes = dict(group.attrs)
    attributes = attributes.get("ome", attributes)  # NGFF 0.5 nests under "ome"
    multiscales = attributes.get("multiscales")
    if not isinstance(multiscales, list) or not multiscales:
        raise InputError(
            "Zarr group has no NGFF multiscales metadata", path=path, field="multiscales"
        )
    multiscale = multiscales[0]
    datasets = multiscale.get("datasets") or []
    if not 0 <= level < len(datasets):
        raise InputError(
            f"pyramid level {level} does not exist (levels 0 to {len(datasets) - 1})",
            path=path,
            field="--level",
        )
    dataset = datasets[level]
    member = str(dataset.get("path", ""))
    parts = PurePosixPath(member).parts
    if not parts or member.startswith("/") or ".." in parts or "\\" in member:
        raise InputError(
            f"dataset path {member!r} points outside the Zarr store: refused",
            path=path,
            field="multiscales.datasets.path",
        )
    try:
        data = np.asarray(group[member])
    except Exception as error:
        raise InputError(f"cannot read dataset {member!r}: {error}", path=path) from error
    axes_meta = multiscale.get("axes")
    if axes_meta is None:  # NGFF 0.1/0.2: always 5D tczyx
        axes = list("tczyx")[-data.ndim :]
        units: list[str | None] = [None] * data.ndim
    else:
        axes = [a["name"] if isinstance(a, dict) else str(a) for a in axes_meta]
        units = [a.get("unit") if isinstance(a, dict) else None for a in axes_meta]
    if len(axes) != data.ndim:
        raise InputError(
            f"multiscales lists {len(axes)} axes but dataset {member!r} has {data.ndim}",
            path=path,
            field="multiscales.axes",
        )
    scale: dict[str, tuple[float, str | None]] = {}
    for transform in dataset.get("coordinateTransformations") or []:
        if transform.get("type") == "scale" and len(transform.get("scale", [])) == data.ndim:
            for axis, value, unit in zip(axes, transform["scale"], units, strict=True):
                if AXIS_TYPES.get(axis) in ("space", "time"):
                    scale[axis] = (float(value), unit)
    return Image(data, axes, scale)


def write_ome_zarr(
    data: np.ndarray,
    axes: list[str],
    scale: dict[str, tuple[float, str | None]],
    target: Path,
    attributes: dict[str, Any],
    files: dict[str, str] | None = None,
) -> None:
    """Write ``data`` as a one-level NGFF 0.4 image; extra ``attributes`` and ``files`` too.

    The store is built in a temporary sibling and moved into place when complete.
    """
    import zarr

    refuse_existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=2)
        chunks = tuple(min(n, 1 if AXIS_TYPES.get(a) != "space" else 512) for n, a in
                       zip(data.shape, axes, strict=True))  # fmt: skip
        array = group.create_array(
            "0",
            shape=data.shape,
            dtype=data.dtype,
            chunks=chunks,
            chunk_key_encoding={"name": "v2", "separator": "/"},
        )
        array[...] = data
        ngff_axes = []
        for axis in axes:
            entry: dict[str, Any] = {"name": axis, "type": AXIS_TYPES.get(axis, "space")}
            unit = scale.get(axis, (1.0, None))[1]
            if unit:
                entry["unit"] = unit
            ngff_axes.append(entry)
        group.attrs.update(
            {
                "multiscales": [
                    {
                        "version": "0.4",
                        "name": target.name,
                        "axes": ngff_axes,
                        "datasets": [
                            {
                                "path": "0",
                                "coordinateTransformations": [
                                    {
                                        "type": "scale",
                                        "scale": [scale.get(a, (1.0, None))[0] for a in axes],
                                    }
                                ],
                            }
                        ],
                    }
                ],
                **attributes,
            }
        )
        for name, text in (files or {}).items():
            (temporary / name).write_text(text, encoding="utf-8")
        temporary.rename(target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def write_ome_tiff(
    data: np.ndarray,
    axes: list[str],
    scale: dict[str, tuple[float, str | None]],
    target: Path,
    description: dict[str, Any],
) -> None:
    """Write ``data`` as OME-TIFF with physical sizes and ``description`` (JSON) in OME-XML."""
    import tifffile

    refuse_existing(target)
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
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        os.close(handle)
        tifffile.imwrite(temporary, data, ome=True, metadata=metadata, compression="zlib")
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def refuse_existing(target: Path) -> None:
    """Refuse to overwrite an existing output (an empty file, as Galaxy pre-creates, is fine)."""
    if target.exists() and (target.is_dir() or target.stat().st_size > 0):
        raise OutputError("already exists", path=target, hint="remove it or choose another name")
