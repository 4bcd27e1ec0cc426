"""QC reports as tables (TSV rows) and as a short, self-contained HTML page."""

from __future__ import annotations

import base64
import html
from typing import Any

from fairio_tools.qc.definitions import ILLUMINATION, PSF, SOURCES
from fairio_tools.qc.illumination import IlluminationReport
from fairio_tools.qc.psf import AXES, PsfReport

PSF_HEADER = [
    "bead",
    "measured",
    "rejected_because",
    "z_px",
    "y_px",
    "x_px",
    "fwhm_x",
    "fwhm_y",
    "fwhm_z",
    "unit_x",
    "unit_y",
    "unit_z",
    "r2_x",
    "r2_y",
    "r2_z",
    "model_x",
    "model_y",
    "model_z",
    "lateral_asymmetry_ratio",
    "ellipticity",
    "signal_to_background",
]
ILLUMINATION_HEADER = ["metric", "value", "unit"]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def psf_rows(report: PsfReport) -> list[list[Any]]:
    rows = []
    for bead in report.beads:
        rows.append(
            [bead.id, "yes" if bead.measured else "no", bead.rejected_because or ""]
            + [_number(bead.position_px[a]) for a in AXES]
            + [_number(bead.fwhm.get(a)) for a in ("x", "y", "z")]
            + [report.units[a] for a in ("x", "y", "z")]
            + [_number(bead.r2.get(a)) for a in ("x", "y", "z")]
            + [bead.fit_model.get(a, "") for a in ("x", "y", "z")]
            + [
                _number(bead.lateral_asymmetry_ratio),
                _number(bead.ellipticity),
                _number(bead.signal_to_background),
            ]
        )
    return rows


def illumination_rows(report: IlluminationReport) -> list[list[Any]]:
    unit = report.units["x"] if report.units["x"] == report.units["y"] else "mixed"
    rows: list[list[Any]] = [
        ["uniformity", _number(report.uniformity_percent), "percent"],
        ["field_uniformity", _number(report.field_uniformity_percent), "percent"],
        ["coefficient_of_variation", _number(report.coefficient_of_variation), "1"],
        ["centring_accuracy", _number(report.centring_accuracy_percent), "percent"],
        ["centre_of_illumination_x", _number(report.centre_of_illumination_px["x"]), "pixel"],
        ["centre_of_illumination_y", _number(report.centre_of_illumination_px["y"]), "pixel"],
        ["centre_offset_x", _number(report.centre_offset_um["x"]), unit],
        ["centre_offset_y", _number(report.centre_offset_um["y"]), unit],
        ["centre_distance", _number(report.centre_distance_um), unit],
        ["max_intensity", _number(report.max_intensity), "intensity"],
        ["min_intensity", _number(report.min_intensity), "intensity"],
        ["saturated_fraction", _number(report.saturated_fraction), "1"],
    ]
    rows += [[f"corner_ratio_{k}", _number(v), "1"] for k, v in report.corner_ratios.items()]
    rows += [[f"edge_ratio_{k}", _number(v), "1"] for k, v in report.edge_ratios.items()]
    return rows


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _page(
    title: str,
    image: str,
    summary: list[tuple[str, str]],
    definitions: dict[str, str],
    notes: list[str],
    figure: bytes | None,
) -> str:
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:1em auto}"
        "th{text-align:left;padding-right:1em}td,th{border-bottom:1px solid #ddd}</style>",
        f"</head><body><h1>{html.escape(title)}</h1>",
        f"<p>Image: <code>{html.escape(image)}</code></p>",
        _table(summary),
    ]
    if figure is not None:
        encoded = base64.b64encode(figure).decode("ascii")
        parts.append(f"<p><img alt='figure' src='data:image/png;base64,{encoded}'></p>")
    if notes:
        parts.append("<h2>Notes</h2><ul>")
        parts += [f"<li>{html.escape(n)}</li>" for n in notes]
        parts.append("</ul>")
    parts.append("<h2>Definitions</h2>")
    parts.append(_table(list(definitions.items())))
    parts.append("<h2>Protocols</h2><ul>")
    parts += [f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in SOURCES.items()]
    parts.append("</ul></body></html>\n")
    return "\n".join(parts)


def psf_html(report: PsfReport, figure: bytes | None) -> str:
    unit = {a: "µm" if report.units[a] == "micrometer" else "px" for a in AXES}
    summary = [
        (
            "beads found / measured / rejected",
            f"{report.beads_found} / {report.beads_measured} / {report.beads_rejected}",
        ),
        *(
            (
                f"FWHM {a} (mean ± sd, median)",
                f"{report.fwhm_mean[a]:.4g} ± {report.fwhm_sd[a]:.2g}, {report.fwhm_median[a]:.4g} "
                f"{unit[a]}",
            )
            for a in ("x", "y", "z")
        ),
        ("lateral asymmetry ratio (mean)", f"{report.lateral_asymmetry_ratio_mean:.3f}"),
        ("ellipticity (mean)", f"{report.ellipticity_mean:.3f}"),
        *((f"rejected: {k}", str(v)) for k, v in report.rejections.items()),
    ]
    if report.theoretical_fwhm:
        summary += [
            (f"theoretical FWHM {a}", f"{v:.4g} µm") for a, v in report.theoretical_fwhm.items()
        ]
    return _page("PSF from beads", report.image, summary, PSF, report.notes, figure)


def illumination_html(report: IlluminationReport, figure: bytes | None) -> str:
    c = report.centre_of_illumination_px
    summary = [
        ("uniformity", f"{report.uniformity_percent:.2f} %"),
        ("field uniformity", f"{report.field_uniformity_percent:.2f} %"),
        ("centring accuracy", f"{report.centring_accuracy_percent:.2f} %"),
        ("centre of illumination (x, y)", f"{c['x']:.1f}, {c['y']:.1f} px"),
        (
            "distance to the image centre",
            f"{report.centre_distance_um:.4g} "
            f"{'µm' if report.units['x'] == 'micrometer' else 'px'}",
        ),
        *((f"corner ratio {k}", f"{v:.3f}") for k, v in report.corner_ratios.items()),
    ]
    return _page("Field illumination", report.image, summary, ILLUMINATION, report.notes, figure)
