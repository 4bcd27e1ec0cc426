"""Instrument and acquisition metadata of Zeiss CZI and Leica LIF files, as OME-XML.

What the vendor readers carry (czifile, liffile: the vendor's own XML) is mapped onto the
OME elements ``instrument`` resolves, as Bio-Formats maps it, for the fields the NBO tiers
score; nothing else. The vendor XML tree comes from ``reading.vendor_metadata``;
``ome_fit`` then makes the document schema-valid, one ``Image`` per series (a vendor word
the schema's enumerations lack, such as a Leica ``HyD`` detector, becomes ``Other``). A
value the file does not state is left out, never guessed: a LIF records which lasers were
on, not which channel each excited, so excitation is given only when there is one laser
line per channel.
A LIF channel is named as LAS X shows it and bioio-lif reads it: the filter cube of a
widefield channel (``WideFieldChannelInfo/@FluoCubeName``, matched by its LUT), else the
LUT of its ``ChannelDescription`` (``Green``, ``Red``), which also gives its colour.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fairio_tools.errors import InputError
from fairio_tools.images.instrument import LIGHT_SOURCES

OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
LIF_IMMERSION = {
    "OIL": "Oil",
    "WATER": "Water",
    "GLYC": "Glycerol",
    "DRY": "Air",
    "AIR": "Air",
    "MULTI": "Multi",
}
LIF_LUT_RGB = {
    "red": 0xFF0000,
    "green": 0x00FF00,
    "blue": 0x0000FF,
    "cyan": 0x00FFFF,
    "magenta": 0xFF00FF,
    "yellow": 0xFFFF00,
    "gray": 0xFFFFFF,
    "grey": 0xFFFFFF,
}
"""Leica's named LUTs as RGB (OME ``Channel/@Color`` is RGBA as a signed 32-bit integer)."""


def vendor_ome_xml(path: Path, kind: str) -> tuple[str, list[str]]:
    """OME-XML text describing ``path`` (a CZI or LIF file) and notes on the mapping; the
    vendor XML is parsed and mapped once per process and version of the file."""
    stat = path.stat()
    xml, notes = _mapped(str(path), kind, stat.st_mtime_ns, stat.st_size)
    return xml, list(notes)


@functools.lru_cache(maxsize=16)
def _mapped(name: str, kind: str, mtime_ns: int, size: int) -> tuple[str, tuple[str, ...]]:
    from fairio_tools.images.ome_fit import fit_to_schema
    from fairio_tools.images.reading import czi_time_stamps, vendor_metadata
    from fairio_tools.images.vendor import vendor_series

    path = Path(name)
    root = vendor_metadata(path, kind)
    ome = Element("OME", xmlns=OME_NS)
    images = _czi(root, ome, czi_time_stamps(path)) if kind == "czi" else _lif(root, ome)
    if not images:
        raise InputError(f"{kind.upper()} metadata describe no image", path=path)
    series = vendor_series(path, kind)
    if any(each.source >= images for each in series):
        raise InputError(
            f"{kind.upper()} metadata describe {images} image(s), fewer than its pixels hold",
            path=path,
        )
    fit_to_schema(ome, series)
    note = (
        f"metadata mapped to OME from the {'Zeiss CZI' if kind == 'czi' else 'Leica LIF'} "
        "XML by fairio (the fields the NBO tiers score)"
    )
    return tostring(ome, encoding="unicode"), (note,)


def _text(element: Any, path: str) -> str | None:
    found = None if element is None else element.find(path)
    text = None if found is None else (found.text or "").strip()
    return text or None


def _set(element: Element, **values: str | float | None) -> None:
    for name, value in values.items():
        if value is not None and value != "":
            element.set(name, str(value))


def _czi(root: Any, ome: Element, time_stamps: Any) -> int:
    info = root.find("Metadata/Information")
    if info is None:
        return 0
    source = info.find("Instrument")
    instrument = SubElement(ome, "Instrument", ID="Instrument:0")
    if source is not None:
        for m in source.findall("Microscopes/Microscope")[:1]:
            micro = SubElement(instrument, "Microscope")
            _set(
                micro,
                Type=_text(m, "Type"),
                Manufacturer=_text(m, "Manufacturer/Manufacturer"),
                Model=_text(m, "Manufacturer/Model") or m.get("Name"),
                SerialNumber=_text(m, "Manufacturer/SerialNumber"),
            )
        for light in source.findall("LightSources/LightSource"):
            kinds = light.find("LightSourceType")
            kind = next(iter(kinds), None) if kinds is not None else None
            tag = kind.tag if kind is not None else "GenericExcitationSource"
            if tag not in LIGHT_SOURCES:  # OME has these kinds only; a CZI may name others
                tag = "GenericExcitationSource"
            element = SubElement(instrument, tag, ID=light.get("Id", ""))
            _set(
                element,
                Manufacturer=_text(light, "Manufacturer/Manufacturer"),
                Model=_text(light, "Manufacturer/Model"),
                Power=_text(light, "Power"),
                SerialNumber=_text(light, "Manufacturer/SerialNumber"),
                Wavelength=_text(kind, "Wavelength") if tag == "Laser" else None,  # lasers' only
            )
        for det in source.findall("Detectors/Detector"):
            element = SubElement(instrument, "Detector", ID=det.get("Id", ""))
            _set(
                element,
                Type=_text(det, "Type"),
                Manufacturer=_text(det, "Manufacturer/Manufacturer"),
                Model=_text(det, "Manufacturer/Model"),
                Zoom=_text(det, "Zoom"),
                SerialNumber=_text(det, "Manufacturer/SerialNumber"),
            )
        for obj in source.findall("Objectives/Objective"):
            element = SubElement(instrument, "Objective", ID=obj.get("Id", ""))
            _set(
                element,
                LensNA=_text(obj, "LensNA"),
                NominalMagnification=_text(obj, "NominalMagnification"),
                CalibratedMagnification=_text(obj, "CalibratedMagnification"),
                Immersion=_text(obj, "Immersion"),
                Correction=_text(obj, "Correction"),
                WorkingDistance=_text(obj, "WorkingDistance"),
                Manufacturer=_text(obj, "Manufacturer/Manufacturer"),
                Model=_text(obj, "Manufacturer/Model") or obj.get("Name"),
                SerialNumber=_text(obj, "Manufacturer/SerialNumber"),
            )
            if element.get("WorkingDistance"):
                element.set("WorkingDistanceUnit", "µm")
    image_info = info.find("Image")
    image = SubElement(ome, "Image", ID="Image:0", Name="0")
    date = _text(image_info, "AcquisitionDateAndTime")
    if date:
        SubElement(image, "AcquisitionDate").text = date
    SubElement(image, "InstrumentRef", ID="Instrument:0")
    settings = None if image_info is None else image_info.find("ObjectiveSettings")
    if settings is not None and settings.find("ObjectiveRef") is not None:
        element = SubElement(
            image, "ObjectiveSettings", ID=settings.find("ObjectiveRef").get("Id", "")
        )
        _set(
            element,
            Medium=_text(settings, "Medium"),
            RefractiveIndex=_text(settings, "RefractiveIndex"),
        )
    pixels = SubElement(image, "Pixels", ID="Pixels:0", DimensionOrder="XYCZT")
    for axis in "XYZCT":
        _set(pixels, **{f"Size{axis}": _text(image_info, f"Size{axis}") or "1"})
    for distance in root.findall("Metadata/Scaling/Items/Distance"):
        axis, value = distance.get("Id"), _float(_text(distance, "Value"))
        if axis in ("X", "Y", "Z") and value and value > 0:
            pixels.set(f"PhysicalSize{axis}", _micrometres(value))
            pixels.set(f"PhysicalSize{axis}Unit", "µm")
    increment = _czi_time_increment(image_info, time_stamps)
    if increment is not None:
        pixels.set("TimeIncrement", repr(increment))
        pixels.set("TimeIncrementUnit", "s")
    channels = [] if image_info is None else image_info.findall("Dimensions/Channels/Channel")
    colors = _czi_colors(root, channels)
    for n, source_channel in enumerate(channels):
        channel = SubElement(pixels, "Channel", ID=f"Channel:0:{n}")
        _set(
            channel,
            Name=source_channel.get("Name"),
            Color=colors[n],
            ExcitationWavelength=_text(source_channel, "ExcitationWavelength"),
            EmissionWavelength=_text(source_channel, "EmissionWavelength"),
            IlluminationType=_text(source_channel, "IlluminationType"),
            AcquisitionMode=_text(source_channel, "AcquisitionMode"),
            ContrastMethod=_text(source_channel, "ContrastMethod"),
            PinholeSize=_text(source_channel, "PinholeSize"),
            Fluor=_text(source_channel, "Fluor"),
        )
        light = source_channel.find("LightSourcesSettings/LightSourceSettings")
        if light is not None and light.find("LightSource") is not None:
            element = SubElement(
                channel, "LightSourceSettings", ID=light.find("LightSource").get("Id", "")
            )
            _set(element, Attenuation=_text(light, "Attenuation"))
        det = source_channel.find("DetectorSettings")
        if det is not None and det.find("Detector") is not None:
            element = SubElement(channel, "DetectorSettings", ID=det.find("Detector").get("Id", ""))
            _set(
                element,
                Gain=_text(det, "Gain"),
                Offset=_text(det, "Offset"),
                Binning=_text(det, "Binning"),
                ReadOutRate=_text(det, "ReadOutRate"),
                Voltage=_text(det, "Voltage"),
            )
    for n, source_channel in enumerate(channels):  # one plane per channel: its exposure
        exposure = _text(source_channel, "ExposureTime")  # nanoseconds in CZI
        plane = SubElement(pixels, "Plane", TheZ="0", TheC=str(n), TheT="0")
        if exposure:
            plane.set("ExposureTime", repr(float(exposure) / 1e9))
            plane.set("ExposureTimeUnit", "s")
    return 1


def _micrometres(metres: float) -> str:
    """Metres as µm, in decimal (1e-07 m is 0.1 µm, not 0.09999999999999999)."""
    return repr(float(Decimal(repr(metres)).scaleb(6)))


def _czi_time_increment(image_info: Any, time_stamps: Any) -> float | None:
    """Seconds between time points: ZEN's ``Dimensions/T/Positions/Interval/Increment``, else
    from its ``TimeStamps`` attachment (first to last time point), as Bio-Formats reads them."""
    size = int(_float(_text(image_info, "SizeT")) or 1)
    if size < 2:
        return None
    step = _float(_text(image_info, "Dimensions/T/Positions/Interval/Increment"))
    if step is None and time_stamps is not None and len(time_stamps) >= size:
        step = (float(time_stamps[size - 1]) - float(time_stamps[0])) / (size - 1)
    return step if step is not None and math.isfinite(step) and step > 0 else None


def _czi_colors(root: Any, channels: list[Any]) -> list[str | None]:
    """Per channel, its display colour (``DisplaySetting/Channels/Channel/Color``, ``#AARRGGBB``
    or ``#RRGGBB``, matched by channel Id, else by position) as OME's signed RGBA integer."""
    shown = root.findall("Metadata/DisplaySetting/Channels/Channel")
    by_id = {c.get("Id"): c for c in shown if c.get("Id")}
    colors: list[str | None] = []
    for n, channel in enumerate(channels):
        match = by_id.get(channel.get("Id")) or (shown[n] if len(shown) == len(channels) else None)
        text = (_text(match, "Color") or "").lstrip("#")
        try:
            argb = int(text, 16) if len(text) in (6, 8) else None
        except ValueError:
            argb = None
        if argb is None:
            colors.append(None)
            continue
        rgba = (argb & 0xFFFFFF) << 8 | 0xFF
        colors.append(str(rgba - (1 << 32) if rgba >= 1 << 31 else rgba))
    return colors


def _lif(root: Any, ome: Element) -> int:
    count = 0
    for element in root.iter("Element"):
        data = element.find("Data/Image")
        if data is None:
            continue
        n = count
        count += 1
        confocal = next(data.iter("ATLConfocalSettingDefinition"), None)
        camera = next(data.iter("ATLCameraSettingDefinition"), None)
        settings = confocal if confocal is not None else camera
        hardware = next(
            (a for a in data.iter("Attachment") if a.get("Name") == "HardwareSetting"), None
        )
        instrument = SubElement(ome, "Instrument", ID=f"Instrument:{n}")
        image = SubElement(ome, "Image", ID=f"Image:{n}", Name=element.get("Name", str(n)))
        date = _filetime(data)
        if date:
            SubElement(image, "AcquisitionDate").text = date
        SubElement(image, "InstrumentRef", ID=f"Instrument:{n}")
        if settings is not None:
            micro = SubElement(instrument, "Microscope")
            inverse = settings.get("IsInverseMicroscopeModel")
            _set(
                micro,
                Model=settings.get("MicroscopeModel"),
                Type={"1": "Inverted", "0": "Upright"}.get(inverse or ""),
            )
            objective = SubElement(instrument, "Objective", ID=f"Objective:{n}")
            immersion = (settings.get("Immersion") or "").strip().upper()
            _set(
                objective,
                LensNA=settings.get("NumericalAperture"),
                NominalMagnification=settings.get("Magnification"),
                Immersion=LIF_IMMERSION.get(immersion, immersion.title() or None),
                Model=(settings.get("ObjectiveName") or "").strip() or None,
            )
            objective_settings = SubElement(image, "ObjectiveSettings", ID=f"Objective:{n}")
            _set(objective_settings, RefractiveIndex=settings.get("RefractionIndex"))
        pixels = SubElement(image, "Pixels", ID=f"Pixels:{n}", DimensionOrder="XYCZT")
        dims = list(data.iter("DimensionDescription"))
        xz_scan = not any(d.get("DimID") == "2" for d in dims)  # its z lines are y
        for dim in dims:
            axis = {"1": "X", "2": "Y", "3": "Y" if xz_scan else "Z", "4": "T"}.get(
                dim.get("DimID", "")
            )
            size = int(dim.get("NumberOfElements", "1") or 1)
            if axis is None:
                continue
            pixels.set(f"Size{axis}", str(size))
            length = abs(_float(dim.get("Length")) or 0)  # a stack scanned downwards: < 0
            if axis != "T" and length and size > 1 and dim.get("Unit") == "m":
                pixels.set(f"PhysicalSize{axis}", _micrometres(length / (size - 1)))
                pixels.set(f"PhysicalSize{axis}Unit", "µm")
            elif axis == "T" and length and size > 1 and dim.get("Unit") == "s":
                pixels.set("TimeIncrement", repr(length / (size - 1)))
                pixels.set("TimeIncrementUnit", "s")
        descriptions = list(data.iter("ChannelDescription"))
        detectors = (
            []
            if settings is None
            else [d for d in settings.iter("Detector") if d.get("IsActive") == "1"]
        )
        bands = (
            {} if settings is None else {b.get("Channel"): b for b in settings.iter("MultiBand")}
        )
        lasers = (
            []
            if settings is None
            else [
                line
                for line in settings.iter("LaserLineSetting")
                if line.get("IsLineChecked") == "1" and (_float(line.get("IntensityDev")) or 0) > 0
            ]
        )
        mode = hardware.get("DataSourceTypeName") if hardware is not None else None
        cubes = {
            info.get("LUT"): info.get("FluoCubeName") for info in data.iter("WideFieldChannelInfo")
        }
        for c, description in enumerate(descriptions):
            channel = SubElement(pixels, "Channel", ID=f"Channel:{n}:{c}")
            lut = (description.get("LUTName") or "").strip()
            _set(channel, Name=(cubes.get(lut) or "").strip() or lut or None)
            if lut.lower() in LIF_LUT_RGB:
                rgba = LIF_LUT_RGB[lut.lower()] << 8 | 0xFF
                channel.set("Color", str(rgba - (1 << 32) if rgba >= 1 << 31 else rgba))
            if mode == "Confocal":
                channel.set("AcquisitionMode", "LaserScanningConfocalMicroscopy")
            if settings is not None and _float(settings.get("Pinhole")):
                channel.set("PinholeSize", repr(_float(settings.get("Pinhole")) * 1e6))
            if c < len(detectors) and len(detectors) == len(descriptions):
                det = detectors[c]
                det_id = f"Detector:{n}:{c}"
                SubElement(
                    instrument,
                    "Detector",
                    ID=det_id,
                    Type=det.get("Type", ""),
                    Model=det.get("Name", ""),
                )
                det_settings = SubElement(channel, "DetectorSettings", ID=det_id)
                _set(det_settings, Gain=det.get("Gain"), Offset=det.get("Offset"))
                band = bands.get(det.get("Channel"))
                begin, end = (
                    _float(band.get(k)) if band is not None else None
                    for k in ("TargetWaveLengthBegin", "TargetWaveLengthEnd")
                )
                if begin and end:
                    channel.set("EmissionWavelength", f"{(begin + end) / 2:.1f}")
            if len(lasers) == len(descriptions):
                line = lasers[c]
                laser_id = f"LightSource:{n}:{c}"
                SubElement(
                    instrument,
                    "Laser",
                    ID=laser_id,
                    Wavelength=line.get("LaserLine", ""),
                )
                light = SubElement(channel, "LightSourceSettings", ID=laser_id)
                intensity = _float(line.get("IntensityDev"))
                if intensity is not None:
                    light.set("Attenuation", repr(1 - intensity / 100))
                channel.set("ExcitationWavelength", line.get("LaserLine", ""))
        if len(descriptions) <= 1:
            _sweep_channels(pixels, dims)
    return count


_SWEEPS = (("5", "EmissionWavelength"), ("9", "ExcitationWavelength"))
"""LAS X's wavelength sweep dimensions, in the order ``vendor`` takes one as the channels."""


def _sweep_channels(pixels: Element, dims: list[Any]) -> None:
    """A wavelength sweep of an image without channels of its own is its channel axis (as
    ``vendor`` reads it): one channel per wavelength, named by it, instead of the one
    described (whose settings it keeps)."""
    by_id = {d.get("DimID"): d for d in dims}
    for dim_id, attribute in _SWEEPS:
        dim = by_id.get(dim_id)
        size = int(_float(None if dim is None else dim.get("NumberOfElements")) or 1)
        if dim is None or size < 2:
            continue
        described = pixels.find("Channel")
        settings = {} if described is None else dict(described.attrib)
        for name in ("ID", "Name", "Color", "EmissionWavelength", "ExcitationWavelength"):
            settings.pop(name, None)
        for old in pixels.findall("Channel"):
            pixels.remove(old)
        origin, length = _float(dim.get("Origin")), _float(dim.get("Length"))
        nanometres = {"m": 1e9, "nm": 1.0}.get(dim.get("Unit") or "")
        for c in range(size):
            number = f"{pixels.get('ID', 'Pixels:0').removeprefix('Pixels:')}:{c}"
            channel = SubElement(pixels, "Channel", ID=f"Channel:{number}", **settings)
            if origin is None or length is None or nanometres is None:
                channel.set("Name", f"wavelength {c + 1} of {size}")
                continue
            wavelength = round((origin + c * length / (size - 1)) * nanometres, 3)
            channel.set("Name", f"{wavelength:g} nm")
            channel.set(attribute, repr(wavelength))
            channel.set(f"{attribute}Unit", "nm")
        return


def _float(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _filetime(data: Any) -> str | None:
    """The first time stamp of a LIF image (Windows FILETIME, hexadecimal) as ISO 8601."""
    stamps = next(data.iter("TimeStampList"), None)
    words = (stamps.text or "").split() if stamps is not None else []
    if not words:
        return None
    try:
        ticks = int(words[0], 16)
        moment = dt.datetime(1601, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ticks // 10)
    except (ValueError, OverflowError):
        return None
    return moment.isoformat()
