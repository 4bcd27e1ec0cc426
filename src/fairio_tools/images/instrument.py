"""Instrument and acquisition metadata of OME-XML, component by component, per image.

The OME-XML comes from an OME-TIFF (its first ImageDescription, the file opened alone),
from an OME-XML file (a companion ``.ome`` / ``.ome.xml``), or from the vendor XML of a Zeiss
CZI or Leica LIF file mapped by ``vendor_ome``, or, for an image without any, made from what
the image reader finds (sizes, calibration, channel names, a TIFF's date); it is read
bounded and parsed by ``ome_xml.parse_ome_root``. Each OME ``Image`` is resolved to its
components as the OME model links them: Image -> InstrumentRef -> Instrument -> Microscope;
ObjectiveSettings -> Objective; Channel -> LightSourceSettings -> light source,
DetectorSettings -> Detector, LightPath / FilterSetRef -> Filter. Nothing the document names
outside itself is opened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairio_tools import limits
from fairio_tools.errors import InputError
from fairio_tools.images.ome_xml import parse_ome_root

LIGHT_SOURCES = ("Laser", "Arc", "Filament", "LightEmittingDiode", "GenericExcitationSource")


@dataclass
class ChannelParts:
    """The elements one channel's acquisition refers to (None or [] where it refers to none)."""

    channel: Any
    light_source_settings: Any = None
    light_source: Any = None
    detector_settings: Any = None
    detector: Any = None
    filters: list[Any] = field(default_factory=list)


@dataclass
class ImageParts:
    """One OME Image and the instrument elements it refers to."""

    index: int
    name: str | None
    image: Any
    pixels: Any
    planes: list[Any]
    microscope: Any
    objective: Any
    objective_settings: Any
    channels: list[ChannelParts]
    z_stack: bool
    notes: list[str] = field(default_factory=list)


def read_ome_xml_text(path: Path) -> tuple[str, list[str]]:
    """The OME-XML of an OME-TIFF or of an OME-XML file, or that ``vendor_ome`` maps from a
    Zeiss CZI or Leica LIF file, with notes; for another image (a TIFF without OME-XML, PNG,
    JPEG) the OME-XML of what it records, with a note saying so."""
    from fairio_tools.images.formats import check_readable_file, detect_vendor

    check_readable_file(path)
    vendor = detect_vendor(path)
    if vendor is not None:
        from fairio_tools.images.vendor_ome import vendor_ome_xml

        return vendor_ome_xml(path, vendor)
    with path.open("rb") as stream:
        head = stream.read(64)
    if head.lstrip().startswith(b"<"):
        size = path.stat().st_size
        if size > limits.MAX_OME_XML_BYTES:
            raise InputError(
                f"OME-XML file of {size} bytes, more than this server parses",
                path=path,
                hint=limits.refusal_hint("FAIRIO_MAX_OME_XML_BYTES", limits.MAX_OME_XML_BYTES),
            )
        return path.read_bytes().decode("utf-8", errors="replace"), []
    from fairio_tools.images.formats import ImageFormat, detect_format
    from fairio_tools.images.reading import decoding, open_tiff

    kind = detect_format(path)
    text = ""
    if kind is ImageFormat.TIFF:
        with open_tiff(path) as tif, decoding(path, "TIFF"):
            text = tif.pages.first.description if tif.is_ome else ""
    if text:
        return text, []
    note = (
        f"a {kind.name if kind else 'file'} without OME-XML: only what it records (sizes, "
        "pixel type, calibration, channel names, date) is scored; it names no instrument"
    )
    return _recorded_ome_xml(path), [note]


def _recorded_ome_xml(path: Path) -> str:
    """OME-XML of what a file without OME-XML records, as the image reader reads it (written
    by tifffile's ``OmeXml``)."""
    import tifffile

    from fairio_tools.images.info import read_image_info
    from fairio_tools.ngff.axes import ome_unit

    info = read_image_info(path)
    omexml = tifffile.OmeXml()
    for series in info.series:
        axes = "".join(series.axes).upper()
        metadata: dict[str, Any] = {"Name": series.name or path.name}
        for axis, size in series.physical_sizes.items():
            if axis in "zyx" and ome_unit(size.unit):
                metadata[f"PhysicalSize{axis.upper()}"] = size.value
                metadata[f"PhysicalSize{axis.upper()}Unit"] = ome_unit(size.unit)
        interval = series.time_interval
        if interval is not None and ome_unit(interval.unit):
            metadata["TimeIncrement"] = interval.value
            metadata["TimeIncrementUnit"] = ome_unit(interval.unit)
        if series.channel_names:
            metadata["Channel"] = {"Name": series.channel_names}
        date = _tiff_datetime(path) if series.index == 0 else None
        if date:
            metadata["AcquisitionDate"] = date
        yx = series.shape[-2:]
        stored = (math.prod(series.shape[:-2]), 1, 1, *yx, 1)
        dtype = "float32" if series.dtype == "float16" else series.dtype  # OME has no float16
        try:
            omexml.addimage(dtype, series.shape, stored, axes=axes, **metadata)
        except (tifffile.OmeXmlError, ValueError) as error:  # a pixel type OME has no name for
            message = f"image {series.index} has no OME description: {error}"
            raise InputError(message, path=path) from error
    return omexml.tostring()


def image_parts(text: str, path: Path) -> list[ImageParts]:
    """Every OME Image of the document with the instrument elements it refers to."""
    root = parse_ome_root(text, path)
    instruments = {i.get("ID"): i for i in root.findall("{*}Instrument")}
    parts = []
    for index, image in enumerate(root.findall("{*}Image")):
        pixels = image.find("{*}Pixels")
        if pixels is None:
            continue
        notes: list[str] = []
        instrument = _instrument(image, instruments, notes)
        settings = image.find("{*}ObjectiveSettings")
        objective = _by_id(
            instrument, "Objective", None if settings is None else settings.get("ID")
        )
        if objective is None and settings is None and instrument is not None:
            sole = instrument.findall("{*}Objective")
            if len(sole) == 1:
                objective = sole[0]
                notes.append("no ObjectiveSettings: the instrument's only objective is used")
        channels = [_channel(c, instrument) for c in pixels.findall("{*}Channel")]
        size_z = pixels.get("SizeZ", "1")
        parts.append(
            ImageParts(
                index=index,
                name=image.get("Name"),
                image=image,
                pixels=pixels,
                planes=pixels.findall("{*}Plane"),
                microscope=None if instrument is None else instrument.find("{*}Microscope"),
                objective=objective,
                objective_settings=settings,
                channels=channels,
                z_stack=size_z.isdigit() and int(size_z) > 1,
                notes=notes,
            )
        )
    return parts


def _instrument(image: Any, instruments: dict[str | None, Any], notes: list[str]) -> Any:
    ref = image.find("{*}InstrumentRef")
    if ref is not None:
        found = instruments.get(ref.get("ID"))
        if found is None:
            notes.append(f"InstrumentRef {ref.get('ID')!r} names no Instrument of the file")
        return found
    if len(instruments) == 1:
        notes.append("no InstrumentRef: the file's only Instrument is used")
        return next(iter(instruments.values()))
    return None


def _by_id(parent: Any, tag: str | tuple[str, ...], wanted: str | None) -> Any:
    if parent is None or wanted is None:
        return None
    tags = (tag,) if isinstance(tag, str) else tag
    for child in parent:
        if child.tag.rsplit("}", 1)[-1] in tags and child.get("ID") == wanted:
            return child
    return None


def _channel(channel: Any, instrument: Any) -> ChannelParts:
    parts = ChannelParts(channel)
    parts.light_source_settings = channel.find("{*}LightSourceSettings")
    if parts.light_source_settings is not None:
        parts.light_source = _by_id(
            instrument, LIGHT_SOURCES, parts.light_source_settings.get("ID")
        )
    parts.detector_settings = channel.find("{*}DetectorSettings")
    if parts.detector_settings is not None:
        parts.detector = _by_id(instrument, "Detector", parts.detector_settings.get("ID"))
    refs = channel.findall("{*}LightPath/{*}ExcitationFilterRef")
    refs += channel.findall("{*}LightPath/{*}EmissionFilterRef")
    set_ref = channel.find("{*}FilterSetRef")
    filter_set = _by_id(instrument, "FilterSet", None if set_ref is None else set_ref.get("ID"))
    if filter_set is not None:
        refs += filter_set.findall("{*}ExcitationFilterRef") + filter_set.findall(
            "{*}EmissionFilterRef"
        )
    for ref in refs:
        found = _by_id(instrument, "Filter", ref.get("ID"))
        if found is not None and found not in parts.filters:
            parts.filters.append(found)
    return parts


def acquisition_date(path: Path, series: int = 0) -> str | None:
    """When image ``series`` of ``path`` was acquired, as the file records it: its OME
    ``AcquisitionDate`` (OME-TIFF, OME-XML, CZI, LIF), else a TIFF's ``DateTime`` tag as ISO
    8601; None where the file records neither (or cannot be read)."""
    try:
        text, _ = read_ome_xml_text(path)
        parts = image_parts(text, path)
    except InputError:
        parts = []
    if 0 <= series < len(parts):
        date = parts[series].image.findtext("{*}AcquisitionDate")
        if date and date.strip():
            return date.strip()
    return _tiff_datetime(path)


def _tiff_datetime(path: Path) -> str | None:
    """The TIFF ``DateTime`` tag (``YYYY:MM:DD HH:MM:SS``) of the first page, as ISO 8601."""
    from datetime import datetime

    from fairio_tools.images.formats import ImageFormat, detect_format
    from fairio_tools.images.reading import decoding, open_tiff

    if detect_format(path) is not ImageFormat.TIFF:
        return None
    try:
        with open_tiff(path) as tif, decoding(path, "TIFF"):
            tag = tif.pages.first.tags.get(306)
            value = tag.value if tag is not None else None
    except InputError:
        return None
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None
