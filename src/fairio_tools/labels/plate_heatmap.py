"""A plate heat-map (PNG, drawn with Pillow): one cell per well, coloured by a per-well value,
rows and columns named as in the plate, wells without fields grey."""

from __future__ import annotations

import io
import math

import numpy as np

from fairio_tools.labels.plate_summary import PlateSummary

CELL = 36
"""Side of a well's cell in pixels, smaller for plates of more than 50 rows or columns."""
MAX_SIDE = 1800
MARGIN = 40
EMPTY = (220, 220, 220)
VIRIDIS = np.array(
    [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)], dtype=float
)
"""Anchors of matplotlib's viridis (perceptually uniform, readable when printed grey)."""


def colour(fraction: float) -> tuple[int, int, int]:
    """The viridis colour of ``fraction`` (0 to 1), interpolated between the anchors."""
    position = min(max(fraction, 0.0), 1.0) * (len(VIRIDIS) - 1)
    low = min(int(position), len(VIRIDIS) - 2)
    mixed = VIRIDIS[low] + (VIRIDIS[low + 1] - VIRIDIS[low]) * (position - low)
    return tuple(round(c) for c in mixed)  # type: ignore[return-value]


def heatmap_png(summary: PlateSummary, metric: str) -> bytes:
    """The heat-map of ``metric`` (one of ``plate_summary.METRICS``) over the plate."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    cell = max(2, min(CELL, MAX_SIDE // max(len(summary.rows), len(summary.columns), 1)))
    values = {w.well: w.value(metric) for w in summary.wells if w.fields}
    finite = [v for v in values.values() if not math.isnan(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    width = MARGIN + cell * max(len(summary.columns), 1) + 80
    height = MARGIN + cell * max(len(summary.rows), 1) + 20
    figure = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(figure)
    title = f"{summary.name or 'plate'}: {metric} (channel {summary.channel})"
    draw.text((4, 4), title, fill="black", font=font)
    if cell >= 18:  # names fit beside the cells
        for index, name in enumerate(summary.columns):
            draw.text((MARGIN + cell * index + 4, MARGIN - 14), name, fill="black", font=font)
        for index, name in enumerate(summary.rows):
            where = (MARGIN - 24, MARGIN + cell * index + cell // 3)
            draw.text(where, name, fill="black", font=font)
    for row_index, row in enumerate(summary.rows):
        for column_index, column in enumerate(summary.columns):
            value = values.get(f"{row}/{column}", math.nan)
            if math.isnan(value):
                fill = EMPTY
            else:
                fill = colour((value - low) / (high - low) if high > low else 0.5)
            left, top = MARGIN + cell * column_index, MARGIN + cell * row_index
            draw.rectangle((left, top, left + cell - 2, top + cell - 2), fill=fill)
    bar_left = MARGIN + cell * max(len(summary.columns), 1) + 16
    bar_height = cell * max(len(summary.rows), 1)
    for step in range(bar_height):
        fill = colour(1 - step / max(bar_height - 1, 1))
        draw.line((bar_left, MARGIN + step, bar_left + 12, MARGIN + step), fill=fill)
    draw.text((bar_left + 16, MARGIN - 4), f"{high:.4g}", fill="black", font=font)
    draw.text((bar_left + 16, MARGIN + bar_height - 10), f"{low:.4g}", fill="black", font=font)
    buffer = io.BytesIO()
    figure.save(buffer, format="PNG")
    return buffer.getvalue()
