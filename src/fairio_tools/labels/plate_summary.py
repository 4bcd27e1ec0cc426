"""Objects per well of an NGFF plate: every field of view labelled (threshold + connected
components, as ``fairio label``) and measured, then summed per well."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.errors import InputError
from fairio_tools.labels.threshold import label_by_threshold
from fairio_tools.ngff.reader import NgffImage, open_plate
from fairio_tools.ngff.store import reading

METRICS = ("objects", "objects_per_field", "mean_intensity")
"""Per-well values a heat-map can show."""


@dataclass
class FieldResult:
    """One labelled field of view."""

    path: str
    threshold: float | None
    method: str
    objects: int
    object_pixels: int
    intensity_sum: float


@dataclass
class WellResult:
    """The fields of one well, summed."""

    well: str
    row: str
    column: str
    fields: int
    objects: int
    object_pixels: int
    intensity_sum: float

    @property
    def objects_per_field(self) -> float:
        return self.objects / self.fields if self.fields else math.nan

    @property
    def mean_area(self) -> float:
        """Mean object size in pixels (NaN without objects)."""
        return self.object_pixels / self.objects if self.objects else math.nan

    @property
    def mean_intensity(self) -> float:
        """Mean intensity of the pixels inside objects (NaN without objects)."""
        return self.intensity_sum / self.object_pixels if self.object_pixels else math.nan

    def value(self, metric: str) -> float:
        return float(self.objects) if metric == "objects" else getattr(self, metric)


@dataclass
class PlateSummary:
    """Per-well results of a plate, in the plate's well order, and per-field details."""

    store: str
    name: str | None
    rows: list[str]
    columns: list[str]
    channel: int
    wells: list[WellResult]
    fields: list[FieldResult]
    notes: list[str] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        """One row per well: the TSV columns."""
        return [
            {
                "well": w.well,
                "row": w.row,
                "column": w.column,
                "fields": w.fields,
                "objects": w.objects,
                "objects_per_field": _rounded(w.objects_per_field),
                "mean_object_area_px": _rounded(w.mean_area),
                "mean_intensity": _rounded(w.mean_intensity),
            }
            for w in self.wells
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "plate": self.name,
            "channel": self.channel,
            "wells": self.table(),
            "fields": [asdict(f) for f in self.fields],
            "notes": self.notes,
        }


def summarize_plate(
    location: str,
    *,
    channel: int = 0,
    threshold: float | None = None,
    min_size: int = 0,
    connectivity: int = 1,
) -> PlateSummary:
    """Label every field of the plate at ``location`` (Otsu's threshold per field unless
    ``threshold`` is given) at full resolution, first time point, channel ``channel``."""
    plate = open_plate(location)
    summary = PlateSummary(location, plate.name, plate.rows, plate.columns, channel, [], [])
    for well in plate.wells:
        result = WellResult(well.path, well.row, well.column, len(well.fields), 0, 0, 0.0)
        for image in well.fields:
            data = _field_pixels(image, channel, location)
            measured = _measure(data, image.path, threshold, min_size, connectivity, summary)
            summary.fields.append(measured)
            result.objects += measured.objects
            result.object_pixels += measured.object_pixels
            result.intensity_sum += measured.intensity_sum
        summary.wells.append(result)
    return summary


def _field_pixels(image: NgffImage, channel: int, location: str) -> np.ndarray:
    """Level 0 of one field: channel ``channel`` of the first time point."""
    names = image.axis_names
    level = image.levels[0]
    index: list[Any] = []
    for axis, size in zip(names, level.shape, strict=True):
        if axis == "c":
            if not 0 <= channel < size:
                raise InputError(
                    f"field {image.path!r} has {size} channel(s); channel {channel} does not exist",
                    path=location,
                    field="--channel",
                )
            index.append(channel)
        elif axis == "t":
            index.append(0)
        else:
            index.append(slice(None))
    pixels = math.prod(s for s, i in zip(level.shape, index, strict=True) if isinstance(i, slice))
    # labelling holds about 9 bytes per pixel (see fairio label): bounded as 4 per pixel
    what = f"bytes of int32 labels of field {image.path!r} to compute in memory"
    limits.enforce("FAIRIO_MAX_DECODED_BYTES", pixels * 4, what, location)
    with reading(location):
        return np.asarray(level[tuple(index)])


def _measure(
    data: np.ndarray,
    path: str,
    threshold: float | None,
    min_size: int,
    connectivity: int,
    summary: PlateSummary,
) -> FieldResult:
    data = np.squeeze(data) if data.ndim > 2 else data
    if threshold is None and data.size and np.all(data == data.flat[0]):
        note = f"field {path}: constant image, Otsu's threshold is undefined: no objects"
        summary.notes.append(note)
        return FieldResult(path, None, "constant", 0, 0, 0.0)
    try:
        result = label_by_threshold(data, threshold, min_size=min_size, connectivity=connectivity)
    except InputError as error:
        raise InputError(
            f"field {path}: {error.message}", path=summary.store, field=error.field, hint=error.hint
        ) from None
    inside = result.labels > 0
    intensity = float(data[inside].astype(np.float64).sum())
    return FieldResult(
        path, result.threshold, result.method, result.count, int(inside.sum()), intensity
    )


def _rounded(value: float) -> float | str:
    """NaN as an empty cell; other values to 6 significant digits."""
    return "" if math.isnan(value) else float(f"{value:.6g}")
