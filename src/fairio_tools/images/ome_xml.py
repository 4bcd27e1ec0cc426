"""Parse the parts of OME-XML that describe pixels, safely (no entities, no DTDs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from fairio_tools.errors import InputError


@dataclass
class OmeImage:
    """Calibration of one OME ``Image``: sizes per NGFF axis as (value, unit)."""

    name: str | None
    physical_sizes: dict[str, tuple[float, str]] = field(default_factory=dict)
    time_increment: tuple[float, str] | None = None
    channel_names: list[str] = field(default_factory=list)
    channel_colors: list[str | None] = field(default_factory=list)
    """Per channel "RRGGBB" (OME stores a signed 32-bit RGBA integer), None when unset."""


def parse_ome_xml(text: str | None, path: Path) -> list[OmeImage]:
    """Return one ``OmeImage`` per ``Image`` element of an OME-XML document."""
    if not text:
        return []
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise InputError(f"OME-XML cannot be parsed: {error}", path=path) from error
    images = []
    for image in root.findall(".//{*}Image"):  # iter() ignores the {*} wildcard
        pixels = image.find("{*}Pixels")
        if pixels is None:
            continue
        ome = OmeImage(name=image.get("Name"))
        for axis in ("z", "y", "x"):
            value = pixels.get(f"PhysicalSize{axis.upper()}")
            if value is not None:
                unit = pixels.get(f"PhysicalSize{axis.upper()}Unit", "µm")
                ome.physical_sizes[axis] = (_number(value, path, axis), unit)
        increment = pixels.get("TimeIncrement")
        if increment is not None:
            ome.time_increment = (
                _number(increment, path, "TimeIncrement"),
                pixels.get("TimeIncrementUnit", "s"),
            )
        channels = pixels.findall("{*}Channel")
        ome.channel_names = [c.get("Name") or c.get("ID") or "" for c in channels]
        ome.channel_colors = [_rgb(c.get("Color")) for c in channels]
        images.append(ome)
    return images


def _rgb(color: str | None) -> str | None:
    """OME's signed RGBA integer as "RRGGBB" (None when absent or not a number)."""
    try:
        rgba = int(color) & 0xFFFFFFFF if color is not None else None
    except ValueError:
        return None
    return None if rgba is None else f"{rgba >> 8:06X}"


def _number(text: str, path: Path, name: str) -> float:
    try:
        return float(text)
    except ValueError as error:
        raise InputError(f"OME-XML {name} is not a number: {text!r}", path=path) from error
