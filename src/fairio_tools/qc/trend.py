"""An instrument's QC over time: the key metrics of ``fairio qc`` reports against their date,
each compared with a baseline (by default the earliest report, as at installation).

Reports are grouped by instrument and analysis; a metric whose change from the baseline exceeds
the tolerance is flagged, the white paper's "performance changes over time" as a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fairio_tools.errors import InputError
from fairio_tools.qc.records import ANALYSES, key_measurements, qc_kind

TREND_METRICS = {
    "psf_beads": ("fwhm_median_x", "fwhm_median_y", "fwhm_median_z", "beads_measured"),
    "field_illumination": (
        "uniformity_percent",
        "field_uniformity_percent",
        "centring_accuracy_percent",
    ),
}
"""Per analysis, the metrics followed over time (ids of ``records.key_measurements``)."""

DEFAULT_TOLERANCE_PERCENT = 10.0

HEADER = [
    "instrument", "analysis", "metric", "unit", "acquired", "value", "baseline_acquired",
    "baseline", "change_percent", "status", "report",
]  # fmt: skip


@dataclass(frozen=True)
class Point:
    """One metric of one report."""

    instrument: str
    analysis: str
    metric: str
    unit: str
    acquired: str
    when: datetime
    value: float
    report: str


@dataclass(frozen=True)
class TrendRow:
    point: Point
    baseline: Point
    change_percent: float | None
    status: str

    def cells(self) -> list[Any]:
        p, b = self.point, self.baseline
        change = None if self.change_percent is None else round(self.change_percent, 3)
        return [
            p.instrument, ANALYSES[p.analysis][0], p.metric, p.unit, p.acquired, p.value,
            b.acquired, b.value, change, self.status, p.report,
        ]  # fmt: skip


def parse_date(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware datetime (naive values taken as UTC)."""
    when = datetime.fromisoformat(text.strip())
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def report_points(data: Any, name: str, path: Path) -> list[Point]:
    """The followed metrics of one report; InputError naming ``path`` when it is not a QC
    report or has no usable acquisition date."""
    kind = qc_kind(data)
    if kind is None:
        raise InputError(
            "is not a report of fairio qc field-illumination or psf-beads",
            path=path,
            hint="give the JSON reports of the QC tools",
        )
    acquired = data.get("acquired")
    if not isinstance(acquired, str) or not acquired.strip():
        raise InputError(
            "has no acquisition date",
            path=path,
            hint="measure the image again with --acquired DATE (or an image that records one)",
        )
    try:
        when = parse_date(acquired)
    except ValueError:
        raise InputError(
            f"acquisition date {acquired[:40]!r} is not an ISO 8601 date", path=path
        ) from None
    instrument = data.get("instrument")
    instrument = instrument if isinstance(instrument, str) and instrument else "(unnamed)"
    wanted = TREND_METRICS[kind]
    return [
        Point(instrument, kind, m.id, m.unit, acquired.strip(), when, m.value, name)
        for m in key_measurements(data)
        if m.id in wanted and math.isfinite(m.value)
    ]


def trend(
    points: list[Point],
    baseline_date: str | None = None,
    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT,
) -> list[TrendRow]:
    """Every point against the baseline of its instrument, analysis and metric: the point
    acquired on ``baseline_date`` (a date matches any time that day), else the earliest."""
    wanted = parse_date(baseline_date) if baseline_date else None
    series: dict[tuple[str, str, str], list[Point]] = {}
    for point in sorted(points, key=lambda p: (p.when, p.report)):
        series.setdefault((point.instrument, point.analysis, point.metric), []).append(point)
    rows: list[TrendRow] = []
    for key, found in series.items():
        baseline = found[0]
        if wanted is not None:
            same = [p for p in found if _matches(p, wanted, baseline_date or "")]
            if not same:
                raise InputError(
                    f"no report of {key[0]} ({ANALYSES[key[1]][0]}) was acquired on "
                    f"{baseline_date}",
                    hint="give --baseline-date as the date of one of the reports",
                )
            baseline = same[0]
        for point in found:
            change = (
                (point.value - baseline.value) / abs(baseline.value) * 100
                if baseline.value
                else None
            )
            if point is baseline:
                status = "baseline"
            elif change is None:
                status = "no baseline value"
            else:
                status = "drift" if abs(change) > tolerance_percent else "ok"
            rows.append(TrendRow(point, baseline, change, status))
    return rows


def _matches(point: Point, wanted: datetime, text: str) -> bool:
    if "T" in text or " " in text.strip():
        return point.when == wanted
    return point.when.date() == wanted.date() or point.acquired.startswith(text.strip())
