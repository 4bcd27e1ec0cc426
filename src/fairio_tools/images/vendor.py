"""Series and pixels of Zeiss CZI (``czifile``) and Leica LIF (``liffile``) files.

Both readers are BSD-licensed; GPL readers (readlif, aicspylibczi, pylibczirw) serve only as
independent references in tests. How a vendor file becomes series, as Bio-Formats does:

* CZI: each scene (``S``) is a series. Mosaic tiles are placed at their stored start
  coordinates into one plane (what czifile and Bio-Formats' stitching do); pyramid subblocks
  (``pyramid_type`` > 0) are skipped, the NGFF pyramid is recomputed from full resolution.
  ``Bgr24``/``Bgr48``/``Bgra32`` samples come as RGB(A): czifile swaps them when it decodes a
  subblock, as Bio-Formats does (and as the file's own ZEN thumbnail shows them).
* LIF: each image element is a series; mosaic positions (``M``) are kept as positions, one
  series each (Bio-Formats' default). A wavelength sweep (emission ``λ`` or excitation
  ``Λ``) becomes the channel axis when there are no channels.
  An XZ scan (no ``Y`` dimension) is read with its z lines as ``y``, as Bio-Formats does
  (the OME-XML says so too); a line scan without Y or Z gets a ``y`` axis of size 1.
* Samples per pixel (RGB) are channels. Other vendor axes of size 1 are dropped; any of a
  larger size is kept under its own name (conversion then refuses it with the reason).

``VendorRegions`` reads a region of one series: only the CZI subblocks (scene, plane,
tiles) and LIF frames (planes) that it covers are decoded, each read bounded by
``FAIRIO_MAX_DECODED_BYTES``. Files are opened through ``reading.open_vendor`` (once per
process; only the given file: a CZI's other parts are never read) and their series are
described once per version of the file.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.errors import InputError
from fairio_tools.images.reading import check_decoded_size, open_vendor

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
    insert_y: int | None = None
    """Position of a ``y`` axis of size 1 to insert (an XZ scan)."""
    notes: list[str] = field(default_factory=list)


def vendor_series(path: Path, kind: str) -> list[VendorSeries]:
    """The series of the CZI or LIF file ``path`` (headers only, no pixels decoded)."""
    stat = path.stat()
    return [
        dataclasses.replace(s, axes=list(s.axes), shape=list(s.shape), notes=list(s.notes))
        for s in _series(str(path), kind, stat.st_mtime_ns, stat.st_size)
    ]


@functools.lru_cache(maxsize=16)
def _series(path: str, kind: str, mtime_ns: int, size: int) -> tuple[VendorSeries, ...]:
    """The series of one version of a file (cached per process; callers get copies)."""
    with open_vendor(Path(path), kind) as reader:
        return tuple(_czi_series(reader, Path(path)) if kind == "czi" else _lif_series(reader))


class VendorRegions:
    """Array-like view of one series of a CZI or LIF file: decodes only what is indexed.

    Picklable (path, kind, series), so a Dask distributed worker opens the file itself."""

    def __init__(self, path: Path, kind: str, series: VendorSeries) -> None:
        self.path = str(path)
        self.kind = kind
        self.series = series
        self.shape = tuple(series.shape)
        self.dtype = np.dtype(series.dtype)
        self.ndim = len(self.shape)

    def __getitem__(self, region: Any) -> np.ndarray:
        path, series = Path(self.path), self.series
        bounds, cuts = _bounds(region, self.shape)
        check_decoded_size(path, math.prod(b - a for a, b in bounds) * self.dtype.itemsize)
        if series.insert_y is not None:  # an axis of size 1 that the source lacks
            del bounds[series.insert_y]
        kept = iter(bounds)
        box = [(t, t + 1) if isinstance(t, int) else next(kept) for t in series.take]
        with open_vendor(path, self.kind) as reader:
            if self.kind == "czi":
                data = _czi_region(reader, path, box, self.dtype)
            else:
                data = _lif_region(reader.images[series.source], path, box)
        data = data[tuple(0 if isinstance(t, int) else slice(None) for t in series.take)]
        if series.insert_y is not None:
            data = np.expand_dims(data, series.insert_y)
        return np.ascontiguousarray(data[cuts])


def _bounds(region: Any, shape: tuple[int, ...]) -> tuple[list[tuple[int, int]], tuple[Any, ...]]:
    """(start, stop) per axis of the box holding ``region`` (ints and slices of a positive
    step, as NumPy reads them), and how to cut the region out of that box."""
    region = region if isinstance(region, tuple) else (region,)
    if len(region) > len(shape):
        raise IndexError(f"{len(region)} indices for an array of {len(shape)} dimensions")
    bounds, cuts = [], []
    for item, n in zip(region + (slice(None),) * (len(shape) - len(region)), shape, strict=True):
        if isinstance(item, slice):
            start, stop, step = item.indices(n)
            if step < 1:
                raise IndexError("regions are read with a positive step")
            bounds.append((start, max(start, stop)))
            cuts.append(slice(None, None, step))
        else:
            index = operator.index(item)
            index = index + n if index < 0 else index
            if not 0 <= index < n:
                raise IndexError(f"index {item} is out of bounds for an axis of size {n}")
            bounds.append((index, index + 1))
            cuts.append(0)
    return bounds, tuple(cuts)


def read_vendor_series(path: Path, kind: str, series: VendorSeries) -> np.ndarray:
    """All pixels of ``series``, axes as ``series.axes``, bounded by the decoded-size limit."""
    source = VendorRegions(path, kind, series)
    return source[(slice(None),) * source.ndim]


_SWEEPS = {"λ": "emission", "Λ": "excitation"}
"""liffile's codes of a wavelength sweep (emission, excitation)."""


def _map_axes(
    codes: str, shape: tuple[int, ...], split: str, samples: str, notes: list[str]
) -> tuple[list[str | None], list[str]]:
    """Per source axis: its NGFF name (None: dropped or split) and the kept names. Without
    a channel axis, RGB samples or else one wavelength sweep become the channel axis."""
    sizes = dict(zip(codes, shape, strict=True))
    channel = _channel_code(sizes, samples)
    names: list[str | None] = []
    for code in codes:
        size = sizes[code]
        if code == split:
            names.append(None)
        elif code in _NGFF:
            dropped = code == "C" and channel != "C"
            names.append(None if dropped else _NGFF[code])
        elif code == channel:
            if code in _SWEEPS:
                notes.append(
                    f"the {_SWEEPS[code]} wavelength sweep ({code}) is written as the channel axis"
                )
            names.append("c")
        elif size == 1:
            names.append(None)
        else:
            names.append({"λ": "lambda", "Λ": "excitation_lambda"}.get(code, code.lower()))
    kept = [n for n in names if n is not None]
    return names, kept


def _channel_code(sizes: dict[str, int], samples: str) -> str:
    """The source axis that becomes ``c``: C when it holds channels (or nothing else would),
    else RGB samples, else the emission, else the excitation wavelength sweep."""
    if sizes.get("C", 1) > 1:
        return "C"
    for code in (samples, *_SWEEPS):
        if sizes.get(code, 1) > 1:
            return code
    return "C"


def _czi_series(czi: Any, path: Path) -> list[VendorSeries]:
    entries = czi.filtered_subblock_directory
    if not entries:
        raise InputError("CZI holds no image subblock", path=path)
    codes, shape = czi.axes, tuple(int(n) for n in czi.shape)
    dtype = np.dtype(czi.dtype)
    base = dtype.base if dtype.shape else dtype
    rgb = entries[0].pixel_type in _BGR
    mosaic = any(entry.mosaic_index is not None for entry in entries)
    pyramid = sum(1 for entry in entries if entry.pyramid_type)
    covered = sum(math.prod(e.shape) for e in entries if not e.pyramid_type) * base.itemsize
    _check_extent(math.prod(shape) * base.itemsize, covered, shape, path)
    notes: list[str] = []
    if rgb:
        notes.append(f"{entries[0].pixel_type} samples stored as BGR, read in RGB order")
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
                notes=list(notes),
            )
        )
    return series


def _check_extent(declared: int, covered: int, shape: tuple[int, ...], path: Path) -> None:
    """Refuse a CZI whose subblocks cover a vanishing part of the extent their coordinates
    span (a few tiles placed far apart would make every tool read and write zeros for
    hours); real mosaics leave gaps, not a thousandfold."""
    ratio = declared // max(covered, 1)
    if ratio > limits.ABSURD_COMPRESSION_RATIO or (
        declared > limits.COMPRESSION_CHECK_ABOVE and ratio > limits.MAX_COMPRESSION_RATIO
    ):
        extent = " x ".join(str(n) for n in shape)
        raise InputError(
            f"its subblocks cover {covered} bytes of the {declared} their coordinates span "
            f"({extent}, {ratio} to 1): a corrupt or hostile subblock directory",
            path=path,
            hint=limits.refusal_hint("FAIRIO_MAX_COMPRESSION_RATIO", limits.MAX_COMPRESSION_RATIO),
        )


def _czi_region(czi: Any, path: Path, box: list[tuple[int, int]], dtype: np.dtype) -> np.ndarray:
    """The box (per axis of czifile's array: start, stop) of a CZI at full resolution: only
    the subblocks it overlaps are decoded, tiles placed at their start coordinates."""
    out = np.zeros([stop - start for start, stop in box], dtype.base if dtype.shape else dtype)
    for entry in czi.filtered_subblock_directory:
        if entry.pyramid_type:  # a sub-resolution copy of tiles that are stored in full
            continue
        lows = [int(i - j) for i, j in zip(entry.start, czi.start, strict=True)]
        overlap = [
            (max(start, low), min(stop, low + n))
            for (start, stop), low, n in zip(box, lows, entry.shape, strict=True)
        ]
        if any(start >= stop for start, stop in overlap):
            continue
        check_decoded_size(path, math.prod(entry.shape) * out.itemsize)
        tile = entry.data_segment().data(resize=False).reshape(entry.shape)
        out[tuple(slice(a - s, b - s) for (a, b), (s, _) in zip(overlap, box, strict=True))] = tile[
            tuple(slice(a - low, b - low) for (a, b), low in zip(overlap, lows, strict=True))
        ]
    return out


def _lif_series(lif: Any) -> list[VendorSeries]:
    series = []
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


def _lif_region(image: Any, path: Path, box: list[tuple[int, int]]) -> np.ndarray:
    """The box (per axis of liffile's array) of one LIF image: only the frames (planes) it
    covers are decoded."""
    if all(b == (0, n) for b, n in zip(box, image.shape, strict=True)):
        check_decoded_size(path, int(image.nbytes))
        return image.asarray()  # all of it: one read
    dims = list(image.dims)
    frame_axes = len(image.frames.frame_sizes)  # the innermost (Y, X or Z, X, and samples)
    outer, inner = box[:-frame_axes], box[-frame_axes:]
    out = np.empty([stop - start for start, stop in box], np.dtype(image.dtype))
    cut = tuple(slice(start, stop) for start, stop in inner)
    check_decoded_size(path, math.prod(image.frames.frame_sizes.values()) * out.itemsize)
    for index in itertools.product(*(range(start, stop) for start, stop in outer)):
        frame = image.frame(**dict(zip(dims, index, strict=False)))
        out[tuple(i - start for i, (start, _) in zip(index, outer, strict=True))] = frame[cut]
    return out
