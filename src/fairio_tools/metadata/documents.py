"""Reading a study metadata document: YAML, or the spreadsheet template filled in."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fairio_tools.errors import InputError
from fairio_tools.safe_yaml import load_yaml

SHEET = "metadata"
COLUMNS = ("section", "field", "tier", "description", "example", "value")
LIST_SEPARATOR = ";"


def load_document(path: Path) -> dict[str, Any]:
    """The metadata document in ``path`` as {section: {field: value}}."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", path=path)
    if path.suffix.lower() == ".xlsx" or _is_zip(path):
        return _load_xlsx(path)
    data = load_yaml(path)
    if data is None:
        raise InputError("the file is empty", path=path, hint="fill in a metadata template")
    if not isinstance(data, dict):
        raise InputError(
            "not a metadata document (expected sections such as 'study:' at the top level)",
            path=path,
        )
    return data


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _load_xlsx(path: Path) -> dict[str, Any]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    from fairio_tools.metadata.model import load_model

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as error:
        raise InputError(f"not a readable .xlsx workbook ({error})", path=path) from None
    if SHEET not in workbook.sheetnames:
        raise InputError(
            f"the workbook has no sheet named {SHEET!r}",
            path=path,
            hint="fill in the sheet of the template written by `fairio metadata-template`",
        )
    rows = workbook[SHEET].iter_rows(values_only=True)
    header = tuple(str(c or "").strip().lower() for c in next(rows, ()))
    if header[: len(COLUMNS)] != COLUMNS:
        raise InputError(
            f"sheet {SHEET!r} must start with the columns {', '.join(COLUMNS)}", path=path
        )
    model = load_model()
    document: dict[str, Any] = {}
    for row in rows:
        section, name, value = row[0], row[1], row[5] if len(row) > 5 else None
        if not section or not name or value is None or value == "":
            continue
        section, name = str(section).strip(), str(name).strip()
        multiple = any(
            f.multiple for s in model.sections if s.name == section for f in s.fields
            if f.name == name
        )  # fmt: skip
        if isinstance(value, datetime):
            value = value.date() if value.time() == datetime.min.time() else value
        if isinstance(value, str) and multiple:
            value = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
        elif isinstance(value, str):
            value = value.strip()
        document.setdefault(section, {})[name] = value
    workbook.close()
    return document


def document_text(value: Any) -> str:
    """A value as one spreadsheet cell."""
    if isinstance(value, list):
        return f"{LIST_SEPARATOR} ".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
