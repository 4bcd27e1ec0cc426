"""What an image file holds: series, axes, shapes, dtypes and physical calibration.

``read_image_info`` reads only headers and metadata of a TIFF (and checks that every pixel
block the header points to lies inside the file and does not decompress absurdly), so it is
fast on files of any size; PNG and JPEG are decoded (bounded by ``limits``) to catch
truncation. Only the given file is ever opened, see ``reading``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.confined import resolve_inside
from fairio_tools.errors import InputError
from fairio_tools.images.formats import ImageFormat, detect_format
from fairio_tools.images.ome_set import OmeSet, find_set
from fairio_tools.images.ome_xml import OmeDocument, OmeImage, parse_ome_xml, positive_calibration
from fairio_tools.images.reading import PILLOW_MODES, decoding, open_pillow, open_tiff
from fairio_tools.ngff.axes import ngff_unit


@dataclass
class Quantity:
    """A number with its NGFF unit name (None when the file gives no unit)."""

    value: float
    unit: str | None


@dataclass
class SeriesInfo:
    """One image (series) of a file, with axes named as in NGFF (t, c, z, y, x)."""

    index: int
    name: str | None
    shape: list[int]
    axes: list[str]
    dtype: str
    physical_sizes: dict[str, Quantity] = field(default_factory=dict)
    time_interval: Quantity | None = None
    channel_names: list[str] = field(default_factory=list)
    channel_colors: list[str | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        """Bytes of all pixels of this series, decoded."""
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize


@dataclass
class ImageInfo:
    """Everything ``image-info`` reports about one file."""

    path: str
    format: str
    file_size: int
    has_ome_xml: bool
    has_imagej_metadata: bool
    series: list[SeriesInfo]
    other_files_not_read: list[str] = field(default_factory=list)
    """Other files of a multi-file OME-TIFF that the OME-XML names: never opened."""
    notes: list[str] = field(default_factory=list)
    set_files: list[str] = field(default_factory=list)
    """The files of a multi-file OME-TIFF that were read together (inside its folder)."""
    ome_xml: str = field(default="", repr=False)
    """The OME-XML of the file (an OME-TIFF's own, or mapped from a vendor's metadata), for
    what the series model does not carry (plates, wells, instruments); not in ``to_dict``."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["ome_xml"]
        return data


# tifffile's axis codes -> NGFF names. "S" (samples, e.g. RGB) is a channel axis.
_TIFF_AXES = {"T": "t", "C": "c", "Z": "z", "Y": "y", "X": "x", "S": "c"}
_SEQUENCE_CODES = "IQ"  # an N-page stack whose meaning the file does not say


def read_image_info(path: str | Path) -> ImageInfo:
    """Read the metadata of a TIFF (OME, ImageJ, Big), PNG, JPEG, CZI or LIF file."""
    path = Path(path)
    oset = find_set(path) if path.is_dir() or (path.is_file() and path.stat().st_size) else None
    if oset is not None and oset.complete:
        info = _set_info(path, oset)
        for series in info.series:
            note_implausible(series)
        return info
    if oset is not None and not oset.member:  # a folder or companion file
        missing = ", ".join(repr(name) for name in oset.missing_files)
        raise InputError(
            f"the multi-file OME-TIFF is incomplete: {missing} missing from its folder "
            "(or naming a place outside it)",
            path=path,
            hint="give the folder or zip with every file of the set",
        )
    fmt = detect_format(path)
    if fmt is ImageFormat.TIFF:
        info = _tiff_info(path)
        if oset is not None:
            _note_incomplete(info, oset)
    elif fmt.is_vendor:
        info = _vendor_info(path, fmt.value)
    else:
        info = _pillow_info(path, fmt)
    for series in info.series:
        note_implausible(series)
    return info


def _set_info(path: Path, oset: OmeSet) -> ImageInfo:
    """A complete multi-file OME-TIFF: every member checked as a TIFF of its own, the
    planes it holds checked against the OME-XML's sizes and pixel type."""
    members = {}
    for name in oset.files:
        real = Path(resolve_inside(oset.folder, name))
        member = _tiff_info(real)
        members[name] = (member, _page_shapes(real))
    ome = parse_ome_xml(oset.xml, path)
    series = []
    for index, described in enumerate(oset.series):
        for name, ifd in described.planes.values():
            member, pages = members[name]
            if ifd >= len(pages) or pages[ifd] != (described.shape[3:], np.dtype(described.dtype)):
                raise InputError(
                    f"the set's OME-XML puts a {described.shape[3]} x {described.shape[4]} "
                    f"{described.dtype} plane at IFD {ifd} of {name!r}, which does not hold one",
                    path=path,
                )
        info = SeriesInfo(index, None, list(described.shape), list("tczyx"), described.dtype)
        if index < len(ome.images):
            info.name = ome.images[index].name
            _apply_ome(info, ome.images[index])
        series.append(info)
    size = sum(m.file_size for m, _ in members.values())
    info = ImageInfo(str(path), "ome-tiff", size, True, False, series)
    info.ome_xml = oset.xml
    info.set_files = list(oset.files)
    info.notes.append(f"a multi-file OME-TIFF of {len(oset.files)} files, read together")
    return info


def _page_shapes(path: Path) -> list[tuple[tuple[int, ...], np.dtype]]:
    with open_tiff(path) as tif, decoding(path, "TIFF"):
        return [(tuple(page.shape), np.dtype(page.dtype)) for page in tif.pages]


_SET_NOTE = "the OME-XML describes a multi-file set"


def _note_incomplete(info: ImageInfo, oset: OmeSet) -> None:
    """A lone member of a set: only its own planes are read; say how many are missing."""
    missing = ", ".join(repr(name) for name in oset.missing_files)
    info.notes = [note for note in info.notes if not note.startswith(_SET_NOTE)]
    own = sum(math.prod(s.shape[:-2]) for s in info.series)
    if oset.series:
        declared = sum(math.prod(s.shape[:3]) for s in oset.series)
        absent = sum(
            1 for s in oset.series for name, _ in s.planes.values() if name in oset.missing_files
        )
        what = f"{absent + oset.missing_planes} of the set's {declared} planes are missing"
    else:
        what = "the set's planes are described in a companion file that is missing"
    info.notes.append(
        f"part of a multi-file OME-TIFF: only this file's {own} plane(s) were read; {what} "
        f"(files not found next to it: {missing})"
    )


def _vendor_info(path: Path, kind: str) -> ImageInfo:
    """Series from the vendor reader; calibration and channels from the OME-XML that
    ``vendor_ome`` maps from the file's own XML (one mapping for every tool)."""
    from fairio_tools.images.vendor import vendor_series
    from fairio_tools.images.vendor_ome import vendor_ome_xml

    layouts = vendor_series(path, kind)
    xml, notes = vendor_ome_xml(path, kind)
    ome = parse_ome_xml(xml, path).images
    series = []
    for index, layout in enumerate(layouts):
        info = SeriesInfo(index, layout.name, layout.shape, layout.axes, layout.dtype)
        info.notes.extend(layout.notes)
        described = ome[layout.source] if layout.source < len(ome) else None
        if described is None:
            info.notes.append("the vendor metadata describe no calibration for this series")
        else:
            info.name = layout.name or described.name
            _apply_ome(info, described)
        series.append(info)
    if not series:
        raise InputError(f"{kind.upper()} holds no image", path=path)
    info = ImageInfo(str(path), kind, path.stat().st_size, True, False, series, notes=notes)
    info.ome_xml = xml
    return info


PLAUSIBLE_UM = (1e-4, 1e5)
"""Pixel sizes outside 0.1 nm to 10 cm are noted as implausible (kept as the file says)."""


def note_implausible(info: SeriesInfo) -> None:
    """Note physical sizes that no microscope records (a unit error in the file, usually)."""
    from fairio_tools.ngff.axes import micrometres

    for axis, quantity in info.physical_sizes.items():
        size = micrometres(quantity.value, quantity.unit)
        if size is not None and not PLAUSIBLE_UM[0] <= size <= PLAUSIBLE_UM[1]:
            info.notes.append(
                f"physical size {axis} of {size:g} µm is implausible for a microscope image "
                "(a unit error in the file?): written as the file says"
            )


def _apply_ome(info: SeriesInfo, ome: OmeImage) -> None:
    """Physical sizes, time interval and channels of ``ome`` for the axes ``info`` has."""
    info.physical_sizes = {
        axis: Quantity(value, ngff_unit(unit))
        for axis, (value, unit) in ome.physical_sizes.items()
        if axis in info.axes
    }
    if ome.time_increment is not None and "t" in info.axes:
        value, unit = ome.time_increment
        info.time_interval = Quantity(value, ngff_unit(unit))
    channels = info.shape[info.axes.index("c")] if "c" in info.axes else 1
    if len(ome.channel_names) == channels:
        info.channel_names = ome.channel_names
        info.channel_colors = ome.channel_colors
    elif ome.channel_names:
        info.notes.append(
            f"the metadata name {len(ome.channel_names)} channel(s) but the pixels hold "
            f"{channels}: channel names not carried"
        )
    info.notes.extend(ome.notes)


def ngff_axes_from_tiff(codes: str) -> tuple[list[str], list[str]]:
    """Map tifffile axis codes (e.g. ``"TZCYXS"``) to NGFF names, with notes on guesses."""
    axes: list[str] = []
    notes: list[str] = []
    for code in codes:
        name = _TIFF_AXES.get(code)
        if code == "S" and "C" in codes:
            name = None
        if code in _SEQUENCE_CODES:
            for guess in ("z", "t"):
                if guess.upper() not in codes and guess not in axes:
                    name = guess
                    notes.append(
                        f"the file does not say what its {code!r} dimension is; "
                        f"reported as {guess!r}, as Bio-Formats does"
                    )
                    break
        if name is None or name in axes:
            name = code.lower()
            notes.append(f"axis {code!r} has no NGFF equivalent; kept as custom axis {name!r}")
        axes.append(name)
    return axes, notes


def _tiff_info(path: Path) -> ImageInfo:
    file_size = path.stat().st_size
    with open_tiff(path) as tif, decoding(path, "TIFF"):
        # the OME-XML is checked (size, entities, image count) before tifffile parses it
        ome_text = (tif.ome_metadata or "") if tif.is_ome else ""
        ome = parse_ome_xml(ome_text, path) if ome_text else OmeDocument()
        imagej = tif.imagej_metadata if tif.is_imagej else None
        tiff_series = list(tif.series)
        is_ome, is_imagej = bool(tif.is_ome), bool(imagej)
        # tifffile reads page details lazily: a corrupt page fails here, inside ``decoding``
        for series in tiff_series:
            _check_inside_file(series, file_size, path)
        series_info = [
            _tiff_series_info(i, s, ome.images, imagej) for i, s in enumerate(tiff_series)
        ]
    if not series_info:
        raise InputError("TIFF holds no image", path=path)
    fmt = "ome-tiff" if is_ome else "imagej-tiff" if is_imagej else "tiff"
    info = ImageInfo(str(path), fmt, file_size, is_ome, is_imagej, series_info)
    info.ome_xml = ome_text
    if ome.other_files:
        info.other_files_not_read = ome.other_files
        info.notes.append(
            f"{_SET_NOTE}; only the planes stored in this file were read, its "
            f"{len(ome.other_files)} other file(s) were not opened"
        )
    return info


def _check_inside_file(tiff_series: Any, file_size: int, path: Path) -> None:
    """Refuse a file whose header points at pixel data beyond its end (truncated), or that
    declares far more pixels than its data can hold (a corrupt or malicious header)."""
    keyframe = tiff_series.keyframe
    if keyframe.dtype is None:
        raise InputError(
            f"unsupported pixel type (BitsPerSample {keyframe.bitspersample}, "
            f"SampleFormat {keyframe.sampleformat})",
            path=path,
            hint="the file is corrupt or uses a pixel type NGFF cannot hold",
        )
    if 0 in tiff_series.shape:
        raise InputError(f"declares an image of shape {tiff_series.shape}: no pixels", path=path)
    if 0 in keyframe.chunks:
        raise InputError(
            f"the header declares strips or tiles of size {keyframe.chunks} "
            "(RowsPerStrip, TileWidth or TileLength 0)",
            path=path,
            hint="the file is corrupt",
        )
    end, stored, compressed = 0, 0, False
    if tiff_series.dataoffset is not None:
        end = tiff_series.dataoffset + tiff_series.nbytes
        stored = tiff_series.nbytes
    else:
        ranges: list[tuple[int, int]] = []
        for page in tiff_series.pages:
            if page is None:
                continue
            compressed = compressed or page.compression != 1
            for offset, count in zip(page.dataoffsets, page.databytecounts, strict=False):
                ranges.append((offset, offset + count))
        end, stored = _extent(ranges)
    shape = " x ".join(str(n) for n in tiff_series.shape)
    declared = tiff_series.nbytes
    if end > file_size and declared > file_size:
        raise InputError(
            f"the header declares {shape} pixels ({declared} bytes), more than "
            f"the whole file ({file_size} bytes)",
            path=path,
            hint="the file is truncated or its header is corrupt",
        )
    if end > file_size:
        raise InputError(
            f"truncated: pixel data should reach byte {end} but the file has {file_size}",
            path=path,
            hint="copy or download the file again",
        )
    if not compressed and declared > stored:
        raise InputError(
            f"the header declares {shape} pixels ({declared} bytes) but the file stores "
            f"only {stored} bytes of pixel data",
            path=path,
            hint="the file is corrupt or truncated",
        )
    if compressed:  # the pages of a series share their keyframe's strip or tile layout
        segment = math.prod(keyframe.chunks) * keyframe.dtype.itemsize
        _check_compression(declared, max(stored, 1), segment, shape, path)


def _extent(ranges: list[tuple[int, int]]) -> tuple[int, int]:
    """(last byte, number of distinct bytes) of the file covered by pixel data: segments that
    share bytes count once, so pointing every tile at one small block amplifies nothing."""
    end = covered = reached = 0
    for start, stop in sorted(ranges):
        if stop > reached:
            covered += stop - max(start, reached)
            reached = stop
        end = max(end, stop)
    return end, covered


def _check_compression(declared: int, stored: int, segment: int, shape: str, path: Path) -> None:
    """Refuse compressed pixels that would decode to absurdly more than the file holds."""
    ratio = declared // stored
    if ratio > limits.ABSURD_COMPRESSION_RATIO or (
        declared > limits.COMPRESSION_CHECK_ABOVE and ratio > limits.MAX_COMPRESSION_RATIO
    ):
        raise InputError(
            f"the header declares {shape} pixels ({declared} bytes) from only {stored} "
            f"bytes of compressed data ({ratio} to 1): a decompression bomb or a corrupt header",
            path=path,
            hint=limits.refusal_hint("FAIRIO_MAX_COMPRESSION_RATIO", limits.MAX_COMPRESSION_RATIO),
        )
    if segment > limits.MAX_SEGMENT_BYTES:
        raise InputError(
            f"one compressed strip or tile decodes to {segment} bytes, more than this server "
            "decodes at once",
            path=path,
            hint=limits.refusal_hint("FAIRIO_MAX_SEGMENT_BYTES", limits.MAX_SEGMENT_BYTES),
        )


def _tiff_series_info(
    index: int, tiff_series: Any, ome_images: list[OmeImage], imagej: dict | None
) -> SeriesInfo:
    axes, notes = ngff_axes_from_tiff(tiff_series.axes)
    info = SeriesInfo(
        index=index,
        name=tiff_series.name or None,
        shape=[int(n) for n in tiff_series.shape],
        axes=axes,
        dtype=str(np.dtype(tiff_series.dtype)),
        notes=notes,
    )
    if index < len(ome_images):
        ome = ome_images[index]
        info.name = ome.name or info.name
        _apply_ome(info, ome)
    elif imagej is not None:
        _imagej_calibration(info, tiff_series.pages[0], imagej)
    else:
        _tiff_resolution(info, tiff_series.pages[0])
    return info


def _imagej_calibration(info: SeriesInfo, page: Any, imagej: dict) -> None:
    unit_text = str(imagej.get("unit", "")).replace("\\u00B5", "µ")
    unit = ngff_unit(unit_text)
    if unit_text and unit is None and unit_text.lower() not in ("pixel", "pixels"):
        info.notes.append(f"ImageJ unit {unit_text!r} is not a unit NGFF knows")
    x, y = _resolution_sizes(page, info.notes)
    scales = _scifio_scales(imagej, info.notes)
    if scales is not None:  # SCIFIO: its sizes, not the resolution tags (see the docstring)
        x, y = scales[0], scales[1]
    if x is not None and y is not None and unit is not None:
        info.physical_sizes["y"] = Quantity(y, unit)
        info.physical_sizes["x"] = Quantity(x, unit)
    spacing = _imagej_number(imagej, "spacing", info.notes)
    if spacing is None and scales is not None and len(scales) > 2:
        spacing = scales[2]
    if spacing is not None and "z" in info.axes and unit is not None:
        info.physical_sizes["z"] = Quantity(spacing, unit)
    interval = _imagej_number(imagej, "finterval", info.notes)
    if interval is not None:  # kept without a t axis too, as Bio-Formats does (TimeIncrement)
        info.time_interval = Quantity(interval, ngff_unit(str(imagej.get("tunit", "s"))))


def _scifio_scales(imagej: dict, notes: list[str]) -> list[float] | None:
    """SCIFIO's ``scales=x,y[,z...]`` (sizes per pixel in ``unit``), when every one is a
    finite positive number; SCIFIO writes X/YResolution in pixels per ResolutionUnit (often
    centimetres) while ImageJ reads them as pixels per ``unit``, so they disagree."""
    text = imagej.get("scales")
    if text is None:
        return None
    try:
        values = [float(v) for v in str(text).split(",")]
    except ValueError:
        notes.append(f"SCIFIO scales {text!r} are not numbers: not used")
        return None
    checked = [positive_calibration(v, "SCIFIO scales", notes) for v in values]
    if len(values) < 2 or any(v is None for v in checked):
        return None
    notes.append("pixel sizes from SCIFIO's 'scales' (its resolution tags are in another unit)")
    return values


def _imagej_number(imagej: dict, key: str, notes: list[str]) -> float | None:
    """An ImageJ calibration value; None (with a note) unless a finite positive number."""
    value = imagej.get(key)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        notes.append(f"ImageJ {key} is {value!r}, not a number: not written")
        return None
    return positive_calibration(number, f"ImageJ {key}", notes)


def _tiff_resolution(info: SeriesInfo, page: Any) -> None:
    x, y = _resolution_sizes(page, info.notes)
    if x is None or y is None:
        return
    unit = {2: "inch", 3: "centimeter"}.get(int(page.resolutionunit))
    if unit is None:  # ResolutionUnit NONE: an aspect ratio, not a physical size
        return
    info.physical_sizes["y"] = Quantity(y, unit)
    info.physical_sizes["x"] = Quantity(x, unit)
    info.notes.append(
        f"pixel size comes from the TIFF resolution tags in {unit} (often a DPI default)"
    )


def _resolution_sizes(page: Any, notes: list[str]) -> tuple[float | None, float | None]:
    """Pixel width and height from the TIFF XResolution/YResolution tags (pixels per unit)."""
    sizes = []
    for tag_name in ("XResolution", "YResolution"):
        tag = page.tags.get(tag_name)
        if tag is None:
            return None, None
        value = tag.value
        try:
            numerator, denominator = value if isinstance(value, tuple) else (value, 1)
            per_unit = float(numerator) / float(denominator) if denominator else math.nan
        except (TypeError, ValueError):
            per_unit = math.nan
        size = positive_calibration(1 / per_unit if per_unit else math.inf, tag_name, [])
        if size is None:
            notes.append(f"TIFF {tag_name} is {value!r}, not a positive resolution: not written")
            return None, None
        sizes.append(size)
    return sizes[0], sizes[1]


def _pillow_info(path: Path, fmt: ImageFormat) -> ImageInfo:
    what = fmt.value.upper()
    with open_pillow(path, what) as image, decoding(path, what):
        image.load()  # decode: a truncated file fails here, not later in a workflow
        mode, (width, height) = image.mode, image.size
    dtype, channels = PILLOW_MODES.get(mode, ("uint8", len(mode)))
    shape, axes = [height, width], ["y", "x"]
    if channels > 1:
        shape.append(channels)
        axes.append("c")
    series = SeriesInfo(index=0, name=None, shape=shape, axes=axes, dtype=dtype)
    series.notes.append(f"{what} has no physical pixel size (mode {mode})")
    return ImageInfo(str(path), fmt.value, path.stat().st_size, False, False, [series])
