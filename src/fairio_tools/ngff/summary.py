"""One table over many NGFF validation reports (the JSON that ``fairio validate-ngff`` writes).

What a facility checks after converting a batch: which images are valid, in which NGFF
version, and for the others the first problems, one row per image.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fairio_tools.errors import InputError
from fairio_tools.names import safe_name
from fairio_tools.safe_json import load_json

COLUMNS = [
    "image", "valid", "ngff_version", "zarr_format", "kind", "errors", "warnings", "problems",
]  # fmt: skip
_PROBLEMS_LISTED = 3

MAX_REPORT_BYTES = 64 * 1024**2
"""Validation reports larger than this are refused unread (validate-ngff writes far less: it
lists at most 100 findings of a code)."""


@dataclass
class SummaryRow:
    """One image's verdict."""

    image: str
    valid: bool
    ngff_version: str
    zarr_format: str
    kind: str
    errors: int
    warnings: int
    problems: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def cells(self) -> list[Any]:
        return [str(v).lower() if isinstance(v, bool) else v for v in asdict(self).values()]


def summarize_reports(reports: list[tuple[str, Path]]) -> list[SummaryRow]:
    """A row per (image name, report path), the name made safe for a table cell and a file
    name (see :func:`fairio_tools.names.safe_name`); InputError if a report is not a
    validation report."""
    return [_row(name, path) for name, path in reports]


def _row(name: str, path: Path) -> SummaryRow:
    if not path.exists():
        raise InputError("report does not exist", path=path)
    if not path.is_file():
        raise InputError("report is not a regular file", path=path)
    size = path.stat().st_size
    if size > MAX_REPORT_BYTES:
        raise InputError(f"report of {size:,} bytes is larger than {MAX_REPORT_BYTES:,}", path=path)
    report = load_json(path, MAX_REPORT_BYTES)
    try:
        valid, findings = report["valid"], report.get("findings", [])
        errors = [f for f in findings if f.get("severity") == "error"]
        problems = "; ".join(
            f"{f.get('code', '?')}: {f.get('message', '')}" for f in errors[:_PROBLEMS_LISTED]
        )
        if len(errors) > _PROBLEMS_LISTED:
            problems += f"; and {len(errors) - _PROBLEMS_LISTED} more"
        return SummaryRow(
            image=safe_name(name, path.name),
            valid=bool(valid),
            ngff_version=str(report.get("ngff_version", "")),
            zarr_format=str(report.get("zarr_format", "")),
            kind=str(report.get("kind", "")),
            errors=int(report.get("errors", len(errors))),
            warnings=int(report.get("warnings", 0)),
            problems=problems.replace("\t", " ").replace("\n", " "),
        )
    except (
        UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, OverflowError,
        RecursionError,
    ):  # fmt: skip
        raise InputError(
            "not an NGFF validation report", path=path, hint="give the JSON of fairio validate-ngff"
        ) from None
