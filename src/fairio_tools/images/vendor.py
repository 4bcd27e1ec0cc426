"""Series and pixels of Zeiss CZI (``czifile``) and Leica LIF (``liffile``) files.

Both readers are BSD-licensed; GPL readers (readlif, aicspylibczi, pylibczirw) serve only as
independent references in tests. How a vendor file becomes series, as Bio-Formats does:

* CZI: each scene (``S``) is a series. Mosaic tiles are placed at their stored start
  coordinates into one plane (what czifile and Bio-Formats' stitching do); pyramid subblocks
  (``pyramid_type`` > 0) are skipped, the NGFF pyramid is recomputed from full resolution.
  ``Bgr24``/``Bgr48``/``Bgra32`` samples are swapped to RGB(A), as Bio-Formats does.
* LIF: each image element is a series; mosaic positions (``M``) are kept as positions, one
  series each (Bio-Formats' default). A wavelength sweep (``λ``) becomes the channel axis.
  An XZ scan (no ``Y`` dimension) is read with its z lines as ``y``, as Bio-Formats does
  (the OME-XML says so too); a line scan without Y or Z gets a ``y`` axis of size 1.
* Samples per pixel (RGB) are channels. Other vendor axes of size 1 are dropped; any of a
  larger size is kept under its own name (conversion then refuses it with the reason).

Pixels are decoded a whole series at a time, bounded by ``FAIRIO_MAX_DECODED_BYTES``;
only the given file is opened (``multifile=False``: a CZI's other parts are never read).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools.errors import InputError
from fairio_tools.images.reading import check_decoded_size, decoding

_NGFF = {"T": "t", "C": "c", "Z": "z", "Y": "y", "X": "x"}
_BGR = {"Bgr24", "Bgr48", "Bgra32", "Bgr96Float"}


@dataclass
class VendorSeries:
    """One series of a vendor file and how to cut it out of the reader's array."""

    name: str | None
    source: int
    """Index of the reader's image (LIF image; always 0 for a CZI)."""
    take: tuple[Any, ...]
    """Index into the reader's array: an int for a split or dropped axis, else a slice."""
    axes: list[str]
    shape: list[int]
    dtype: str
    reverse_samples: bool = False
    insert_y: int | None = None
    """Position of a ``y`` axis of size 1 to insert (an XZ scan)."""
    notes: list[str] = field(default_factory=list)


def vendor_series(path: Path, kind: str) -> list[VendorSeries]:
    """The series of the CZI or LIF file ``path`` (headers only, no pixels decoded)."""
    with decoding(path, kind.upper()):
        return _czi_series(path) if kind == "czi" else _lif_series(path)


def read_vendor_series(path: Path, kind: str, series: VendorSeries) -> np.ndarray:
    """All pixels of ``series``, axes as ``series.axes``, bounded by the decoded-size limit."""
    with decoding(path, kind.upper()):
        source = _czi_array(path) if kind == "czi" else _lif_array(path, series.source)
        data = source[series.take]
        if series.reverse_samples:
            data = data[..., ::-1]
        if series.insert_y is not None:
            data = np.expand_dims(data, series.insert_y)
        return np.ascontiguousarray(data)


def _map_axes(
    codes: str, shape: tuple[int, ...], split: str, samples: str, notes: list[str]
) -> tuple[list[str | None], list[str]]:
    """Per source axis: its NGFF name (None: dropped or split) and the kept names."""
    sizes = dict(zip(codes, shape, strict=True))
    has_channels = sizes.get("C", 1) > 1
    names: list[str | None] = []
    for code in codes:
        size = sizes[code]
        if code == split:
            names.append(None)
        elif code in _NGFF:
            dropped = code == "C" and size == 1 and _c_elsewhere(sizes, samples)
            names.append(None if dropped else _NGFF[code])
        elif code in (samples, "λ") and size > 1 and not has_channels:
            if code == "λ":
                notes.append("the wavelength sweep (λ) is written as the channel axis")
            names.append("c")
        elif size == 1:
            names.append(None)
        else:
            names.append({"λ": "lambda"}.get(code, code.lower()))
    kept = [n for n in names if n is not None]
    return names, kept


def _c_elsewhere(sizes: dict[str, int], samples: str) -> bool:
    """Whether RGB samples or a wavelength sweep will be the channel axis instead of C."""
    return sizes.get(samples, 1) > 1 or sizes.get("λ", 1) > 1


def _czi_series(path: Path) -> list[VendorSeries]:
    import czifile

    with czifile.CziFile(str(path), multifile=False) as czi:
        entries = czi.filtered_subblock_directory
        if not entries:
            raise InputError("CZI holds no image subblock", path=path)
        codes, shape = czi.axes, tuple(int(n) for n in czi.shape)
        dtype = np.dtype(czi.dtype)
        base = dtype.base if dtype.shape else dtype
        reverse = entries[0].pixel_type in _BGR
        mosaic = any(entry.mosaic_index is not None for entry in entries)
        pyramid = sum(1 for entry in entries if entry.pyramid_type)
    notes: list[str] = []
    if reverse:
        notes.append(f"{entries[0].pixel_type} samples swapped to RGB order, as Bio-Formats does")
    if mosaic:
        notes.append("mosaic tiles placed at their stored start coordinates (no blending)")
    if pyramid:
        notes.append(f"{pyramid} pyramid subblock(s) skipped: the pyramid is recomputed")
    names, kept = _map_axes(codes, shape, "S", "0", notes)
    scenes = shape[codes.index("S")] if "S" in codes else 1
    series = []
    for scene in range(scenes):
        take = tuple(
            scene if code == "S" else 0 if name is None else slice(None)
            for code, name in zip(codes, names, strict=True)
        )
        sizes = [n for n, name in zip(shape, names, strict=True) if name is not None]
        series.append(
            VendorSeries(
                name=f"scene {scene}" if scenes > 1 else None,
                source=0,
                take=take,
                axes=list(kept),
                shape=sizes,
                dtype=str(base),
                reverse_samples=reverse,
                notes=list(notes),
            )
        )
    return series


def _czi_array(path: Path) -> np.ndarray:
    """The full-resolution pixels of a CZI, tiles placed at their start coordinates."""
    import czifile

    with czifile.CziFile(str(path), multifile=False) as czi:
        shape, dtype = tuple(int(n) for n in czi.shape), np.dtype(czi.dtype)
        check_decoded_size(path, math.prod(shape) * dtype.itemsize)
        out = np.zeros(shape, dtype.base if dtype.shape else dtype)
        for entry in czi.filtered_subblock_directory:
            if entry.pyramid_type:  # a sub-resolution copy of tiles that are stored in full
                continue
            tile = entry.data_segment().data(resize=False)
            starts = zip(entry.start, czi.start, tile.shape, strict=True)
            index = tuple(slice(i - j, i - j + k) for i, j, k in starts)
            out[index] = tile.reshape(out[index].shape)
    return out


def _lif_series(path: Path) -> list[VendorSeries]:
    import liffile

    series = []
    with liffile.LifFile(path) as lif:
        for source, image in enumerate(lif.images):
            codes, shape = "".join(image.dims), tuple(int(n) for n in image.shape)
            notes: list[str] = []
            if "Y" not in codes and "Z" in codes:
                codes = codes.replace("Z", "Y")
                notes.append("an XZ scan: its z lines are the y axis, as Bio-Formats reads it")
            names, kept = _map_axes(codes, shape, "M", "S", notes)
            insert_y = None
            if "y" not in kept and "x" in kept:
                insert_y = kept.index("x")
                kept.insert(insert_y, "y")
                notes.append("no Y or Z dimension (a line scan): written with a y axis of size 1")
            sizes = [n for n, name in zip(shape, names, strict=True) if name is not None]
            if insert_y is not None:
                sizes.insert(insert_y, 1)
            positions = shape[codes.index("M")] if "M" in codes else 1
            if positions > 1:
                notes.append(f"mosaic position of {positions}: kept as its own series")
            for position in range(positions):
                take = tuple(
                    position if code == "M" else 0 if name is None else slice(None)
                    for code, name in zip(codes, names, strict=True)
                )
                name = image.name if positions == 1 else f"{image.name} position {position}"
                series.append(
                    VendorSeries(
                        name,
                        source,
                        take,
                        list(kept),
                        list(sizes),
                        str(np.dtype(image.dtype)),
                        insert_y=insert_y,
                        notes=list(notes),
                    )
                )
    return series


def _lif_array(path: Path, source: int) -> np.ndarray:
    import liffile

    with liffile.LifFile(path) as lif:
        image = lif.images[source]
        check_decoded_size(path, int(image.nbytes))
        return image.asarray()
