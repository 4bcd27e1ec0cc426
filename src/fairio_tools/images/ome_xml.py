"""Parse the parts of OME-XML that describe pixels, safely (no entities, no DTDs, bounded).

Calibration that is not a finite positive number is dropped with a note, never passed on.
Files the document names besides this one (a multi-file OME-TIFF, a companion file) are
listed, never opened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as FastElementTree

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from fairio_tools import limits
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
    notes: list[str] = field(default_factory=list)


@dataclass
class OmeDocument:
    """The images of an OME-XML document and the other files it refers to."""

    images: list[OmeImage] = field(default_factory=list)
    other_files: list[str] = field(default_factory=list)
    """File names of planes stored in other files (multi-file OME-TIFF), or of the companion
    file holding the metadata (``BinaryOnly``): never opened."""


def parse_xml(text: str) -> Any:
    """The root element of ``text``, parsed safely: a document without a DTD can declare no
    entity (only XML's five and character references exist), so it is parsed by the C
    parser; one with a DTD by defusedxml, which refuses entity declarations. Raises
    ``ParseError`` or ``DefusedXmlException``."""
    if "<!DOCTYPE" not in text:  # XML is case-sensitive: no other spelling declares a DTD
        return FastElementTree.fromstring(text)
    return ElementTree.fromstring(text)


def parse_ome_root(text: str, path: Path) -> Any:
    """The root element of the OME-XML of ``path``, parsed safely; InputError if it is
    malformed, hostile (entities, DTDs) or too large, or declares too many images."""
    if len(text) > limits.MAX_OME_XML_BYTES:
        raise InputError(
            f"OME-XML is {len(text)} characters long, more than this server parses",
            path=path,
            hint=limits.refusal_hint("FAIRIO_MAX_OME_XML_BYTES", limits.MAX_OME_XML_BYTES),
        )
    try:
        root = parse_xml(text)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise InputError(f"OME-XML cannot be parsed: {error}", path=path) from error
    count = len(root.findall(".//{*}Image"))  # iter() ignores the {*} wildcard
    if count > limits.MAX_OME_IMAGES:
        raise InputError(
            f"OME-XML declares {count} images, more than this server reads",
            path=path,
            hint=limits.refusal_hint("FAIRIO_MAX_OME_IMAGES", limits.MAX_OME_IMAGES),
        )
    return root


def parse_ome_xml(text: str | None, path: Path) -> OmeDocument:
    """Parse the OME-XML of ``path``; InputError if it is malformed, hostile or too large."""
    if not text:
        return OmeDocument()
    root = parse_ome_root(text, path)
    elements = root.findall(".//{*}Image")
    document = OmeDocument(other_files=_other_files(root, path))
    planes = 0
    for image in elements:
        pixels = image.find("{*}Pixels")
        if pixels is not None:
            planes += _declared_planes(pixels, path)
            limits.enforce("FAIRIO_MAX_OME_PLANES", planes, "planes declared by OME-XML", path)
            document.images.append(_image(image, pixels, path))
    return document


_TIFF_SIDE = 2**32 - 1
"""A TIFF page cannot be wider or taller than this."""


def _declared_planes(pixels: ElementTree.Element, path: Path) -> int:
    """The planes an OME ``Pixels`` element declares (SizeZ x SizeC x SizeT), its sizes
    checked before tifffile builds series from them (it allocates per declared plane)."""
    sizes = {}
    for name in ("SizeX", "SizeY", "SizeZ", "SizeC", "SizeT"):
        text = pixels.get(name, "1")
        if not text.strip().isdigit() or not 1 <= int(text) <= _TIFF_SIDE:
            raise InputError(f"OME-XML {name}={text!r} is not a plausible size", path=path)
        sizes[name] = int(text)
    return sizes["SizeZ"] * sizes["SizeC"] * sizes["SizeT"]


def _image(image: ElementTree.Element, pixels: ElementTree.Element, path: Path) -> OmeImage:
    ome = OmeImage(name=image.get("Name"))
    for axis in ("z", "y", "x"):
        name = f"PhysicalSize{axis.upper()}"
        value = _calibration(pixels.get(name), name, path, ome.notes)
        if value is not None:
            ome.physical_sizes[axis] = (value, pixels.get(f"{name}Unit", "µm"))
    increment = _calibration(pixels.get("TimeIncrement"), "TimeIncrement", path, ome.notes)
    if increment is not None:
        ome.time_increment = (increment, pixels.get("TimeIncrementUnit", "s"))
    channels = pixels.findall("{*}Channel")
    ome.channel_names = [c.get("Name") or c.get("ID") or "" for c in channels]
    ome.channel_colors = [_rgb(c.get("Color")) for c in channels]
    return ome


def _other_files(root: ElementTree.Element, path: Path) -> list[str]:
    """Names of the files other than this one that hold planes or metadata of the document."""
    own_uuid = root.get("UUID")
    names: list[str] = []
    for binary_only in root.findall("{*}BinaryOnly"):
        names.append(binary_only.get("MetadataFile") or "(unnamed companion file)")
    for uuid in root.findall(".//{*}TiffData/{*}UUID"):
        name = uuid.get("FileName") or ""
        this_file = (uuid.text or "").strip() == own_uuid if own_uuid else name == path.name
        if not this_file and name not in names:
            names.append(name or f"(file with UUID {(uuid.text or '').strip()})")
    return names


def _rgb(color: str | None) -> str | None:
    """OME's signed RGBA integer as "RRGGBB" (None when absent or not a number)."""
    try:
        rgba = int(color) & 0xFFFFFFFF if color is not None else None
    except ValueError:
        return None
    return None if rgba is None else f"{rgba >> 8:06X}"


def _calibration(text: str | None, name: str, path: Path, notes: list[str]) -> float | None:
    """A physical size or time interval; None (with a note) unless finite and positive."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError as error:
        raise InputError(f"OME-XML {name} is not a number: {text!r}", path=path) from error
    return positive_calibration(value, f"OME-XML {name}", notes)


def positive_calibration(value: float, what: str, notes: list[str]) -> float | None:
    """``value`` if it is a finite positive number; otherwise None and a note saying so."""
    if math.isfinite(value) and value > 0:
        return value
    notes.append(f"{what} is {value!r}, not a finite positive number: not written")
    return None
