"""NGFF axis names, types and units, and their spellings in other formats."""

from __future__ import annotations

AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
"""The NGFF axis names fairio-tools writes, with their NGFF axis type."""

NGFF_ORDER = "tczyx"
"""NGFF order of axes: time, channel, then space (z, y, x)."""

SPACE_UNITS = {
    "angstrom", "attometer", "centimeter", "decimeter", "exameter", "femtometer", "foot",
    "gigameter", "hectometer", "inch", "kilometer", "megameter", "meter", "micrometer",
    "mile", "millimeter", "nanometer", "parsec", "petameter", "picometer", "terameter",
    "yard", "yoctometer", "yottameter", "zeptometer", "zettameter",
}  # fmt: skip
TIME_UNITS = {
    "attosecond", "centisecond", "day", "decisecond", "exasecond", "femtosecond",
    "gigasecond", "hectosecond", "hour", "kilosecond", "megasecond", "microsecond",
    "millisecond", "minute", "nanosecond", "petasecond", "picosecond", "second",
    "terasecond", "yoctosecond", "yottasecond", "zeptosecond", "zettasecond",
}  # fmt: skip

_UNIT_ALIASES = {
    "µm": "micrometer", "μm": "micrometer", "um": "micrometer", "micron": "micrometer",
    "microns": "micrometer", "nm": "nanometer", "mm": "millimeter", "cm": "centimeter",
    "m": "meter", "pm": "picometer", "å": "angstrom", "Å": "angstrom", "in": "inch",
    "s": "second", "sec": "second", "ms": "millisecond", "µs": "microsecond",
    "μs": "microsecond", "us": "microsecond", "ns": "nanosecond", "min": "minute",
    "h": "hour", "hr": "hour", "d": "day",
}  # fmt: skip


def ngff_unit(unit: str | None) -> str | None:
    """Return the NGFF (UDUNITS-2) name of a unit spelled as OME, ImageJ or TIFF do.

    Returns None for an empty or unknown unit (ImageJ writes "pixel" for uncalibrated).
    """
    if not unit:
        return None
    text = unit.strip()
    if text in SPACE_UNITS or text in TIME_UNITS:
        return text
    alias = _UNIT_ALIASES.get(text) or _UNIT_ALIASES.get(text.lower())
    if alias:
        return alias
    lowered = text.lower()
    return lowered if lowered in SPACE_UNITS or lowered in TIME_UNITS else None


_OME_SYMBOLS = {
    "angstrom": "Å", "attometer": "am", "centimeter": "cm", "decimeter": "dm",
    "femtometer": "fm", "foot": "ft", "inch": "in", "kilometer": "km", "meter": "m",
    "micrometer": "µm", "mile": "mi", "millimeter": "mm", "nanometer": "nm", "parsec": "pc",
    "picometer": "pm", "yard": "yd", "second": "s", "millisecond": "ms", "microsecond": "µs",
    "nanosecond": "ns", "picosecond": "ps", "minute": "min", "hour": "h", "day": "d",
}  # fmt: skip


def ome_unit(unit: str | None) -> str | None:
    """The OME-XML unit symbol of an NGFF unit name (None when OME has no symbol for it)."""
    return _OME_SYMBOLS.get(unit or "")


_METRES = {
    "angstrom": 1e-10, "picometer": 1e-12, "nanometer": 1e-9, "micrometer": 1e-6,
    "millimeter": 1e-3, "centimeter": 1e-2, "decimeter": 1e-1, "meter": 1.0,
}  # fmt: skip


def micrometres(value: float, unit: str | None) -> float | None:
    """``value`` (a length in the NGFF ``unit``) in micrometres; None for other units."""
    factor = _METRES.get(unit or "")
    return None if factor is None else value * factor / 1e-6
