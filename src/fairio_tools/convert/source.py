"""A source image prepared for NGFF: 5-D (t, c, z, y, x) lazy pixels, scale and units.

Axes are always written as ``t, c, z, y, x`` (size 1 where the file has no such axis), the
layout bioformats2raw writes and OME tools expect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairio_tools.errors import InputError
from fairio_tools.images.info import ImageInfo, SeriesInfo
from fairio_tools.images.pixels import lazy_pixels
from fairio_tools.images.reading import decoding, open_pillow, open_tiff
from fairio_tools.ngff.axes import AXIS_TYPES, NGFF_ORDER

_STRUCTURAL_TIFF_TAGS = {
    "NewSubfileType", "SubfileType", "ImageWidth", "ImageLength", "BitsPerSample",
    "Compression", "PhotometricInterpretation", "StripOffsets", "SamplesPerPixel",
    "RowsPerStrip", "StripByteCounts", "PlanarConfiguration", "TileWidth", "TileLength",
    "TileOffsets", "TileByteCounts", "SampleFormat", "Predictor", "SubIFDs",
    "IJMetadataByteCounts", "IJMetadata", "XResolution", "YResolution", "ResolutionUnit",
    "ImageDescription", "ExtraSamples", "FillOrder", "Orientation",
}  # fmt: skip
"""Tags that describe pixel layout (carried by the pixels themselves) or that the reader
interprets (calibration, OME-XML and ImageJ metadata in ImageDescription)."""

_IMAGEJ_MAPPED = {"ImageJ", "images", "slices", "channels", "frames", "hyperstack", "mode",
                  "unit", "spacing", "finterval", "tunit", "loop"}  # fmt: skip


@dataclass
class SourceImage:
    """One series of the input, ready to be written as an NGFF image."""

    info: SeriesInfo
    pixels: Any  # dask array, axes t, c, z, y, x
    scale: list[float]
    units: dict[str, str]
    dropped_axes: list[str] = field(default_factory=list)


def open_series(path: Path, info: SeriesInfo, chunks: tuple[int, int, int]) -> SourceImage:
    """The pixels of ``info`` as a 5-D Dask array chunked (1, 1, z, y, x), read lazily."""
    sizes = dict(zip(info.axes, info.shape, strict=True))
    dropped = []
    for axis, size in sizes.items():
        if axis in NGFF_ORDER:
            continue
        if size != 1:
            kind = _axis_kind(axis)
            raise InputError(
                f"series {info.index} has {kind} axis {axis!r} of size {size} that NGFF "
                "cannot hold (its axes are t, c, z, y, x; no axis type means that)",
                path=path,
                hint="split the file along that axis first (an OME Modulo axis, such as FLIM "
                "lifetimes along C, is its own dimension, not channels)",
            )
        dropped.append(axis)
    z, y, x = chunks
    read_chunks = tuple({"z": z, "y": y, "x": x}.get(axis, 1) for axis in info.axes)
    array = lazy_pixels(path, info.index, info.shape, info.dtype, read_chunks)
    index = tuple(0 if axis in dropped else slice(None) for axis in info.axes)
    array = array[index]
    kept = [axis for axis in info.axes if axis not in dropped]
    array = array.transpose([kept.index(axis) for axis in NGFF_ORDER if axis in kept])
    expand = tuple(slice(None) if axis in kept else None for axis in NGFF_ORDER)
    array = array[expand]

    scale, units = [1.0] * 5, {}
    for axis, quantity in info.physical_sizes.items():
        scale[NGFF_ORDER.index(axis)] = quantity.value
        if quantity.unit:
            units[axis] = quantity.unit
    if info.time_interval is not None:
        scale[0] = info.time_interval.value
        if info.time_interval.unit:
            units["t"] = info.time_interval.unit
    return SourceImage(info, array, scale, units, dropped)


def _axis_kind(axis: str) -> str:
    """ "a lifetime", "a phase", ... for tifffile's code of an OME Modulo axis, else "an"."""
    import tifffile

    name = tifffile.TIFF.AXES_NAMES.get(axis.upper()) if len(axis) == 1 else None
    return f"a {name}" if name else "an"


def ngff_axes(units: dict[str, str]) -> list[dict[str, str]]:
    """NGFF ``axes`` for t, c, z, y, x with the units that are known."""
    axes = []
    for name in NGFF_ORDER:
        axis = {"name": name, "type": AXIS_TYPES[name]}
        if name in units:
            axis["unit"] = units[name]
        axes.append(axis)
    return axes


def unmapped_metadata(path: Path, image: ImageInfo) -> list[tuple[str, str]]:
    """File metadata that NGFF has no place for, as (item, reason) pairs."""
    if image.format in ("png", "jpeg"):
        return _pillow_unmapped(path, image.format.upper())
    if image.set_files:
        return [("TIFF tags of the set's files", "NGFF has no field for TIFF tags")]
    if image.format in ("czi", "lif"):
        return [(f"{image.format.upper()} {item}", reason) for item, reason in _VENDOR_UNMAPPED]
    items: list[tuple[str, str]] = []
    with open_tiff(path) as tif, decoding(path, "TIFF"):
        page = tif.pages.first
        for tag in page.tags:
            if tag.name not in _STRUCTURAL_TIFF_TAGS:
                items.append((f"TIFF tag {tag.name}", "NGFF has no field for TIFF tags"))
        if page.tags.get("ImageDescription") is not None and not (tif.is_ome or tif.is_imagej):
            items.append(("TIFF tag ImageDescription", "free text; NGFF has no description"))
        for key in (tif.imagej_metadata or {}) if tif.is_imagej else {}:
            if key not in _IMAGEJ_MAPPED:
                items.append((f"ImageJ metadata {key!r}", _IMAGEJ_REASONS.get(key, _IJ_OTHER)))
        for index, series in enumerate(tif.series):
            if len(series.levels) > 1:
                items.append(
                    (
                        f"series {index}: {len(series.levels) - 1} stored sub-resolution(s)",
                        "the pyramid is recomputed from full resolution so that every level "
                        "has the chunks and downsampling asked for",
                    )
                )
    return items


_VENDOR_UNMAPPED = [
    (
        "metadata beyond the mapped fields",
        "only what OME-XML holds for pixels, channels, instrument, objective, detector and "
        "light source is mapped (images.vendor_ome); the vendor XML is not copied",
    ),
    ("stage positions of tiles and scenes", "NGFF 0.4/0.5 has no stage coordinates"),
    ("attachments (thumbnails, label/preview images, event lists)", "NGFF has no place for them"),
    ("stored sub-resolutions", "the pyramid is recomputed from full resolution"),
]

_IJ_OTHER = "ImageJ-specific setting with no NGFF equivalent"
_IMAGEJ_REASONS = {
    "min": "display range; omero window is set from the data instead",
    "max": "display range; omero window is set from the data instead",
    "ranges": "per-channel display ranges; omero window is set from the data instead",
    "LUTs": "ImageJ lookup tables; NGFF stores one colour per channel",
    "Labels": "per-plane slice labels; NGFF has no per-plane labels",
    "Info": "free-text info; NGFF has no description field",
    "Ranges": "per-channel display ranges; omero window is set from the data instead",
    "fps": "playback speed; not image metadata in NGFF",
    "Overlay": "ROI overlay; NGFF has no ROI model yet",
    "ROI": "ROI; NGFF has no ROI model yet",
    "Properties": "ImageJ properties; NGFF has no field for them",
}


def _pillow_unmapped(path: Path, what: str) -> list[tuple[str, str]]:
    items = []
    with open_pillow(path, what) as image:
        if image.mode == "P":
            items.append(("palette", "pixels are stored as palette indices; NGFF has no LUT"))
        for key in image.info:
            items.append((f"{image.format} info {key!r}", "NGFF has no field for it"))
    return items
