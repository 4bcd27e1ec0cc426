"""Readable, safe names for what a command writes, from names users gave their data
(e.g. a Galaxy dataset's name): one folder or file name, never a path."""

from __future__ import annotations

import re
from pathlib import Path

_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_name(text: str, default: str) -> str:
    """``text`` as one file name: runs of characters other than letters, digits, '.', '_'
    and '-' become '_', leading dots go (no hidden files, no '..'); ``default`` if empty."""
    name = _UNSAFE.sub("_", text).lstrip(".")
    return name or default


def store_name(store: Path, given: str | None) -> str:
    """The name of a copy of ``store``: its own folder name when that is a Zarr name
    (``*.zarr``), else ``given`` made safe (e.g. for a store filling a Galaxy dataset's
    folder, ``dataset_42_files``), with ``.zarr`` added when it has no such suffix."""
    own = store.resolve().name
    if own.lower().endswith(".zarr") or not given:
        return own
    name = safe_name(given, "image.zarr")
    return name if name.lower().endswith(".zarr") else f"{name}.zarr"


_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,5}$")


def file_name(given: str, extension: str, default: str) -> str:
    """``given`` made safe, with ``.extension`` added unless it ends in a file suffix of its
    own (``results.csv`` stays; ``cells.tif: report`` becomes ``cells.tif_report.json``)."""
    name = safe_name(given, default)
    extension = safe_name(extension, "").strip("._")
    if extension and not _SUFFIX.search(name):
        name = f"{name}.{extension}"
    return name
