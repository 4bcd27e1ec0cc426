"""Coordinate transformations of multiscales and datasets."""

from __future__ import annotations

import math
from typing import Any


class TransformationChecks:
    """Scale and translation of datasets and multiscales."""

    def transformations(self, value: Any, n_axes: int | None, file: str, pointer: str) -> None:
        if not isinstance(value, list):
            return
        pointer = f"{pointer}/coordinateTransformations"
        kinds = [t.get("type") if isinstance(t, dict) else None for t in value]
        if (
            "translation" in kinds
            and "scale" in kinds
            and (kinds.index("translation") < kinds.index("scale"))
        ):
            self.error(
                "transformation-order",
                "'translation' is listed before 'scale'; it MUST come after",
                file,
                pointer,
                "list the scale first, then the translation",
            )
        for index, transform in enumerate(value):
            kind = kinds[index]
            values = transform.get(kind) if kind in ("scale", "translation") else None
            if not isinstance(values, list):
                continue
            where = f"{pointer}/{index}/{kind}"
            if n_axes is not None and len(values) != n_axes:
                self.error(
                    f"{kind}-length",
                    f"{kind} has {len(values)} values for {n_axes} axes",
                    file,
                    where,
                    f"give exactly one {kind} value per axis, in axis order",
                )
            numbers = [
                (i, v) for i, v in enumerate(values) if isinstance(v, int | float)
                and not isinstance(v, bool)
            ]  # fmt: skip
            infinite = [(i, v) for i, v in numbers if not _finite(v)]
            if infinite:
                self.error(
                    f"{kind}-not-finite",
                    f"{kind} values {[v for _, v in infinite]} are not finite numbers",
                    file,
                    f"{where}/{infinite[0][0]}",
                    f"write the {kind} as finite numbers",
                )
            bad = [(i, v) for i, v in numbers if kind == "scale" and _finite(v) and v <= 0]
            if bad:
                self.error(
                    "scale-not-positive",
                    f"scale values {[v for _, v in bad]} are zero or negative",
                    file,
                    f"{where}/{bad[0][0]}",
                    "a scale is a pixel size (or a time step): use a positive number",
                )


def _finite(value: float) -> bool:
    """Whether ``value`` is a finite number a float can hold (``10**400`` is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
