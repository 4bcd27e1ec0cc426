"""Reading a study metadata document: YAML, or the spreadsheet template filled in.

A workbook is a zip of XML parts: its declared uncompressed size and part count are checked
before openpyxl opens it (Python's zipfile never inflates a part beyond its declared size),
and only the template's columns and a bounded number of rows are read. openpyxl parses the
parts with defusedxml's iterparse and lxml without entity resolution (both installed), so
XML entity bombs and external entities are refused too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fairio_tools.errors import InputError
from fairio_tools.safe_yaml import load_yaml

SHEET = "metadata"
COLUMNS = ("section", "field", "tier", "description", "example", "value")
LIST_SEPARATOR = ";"
MAX_XLSX_BYTES = 32 * 1024 * 1024
"""Workbooks whose parts hold more than this uncompressed are refused unopened."""
MAX_XLSX_PARTS = 1000
"""Workbooks of more parts (zip members) than this are refused unopened."""
MAX_XLSX_ROWS = 5000
"""Metadata sheets of more rows than this are refused (the templates have under 100)."""


def load_document(path: Path) -> dict[str, Any]:
    """The metadata document in ``path`` as {section: {field: value}}."""
    path = Path(path)
    if path.is_file() and (path.suffix.lower() == ".xlsx" or _is_zip(path)):
        return _load_xlsx(path)
    data = load_yaml(path)  # also refuses what is missing or not a regular file
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


def _check_xlsx_size(path: Path) -> None:
    """Refuse a workbook that would inflate beyond the limits, before anything is inflated."""
    from zipfile import BadZipFile, ZipFile

    try:
        with ZipFile(path) as archive:
            parts = archive.infolist()
    except (BadZipFile, OSError, ValueError) as error:
        raise InputError(f"not a readable .xlsx workbook ({error})", path=path) from None
    if len(parts) > MAX_XLSX_PARTS:
        raise InputError(
            f"workbook of {len(parts)} parts, more than the limit of {MAX_XLSX_PARTS}", path=path
        )
    size = sum(part.file_size for part in parts)
    if size > MAX_XLSX_BYTES:
        raise InputError(
            f"workbook inflates to {size} bytes, more than the limit of {MAX_XLSX_BYTES}",
            path=path,
        )


def _load_xlsx(path: Path) -> dict[str, Any]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    _check_xlsx_size(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as error:
        raise _unreadable(path, error) from None
    try:
        if SHEET not in workbook.sheetnames:
            raise InputError(
                f"the workbook has no sheet named {SHEET!r}",
                path=path,
                hint="fill in the sheet of the template written by `fairio metadata-template`",
            )
        rows = _rows(workbook[SHEET], path)
    except (BadZipFile, KeyError, ValueError, OSError, SyntaxError) as error:
        raise _unreadable(path, error) from None  # the sheet's XML is parsed row by row
    finally:
        workbook.close()
    header = tuple(str(c or "").strip().lower() for c in (rows[0] if rows else ()))
    if header[: len(COLUMNS)] != COLUMNS:
        raise InputError(
            f"sheet {SHEET!r} must start with the columns {', '.join(COLUMNS)}", path=path
        )
    return _document(rows[1:])


def _unreadable(path: Path, error: Exception) -> InputError:
    """One line for what openpyxl (or defusedxml, behind its message) found wrong."""
    cause = error.__cause__ or error
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return InputError(f"not a readable .xlsx workbook ({reason})", path=path)


def _rows(sheet: Any, path: Path) -> list[tuple]:
    """The template's columns of every row of ``sheet``; too many rows are refused."""
    rows = []
    for row in sheet.iter_rows(max_col=len(COLUMNS), values_only=True):
        rows.append(row)
        if len(rows) > MAX_XLSX_ROWS:
            raise InputError(
                f"sheet {SHEET!r} has more than the limit of {MAX_XLSX_ROWS} rows", path=path
            )
    return rows


def _document(rows: list[tuple]) -> dict[str, Any]:
    from fairio_tools.metadata.model import load_model

    model = load_model()
    document: dict[str, Any] = {}
    for row in rows:
        row = (*row, *(None,) * len(COLUMNS))  # short rows read as empty cells
        section, name, value = row[0], row[1], row[5]
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
    return document
