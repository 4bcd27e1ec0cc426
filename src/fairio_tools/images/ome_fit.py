"""Make OME-XML mapped from vendor metadata valid against the OME 2016-06 schema.

``vendor_ome`` maps what a CZI or LIF file says; this pass makes the document one that OME
readers accept (``OME/METADATA.ome.xml`` of a converted store is read by OMERO, Bio-Formats
and ome-types) and that agrees with the pixels written:

* one ``Image`` per series the image reader gives (a CZI's scenes, a LIF's mosaic
  positions), its ``Pixels`` sizes and type those of the series, ``MetadataOnly`` standing
  for the pixels;
* elements in the schema's order, identifiers without white space, references only to
  elements that exist;
* enumerated attributes spelled as the schema spells them (``4,4`` binning is ``4x4``); a
  vendor value the schema has no word for is ``Other``; numbers that are not finite, or not
  positive where the schema wants them positive, are left out.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement

import numpy as np

from fairio_tools.images.instrument import LIGHT_SOURCES

ENUMERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Microscope", "Type"): ("Upright", "Inverted", "Dissection", "Electrophysiology", "Other"),
    ("Detector", "Type"): (
        "CCD", "IntensifiedCCD", "AnalogVideo", "PMT", "Photodiode", "Spectroscopy",
        "LifetimeImaging", "CorrelationSpectroscopy", "FTIR", "EMCCD", "APD", "CMOS", "EBCCD",
        "Other",
    ),
    ("Objective", "Immersion"): (
        "Oil", "Water", "WaterDipping", "Air", "Multi", "Glycerol", "Other",
    ),
    ("Objective", "Correction"): (
        "UV", "PlanApo", "PlanFluor", "SuperFluor", "VioletCorrected", "Achro", "Achromat",
        "Fluor", "Fl", "Fluar", "Neofluar", "Fluotar", "Apo", "PlanNeofluar", "Other",
    ),
    ("ObjectiveSettings", "Medium"): ("Air", "Oil", "Water", "Glycerol", "Other"),
    ("Channel", "IlluminationType"): (
        "Transmitted", "Epifluorescence", "Oblique", "NonLinear", "Other",
    ),
    ("Channel", "AcquisitionMode"): (
        "WideField", "LaserScanningConfocalMicroscopy", "SpinningDiskConfocal",
        "SlitScanConfocal", "MultiPhotonMicroscopy", "StructuredIllumination",
        "SingleMoleculeImaging", "TotalInternalReflection", "FluorescenceLifetime",
        "SpectralImaging", "FluorescenceCorrelationSpectroscopy",
        "NearFieldScanningOpticalMicroscopy",
        "SecondHarmonicGenerationImaging", "PALM", "STORM", "STED", "TIRF", "FSM", "LCM", "Other",
        "BrightField", "SweptFieldConfocal", "SPIM",
    ),
    ("Channel", "ContrastMethod"): (
        "Brightfield", "Phase", "DIC", "HoffmanModulation", "ObliqueIllumination",
        "PolarizedLight", "Darkfield", "Fluorescence", "Other",
    ),
    ("DetectorSettings", "Binning"): ("1x1", "2x2", "4x4", "8x8", "Other"),
}  # fmt: skip
"""The schema's words for the enumerated attributes the vendor mappings fill."""

POSITIVE = {
    "PhysicalSizeX", "PhysicalSizeY", "PhysicalSizeZ", "Wavelength", "ExcitationWavelength",
    "EmissionWavelength",
}  # fmt: skip
NUMBERS = POSITIVE | {
    "TimeIncrement", "LensNA", "NominalMagnification", "CalibratedMagnification",
    "WorkingDistance", "Power", "Zoom", "Gain", "Offset", "Voltage", "ReadOutRate",
    "Attenuation", "RefractiveIndex", "PinholeSize", "ExposureTime", "DeltaT",
}  # fmt: skip
"""Attributes that are numbers in the schema (``Attenuation`` a fraction from 0 to 1)."""

_ORDER = {
    "OME": ("Instrument", "Image"),
    "Instrument": (
        "Microscope", *LIGHT_SOURCES, "Detector", "Objective", "FilterSet", "Filter", "Dichroic",
    ),
    "Image": (
        "AcquisitionDate", "ExperimenterRef", "Description", "ExperimentRef",
        "ExperimenterGroupRef", "InstrumentRef", "ObjectiveSettings", "ImagingEnvironment",
        "StageLabel", "Pixels",
    ),
    "Pixels": ("Channel", "BinData", "TiffData", "MetadataOnly", "Plane"),
    "Channel": ("LightSourceSettings", "DetectorSettings", "FilterSetRef", "LightPath"),
}  # fmt: skip
"""Child order of each element, as the schema's sequences give it."""

_TARGETS = {
    "InstrumentRef": ("Instrument",),
    "ObjectiveSettings": ("Objective",),
    "DetectorSettings": ("Detector",),
    "LightSourceSettings": LIGHT_SOURCES,
}  # fmt: skip
"""Referring elements and the kinds of element their ``ID`` may name."""

PIXEL_TYPES = {
    "int8": "int8", "int16": "int16", "int32": "int32", "uint8": "uint8", "uint16": "uint16",
    "uint32": "uint32", "float32": "float", "float64": "double", "bool": "bit",
    "complex64": "complex", "complex128": "double-complex",
}  # fmt: skip
"""numpy dtype -> OME ``Pixels/@Type``."""


def fit_to_schema(ome: Element, series: list[Any]) -> None:
    """Rewrite ``ome`` (in place) into a schema-valid document with one ``Image`` per
    series: objects with ``source`` (index of the mapped ``Image``), ``name``, ``axes``,
    ``shape`` and ``dtype``."""
    for element in ome.iter():
        _clean_attributes(element)
    mapped = [child for child in ome if child.tag == "Image"]
    for image in mapped:
        ome.remove(image)
    for index, each in enumerate(series):
        ome.append(_series_image(mapped[each.source], index, each))
    _drop_dangling_references(ome)
    for element in ome.iter():
        order = _ORDER.get(element.tag)
        if order is not None:
            element[:] = sorted(element, key=lambda child: _rank(order, child.tag))


def _clean_attributes(element: Element) -> None:
    if "ID" in element.attrib:
        element.set("ID", re.sub(r"\s+", "_", element.get("ID", "").strip()) or "_")
    for name, value in list(element.attrib.items()):
        words = ENUMERATIONS.get((element.tag, name))
        if words is not None:
            element.set(name, _word(value, words))
        elif name in NUMBERS:
            number = _number(value)
            if number is not None and name in POSITIVE:
                number = number if number > 0 else None
            elif number is not None and name == "Attenuation":
                number = number if 0 <= number <= 1 else None
            if number is not None:  # as the vendor wrote it, where the schema reads it so
                element.set(name, value.strip() if _XSD_FLOAT.match(value) else repr(number))
            else:
                del element.attrib[name]


_XSD_FLOAT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def _word(value: str, words: tuple[str, ...]) -> str:
    """``value`` as the schema spells it (case and separators aside), else ``Other``."""
    key = re.sub(r"[\s_\-]", "", value).lower().replace(",", "x")
    for word in words:
        if word.lower() == key:
            return word
    return "Other"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _series_image(source: Element, index: int, series: Any) -> Element:
    """A copy of the mapped ``source`` Image for one series, renumbered, its ``Pixels`` the
    series' sizes and type."""
    image = copy.deepcopy(source)
    image.set("ID", f"Image:{index}")
    if series.name:
        image.set("Name", series.name)
    pixels = image.find("Pixels")
    if pixels is None:
        pixels = SubElement(image, "Pixels", DimensionOrder="XYCZT")
    pixels.set("ID", f"Pixels:{index}")
    sizes = dict(zip(series.axes, series.shape, strict=True))
    for axis in "XYZCT":
        pixels.set(f"Size{axis}", str(sizes.get(axis.lower(), 1)))
    pixels.set("Type", PIXEL_TYPES[np.dtype(series.dtype).name])
    channels = pixels.findall("Channel")
    for n, channel in enumerate(channels):
        channel.set("ID", f"Channel:{index}:{n}")
    if len(channels) == 1 and sizes.get("c", 1) > 1:  # RGB samples: one channel of three
        channels[0].set("SamplesPerPixel", str(sizes["c"]))
    for plane in pixels.findall("Plane"):
        inside = all(
            (_number(plane.get(f"The{axis}", "0")) or 0) < sizes.get(axis.lower(), 1)
            for axis in "ZCT"
        )
        if not inside:
            pixels.remove(plane)
    for old in pixels.findall("MetadataOnly") + pixels.findall("TiffData"):
        pixels.remove(old)
    SubElement(pixels, "MetadataOnly")
    return image


def _drop_dangling_references(ome: Element) -> None:
    """Remove references (``InstrumentRef``, ``*Settings``) to elements that do not exist."""
    defined = {(element.tag, element.get("ID")) for element in ome.iter() if element.get("ID")}
    for parent in list(ome.iter()):
        for child in list(parent):
            kinds = _TARGETS.get(child.tag)
            if kinds and not any((kind, child.get("ID")) in defined for kind in kinds):
                parent.remove(child)


def _rank(order: tuple[str, ...], tag: str) -> int:
    return order.index(tag) if tag in order else len(order)
