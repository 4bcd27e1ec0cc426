"""QC reports as other packages read them back (``to-rdf``, ``bundle create``): which analysis
a JSON report holds, its key measurements, its parameters. Told by content, never by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ANALYSES = {
    "psf_beads": ("PSF from beads", "PSFBeadsKeyMeasurements"),
    "field_illumination": ("Field illumination", "FieldIlluminationKeyMeasurements"),
}
"""Kind -> (name, the microscope-metrics schema class of its key measurements)."""


@dataclass(frozen=True)
class Measurement:
    id: str
    value: float
    unit: str


def qc_kind(data: Any) -> str | None:
    """``"psf_beads"`` or ``"field_illumination"`` for a report of ``fairio qc``, else None."""
    if not isinstance(data, dict):
        return None
    if {"beads_found", "beads_measured", "fwhm_mean"} <= data.keys():
        return "psf_beads"
    if {"uniformity_percent", "centre_of_illumination_px"} <= data.keys():
        return "field_illumination"
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def key_measurements(data: dict[str, Any]) -> list[Measurement]:
    """The report's summary metrics (not per bead), each with its unit; malformed values are
    left out, so a crafted report yields fewer measurements, never an error."""
    kind = qc_kind(data)
    found: list[tuple[str, Any, str]] = []
    if kind == "psf_beads":
        units = data.get("units") if isinstance(data.get("units"), dict) else {}
        for count in ("beads_found", "beads_measured", "beads_rejected"):
            found.append((count, data.get(count), "1"))
        for statistic in ("fwhm_mean", "fwhm_median", "fwhm_sd"):
            values = data.get(statistic) if isinstance(data.get(statistic), dict) else {}
            for axis in ("x", "y", "z"):
                found.append((f"{statistic}_{axis}", values.get(axis), str(units.get(axis, ""))))
        found.append(
            ("lateral_asymmetry_ratio_mean", data.get("lateral_asymmetry_ratio_mean"), "1")
        )
        found.append(("ellipticity_mean", data.get("ellipticity_mean"), "1"))
    elif kind == "field_illumination":
        units = data.get("units") if isinstance(data.get("units"), dict) else {}
        for name in ("uniformity_percent", "field_uniformity_percent", "centring_accuracy_percent"):
            found.append((name, data.get(name), "percent"))
        found.append(("centre_distance", data.get("centre_distance_um"), str(units.get("x", ""))))
        corners = data.get("corner_ratios") if isinstance(data.get("corner_ratios"), dict) else {}
        for corner, value in corners.items():
            found.append((f"corner_ratio_{corner}", value, "1"))
    return [Measurement(i, v, u) for i, value, u in found if (v := _number(value)) is not None]


def parameters(data: dict[str, Any]) -> dict[str, str]:
    """The report's parameters as text (absent or malformed: none)."""
    given = data.get("parameters")
    if not isinstance(given, dict):
        return {}
    return {str(k): str(v) for k, v in given.items() if isinstance(v, str | int | float | bool)}
