"""PNG figures of QC reports, drawn with Pillow: illumination maps and profiles, PSF bead
galleries with their profiles and fits."""

from __future__ import annotations

import io

import numpy as np

from fairio_tools.qc.illumination import IlluminationReport
from fairio_tools.qc.psf import AXES, PsfReport
from fairio_tools.qc.trend import TrendRow

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
GALLERY_BEADS = 8
TILE = 96


def _font():
    from PIL import ImageFont

    return ImageFont.load_default()


def _plot(
    draw,
    box: tuple[int, int, int, int],
    lines: list[tuple[np.ndarray, np.ndarray, str, bool]],
    title: str,
    y_range: tuple[float, float] | None = None,
) -> None:
    """Axes in ``box`` with each (x, y, colour, as_points) line scaled into them."""
    left, top, right, bottom = box
    draw.rectangle(box, outline="#888888")
    draw.text((left + 4, top + 2), title, fill="black", font=_font())
    xs = np.concatenate([line[0] for line in lines])
    ys = np.concatenate([line[1] for line in lines])
    x0, x1 = float(xs.min()), float(xs.max()) or 1.0
    y0, y1 = y_range or (float(ys.min()), float(ys.max()))
    if x1 <= x0:
        x1 = x0 + 1.0
    if y1 <= y0:
        y1 = y0 + 1.0
    inner = (left + 6, top + 16, right - 6, bottom - 6)

    def to_px(x: float, y: float) -> tuple[float, float]:
        fx = inner[0] + (x - x0) / (x1 - x0) * (inner[2] - inner[0])
        fy = inner[3] - (y - y0) / (y1 - y0) * (inner[3] - inner[1])
        return fx, fy

    for x, y, colour, points in lines:
        coords = [to_px(float(a), float(b)) for a, b in zip(x, y, strict=True)]
        if points:
            for cx, cy in coords:
                draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), outline=colour)
        elif len(coords) > 1:
            draw.line(coords, fill=colour, width=2)


def _tile(values: np.ndarray, size: tuple[int, int]):
    from PIL import Image

    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    grey = Image.fromarray((scaled * 255).astype(np.uint8), mode="L")
    return grey.resize(size, Image.Resampling.NEAREST).convert("RGB")


def illumination_figure(report: IlluminationReport) -> bytes:
    """Normalised map with the centre of illumination (red) and image centre (blue), and the
    four intensity profiles."""
    from PIL import Image, ImageDraw

    width = 720
    side = 320
    figure = Image.new("RGB", (width, side + 40), "white")
    draw = ImageDraw.Draw(figure)
    smoothed_map = report.normalised
    assert smoothed_map is not None, "the report of measure_field_illumination has its map"
    ny, nx = smoothed_map.shape
    scale = side / max(ny, nx)
    size = (max(1, round(nx * scale)), max(1, round(ny * scale)))
    figure.paste(_tile(smoothed_map, size), (10, 30))
    draw.text(
        (10, 8),
        f"Field illumination: uniformity {report.uniformity_percent:.1f} %, "
        f"centring accuracy {report.centring_accuracy_percent:.1f} %",
        fill="black",
        font=_font(),
    )
    h, w = report.shape
    for point, colour in (
        (report.centre_of_illumination_px, "red"),
        ({"y": (h - 1) / 2, "x": (w - 1) / 2}, "blue"),
    ):
        cx = 10 + (point["x"] + 0.5) / w * size[0]
        cy = 30 + (point["y"] + 0.5) / h * size[1]
        draw.line((cx - 6, cy, cx + 6, cy), fill=colour, width=2)
        draw.line((cx, cy - 6, cx, cy + 6), fill=colour, width=2)
    lines = []
    for (name, values), colour in zip(report.profiles.items(), COLOURS, strict=False):
        t = np.linspace(0.0, 1.0, len(values))
        lines.append((t, np.asarray(values), colour, False))
        draw.text((350, 30 + 12 * len(lines)), name, fill=colour, font=_font())
    _plot(draw, (350, 90, width - 10, side + 30), lines, "normalised intensity", (0.0, 1.0))
    return _png(figure)


def psf_figure(report: PsfReport, stack: np.ndarray) -> bytes:
    """One row per measured bead (the first ``GALLERY_BEADS``): XY and XZ maximum projections
    of its box, then its x, y and z profiles (points) with the fitted curves (lines)."""
    from PIL import Image, ImageDraw

    beads = [b for b in report.beads if b.measured][:GALLERY_BEADS]
    row = TILE + 12
    figure = Image.new("RGB", (2 * TILE + 3 * 170 + 40, 30 + row * max(1, len(beads))), "white")
    draw = ImageDraw.Draw(figure)
    mean = report.fwhm_mean
    draw.text(
        (10, 8),
        "PSF beads: mean FWHM "
        + ", ".join(f"{a} {mean[a]:.3g} {_unit(report.units[a])}" for a in ("x", "y", "z"))
        + f" ({report.beads_measured} of {report.beads_found} beads)",
        fill="black",
        font=_font(),
    )
    for n, bead in enumerate(beads):
        top = 30 + n * row
        z, y, x = (round(bead.position_px[a]) for a in AXES)
        hz, hy, hx = (len(bead.profiles[a]) // 2 for a in AXES)
        box = stack[
            max(z - hz, 0) : z + hz + 1, max(y - hy, 0) : y + hy + 1, max(x - hx, 0) : x + hx + 1
        ]
        figure.paste(_tile(box.max(axis=0), (TILE, TILE)), (10, top))
        figure.paste(_tile(box.max(axis=1), (TILE, TILE)), (14 + TILE, top))
        draw.text((12, top + 2), f"#{bead.id}", fill="yellow", font=_font())
        for i, axis in enumerate(("x", "y", "z")):
            profile = np.asarray(bead.profiles[axis])
            samples = np.arange(profile.size, dtype=float)
            fine = np.linspace(0, profile.size - 1, 100)
            fit = bead.fits[axis]
            left = 30 + 2 * TILE + i * 170
            _plot(
                draw,
                (left, top, left + 160, top + TILE),
                [(samples, profile, COLOURS[0], True), (fine, fit.curve(fine), COLOURS[1], False)],
                f"{axis}: {bead.fwhm[axis]:.3g} {_unit(report.units[axis])} R2 {fit.r2:.3f}",
            )
    return _png(figure)


def _unit(unit: str) -> str:
    return "um" if unit == "micrometer" else "px"  # the default bitmap font has no µ


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.save(buffer, format="PNG")
    return buffer.getvalue()


def trend_figure(rows: list[TrendRow], tolerance_percent: float) -> bytes:
    """One panel per instrument and metric: the values against the acquisition date (blue,
    drift in red), the baseline (grey) and the tolerance band around it (light grey)."""
    from PIL import Image, ImageDraw

    panels: dict[tuple[str, str], list[TrendRow]] = {}
    for row in rows:
        panels.setdefault((row.point.instrument, row.point.metric), []).append(row)
    width, height, columns = 300, 180, 2
    size = (width * columns, height * max(1, -(-len(panels) // columns)))
    figure = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(figure)
    for index, ((instrument, metric), found) in enumerate(panels.items()):
        left, top = (index % columns) * width, (index // columns) * height
        start = found[0].point.when
        days = np.array([(r.point.when - start).total_seconds() / 86400 for r in found])
        values = np.array([r.point.value for r in found])
        base = found[0].baseline.value
        band = abs(base) * tolerance_percent / 100
        span = np.array([days.min(), days.max()])
        drift = [i for i, r in enumerate(found) if r.status == "drift"]
        lines = [
            (span, np.full(2, base - band), "#cccccc", False),
            (span, np.full(2, base + band), "#cccccc", False),
            (span, np.full(2, base), "#888888", False),
            (days, values, COLOURS[0], False),
            (days, values, COLOURS[0], True),
        ]
        if drift:
            lines.append((days[drift], values[drift], COLOURS[1], True))
        low, high = min(values.min(), base - band), max(values.max(), base + band)
        unit = {"micrometer": " um", "percent": " %"}.get(found[0].point.unit, "")
        title = f"{instrument}: {metric}, baseline {base:.4g}{unit}"
        box = (left + 4, top + 4, left + width - 4, top + height - 22)
        _plot(draw, box, lines, title, (low - 0.05 * (high - low), high + 0.05 * (high - low)))
        first, last = found[0].point.acquired[:10], found[-1].point.acquired[:10]
        draw.text((left + 8, top + height - 18), f"{first} .. {last}", fill="black", font=_font())
    return _png(figure)
