"""Where a store is written: a local folder or an fsspec URL (``s3://...``), atomically.

A store is written into a hidden sibling and moved into place only when complete, so a
failure never leaves anything that could be taken for a valid store.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fairio_tools.errors import OutputError


def is_url(target: str | Path) -> bool:
    """Whether ``target`` names a remote location (``scheme://``) rather than a local path."""
    return "://" in str(target) and not str(target).startswith("file://")


def filesystem(target: str | Path) -> tuple[Any, str]:
    """The fsspec filesystem of ``target`` and the path on it."""
    import fsspec

    return fsspec.core.url_to_fs(str(target))


@contextmanager
def atomic_output(target: str | Path, overwrite: bool) -> Iterator[str]:
    """Yield a temporary sibling of ``target`` to write into; move it into place on success.

    Raises OutputError when ``target`` exists and ``overwrite`` is false, or when the
    parent folder is missing. On any exception the temporary store is removed.
    """
    fs, path = filesystem(target)
    path = path.rstrip("/")
    if fs.exists(path) and not overwrite:
        raise OutputError("already exists", path=target, hint="use --overwrite to replace it")
    parent, _, name = path.rpartition("/")
    if not is_url(target) and not Path(parent or ".").is_dir():
        raise OutputError("the folder to write into does not exist", path=parent or ".")
    temporary = f"{parent}/.{name}.partial-{uuid.uuid4().hex[:8]}" if parent else f".{name}.tmp"
    try:
        yield _location(target, fs, temporary)
        _replace(fs, temporary, path)
    except BaseException:
        if fs.exists(temporary):
            fs.rm(temporary, recursive=True)
        raise


def _location(target: str | Path, fs: Any, path: str) -> str:
    if is_url(target):
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        return f"{protocol}://{path}"
    return path


def _replace(fs: Any, temporary: str, path: str) -> None:
    """Move the finished store into place, replacing an old one only after it is complete."""
    fs.invalidate_cache()  # the store was written through zarr: listings cached here are stale
    if not fs.exists(path):
        _move(fs, temporary, path)
        return
    old = f"{path}.old-{uuid.uuid4().hex[:8]}"
    _move(fs, path, old)
    _move(fs, temporary, path)
    fs.rm(old, recursive=True)


def _move(fs: Any, source: str, target: str) -> None:
    """Rename on a file system; copy then delete, key by key, on object stores."""
    if "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
        fs.mv(source, target, recursive=True)
        return
    keys = fs.find(source)  # objects only: prefixes are not keys and cannot be copied
    fs.copy(keys, [target + key[len(source) :] for key in keys])
    fs.rm(source, recursive=True)
