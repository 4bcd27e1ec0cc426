"""Reading files inside a folder a user gave (an OME-Zarr store, a catalogue) without leaving it.

Every path taken from inside such a folder is checked before use: it may not be absolute,
climb out with ``..``, or resolve (through symlinks) to anything outside the folder; what it
names must be a regular file (not a device, FIFO, socket or directory) and not larger than the
reader's limit. Symlinks that stay inside the folder are followed.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from fairio_tools.errors import InputError


class ConfinementError(InputError):
    """A path inside a user's folder leads outside it, or to something that is not a file."""


def unsafe_path_reason(rel: str) -> str | None:
    """Why a relative path taken from inside a folder may not be followed, or None."""
    if not isinstance(rel, str) or not rel:
        return "is empty"
    if rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":"):
        return "is absolute"
    if "\\" in rel:
        return "contains a backslash"
    if "\x00" in rel:
        return "contains a NUL character"
    parts = rel.split("/")
    if ".." in parts:
        return "climbs out with '..'"
    if any(p in ("", ".") for p in parts):
        return "has an empty or '.' component"
    return None


@functools.lru_cache(maxsize=65536)
def _real_folder(path: str) -> str:
    """``os.path.realpath`` of a folder, remembered: a store's chunks share few folders, and
    resolving every component of every chunk's path again cost more than reading it."""
    return os.path.realpath(path)


def resolve_inside(root: str | Path, rel: str) -> str:
    """The real path of ``rel`` below ``root``; raise :class:`ConfinementError` if it leaves it.

    ``rel`` may name something that does not exist (yet); only existing links are resolved.
    Folders are resolved once per process (inputs do not change while a command runs; a
    file replaced by a link meanwhile is refused when it is opened, see :func:`open_inside`).
    """
    if rel:
        reason = unsafe_path_reason(rel)
        if reason:
            raise ConfinementError(f"path {rel!r} {reason}", path=root)
    real_root = _real_folder(os.fspath(root))
    if not rel:
        return real_root
    parent, _, name = rel.rpartition("/")
    target = os.path.join(
        _real_folder(os.path.join(real_root, parent)) if parent else real_root, name
    )
    if os.path.islink(target):
        target = os.path.realpath(target)
    if target != real_root and not target.startswith(real_root.rstrip(os.sep) + os.sep):
        raise ConfinementError(f"{rel!r} is a link that leads outside", path=root)
    return target


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def open_inside(root: str | Path, rel: str) -> BinaryIO | None:
    """The regular file ``rel`` below ``root`` opened for reading, or None where nothing is
    there; raises :class:`ConfinementError` when it leads outside ``root`` or names a
    directory, device, FIFO or socket (which are never opened for reading)."""
    real = resolve_inside(root, rel)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except (FileNotFoundError, NotADirectoryError):  # "a/b" where "a" is a file: not there
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:  # replaced by a link after it was resolved
            raise ConfinementError(f"{rel!r} changed while being read", path=root) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # checked before fdopen, which refuses folders itself
        os.close(fd)
        raise ConfinementError(f"{rel!r} is {_kind(mode)}, not a file", path=root)
    return os.fdopen(fd, "rb")


def read_inside(root: str | Path, rel: str, limit: int | None) -> bytes | None:
    """The bytes of the regular file ``rel`` below ``root``, or None where nothing is there.

    Raises :class:`ConfinementError` as :func:`open_inside` does, or when the file holds more
    than ``limit`` bytes.
    """
    stream = open_inside(root, rel)
    if stream is None:
        return None
    with stream:
        size = os.fstat(stream.fileno()).st_size
        if limit is not None and size > limit:
            raise ConfinementError(
                f"{rel!r} holds {size} bytes, more than the limit of {limit}", path=root
            )
        expected = size if limit is None else min(size, limit)
        data = stream.read(expected + 1)  # sized by the file, not the limit: no huge buffers
        while len(data) <= expected and (more := stream.read(expected + 1 - len(data))):
            data += more
    if len(data) > expected:
        raise ConfinementError(f"{rel!r} grew while being read", path=root)
    return data


def kind_inside(root: str | Path, rel: str) -> str | None:
    """``"file"``, ``"dir"`` or None (missing) for ``rel`` below ``root``.

    Raises :class:`ConfinementError` when it leads outside ``root`` or is neither.
    """
    real = resolve_inside(root, rel)
    try:
        mode = os.stat(real).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    raise ConfinementError(f"{rel!r} is {_kind(mode)}", path=root)


def files_inside(root: str | Path) -> Iterator[tuple[str, str]]:
    """Every regular file below the folder ``root``: (relative path, real path), sorted.

    Links to files are followed where they stay inside ``root``; links out, links to folders,
    devices, FIFOs and sockets raise :class:`ConfinementError`.
    """
    real_root = resolve_inside(root, "")
    for folder, dirs, files in os.walk(real_root, followlinks=False):
        rel_folder = os.path.relpath(folder, real_root)
        rel_folder = "" if rel_folder == "." else rel_folder
        dirs.sort()
        for name in dirs:
            if os.path.islink(os.path.join(folder, name)):  # os.walk lists links to folders
                rel = f"{rel_folder}/{name}" if rel_folder else name
                resolve_inside(root, rel)
                raise ConfinementError(f"{rel!r} is a link to a folder", path=root)
        for name in sorted(files):
            rel = f"{rel_folder}/{name}" if rel_folder else name
            if kind_inside(root, rel) != "file":
                raise ConfinementError(f"{rel!r} is not a regular file", path=root)
            yield rel, resolve_inside(root, rel)


def copy_inside(root: str | Path, target: str | Path) -> None:
    """Copy the folder ``root`` into the existing folder ``target``, confined to ``root``
    (see :func:`files_inside`)."""
    import shutil

    for rel, real in files_inside(root):
        out = os.path.join(target, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(real, flags)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ConfinementError(f"{rel!r} changed while being copied", path=root)
        with os.fdopen(fd, "rb") as source, open(out, "wb") as copy:
            shutil.copyfileobj(source, copy)
