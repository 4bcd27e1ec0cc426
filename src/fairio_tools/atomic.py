"""The one way outputs are written: into a temporary sibling, then moved into place exclusively.

A failure or a kill never leaves anything that looks valid at the target:

- files and folders (OME-Zarr stores, crates) are written under ``.NAME.partial-HOST-PID-XXXX``
  beside the target; a folder holds :data:`INCOMPLETE_MARKER` until it is complete, so readers
  and validators refuse it if a kill leaves it behind. Leftovers of dead processes on this host
  are removed by the next write of the same target;
- the final move never replaces a target that appeared meanwhile unless ``overwrite`` (then
  it is replaced atomically: the old one is exchanged for the new one, then removed);
- a target that is a device, FIFO or socket (``/dev/null``, ``/dev/stdout``, a pipe) is written
  into, never replaced; ``-`` means standard output;
- on failure the temporary is removed after the writer has stopped (callers stop their threads
  inside the block), and a failing clean-up never hides the error that caused it.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import shutil
import socket
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from fairio_tools.errors import OutputError

INCOMPLETE_MARKER = ".fairio-incomplete"
"""Present inside a folder output (an OME-Zarr store) until it is complete: readers and
validators treat a folder holding it as an interrupted write, never as a valid result."""

STDOUT = "-"

_log = logging.getLogger(__name__)
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2
_AT_FDCWD = -100


def is_url(target: str | Path) -> bool:
    """Whether ``target`` names a remote location (``scheme://``) rather than a local path."""
    return "://" in str(target) and not str(target).startswith("file://")


def filesystem(target: str | Path) -> tuple[Any, str]:
    """The fsspec filesystem of ``target`` and the path on it."""
    import fsspec

    from fairio_tools import extras

    extras.require_for_url(target)

    return fsspec.core.url_to_fs(str(target))


def is_special(path: str | Path) -> bool:
    """Whether ``path`` is (or links to) something written into rather than replaced:
    ``-``, a device, FIFO or socket, or anything under ``/dev`` or ``/proc`` (``/dev/stdout``
    is a link to the process's own output, whatever that is)."""
    if str(path) == STDOUT or os.path.abspath(path).startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@contextmanager
def atomic_output(target: str | Path, *, overwrite: bool, folder: bool = False) -> Iterator[str]:
    """Yield where to write ``target`` (a local path or an fsspec URL); move it into place.

    ``folder``: the output is a folder (a store); it is created, holding the incomplete marker,
    and callers add to it (Zarr: ``mode="a"``). Otherwise the caller creates the file.
    Raises :class:`OutputError` when ``target`` exists (or appears) and ``overwrite`` is false.
    An empty regular file at ``target`` (as Galaxy creates for outputs) counts as absent.
    """
    if is_url(target):
        with _remote_output(str(target), overwrite, folder) as location:
            yield location
        return
    if is_special(target):
        yield "/dev/stdout" if str(target) == STDOUT else str(target)
        return
    path = Path(os.path.realpath(target)) if os.path.islink(target) else Path(target)
    if _occupied(path) and not overwrite:
        raise OutputError("already exists", path=target, hint="use --overwrite to replace it")
    if not path.parent.is_dir():
        raise OutputError("the folder to write into does not exist", path=path.parent)
    _remove_stale(path)
    temporary = path.with_name(f".{path.name}.partial-{_owner()}-{uuid.uuid4().hex[:8]}")
    try:
        if folder:
            temporary.mkdir()
            (temporary / INCOMPLETE_MARKER).write_bytes(b"")
        else:
            temporary.touch(exist_ok=False)
    except OSError as error:
        raise OutputError(f"cannot write here: {error.strerror or error}", path=target) from None
    try:
        yield str(temporary)
        if folder:  # (a writer that empties its folder first has removed it already)
            (temporary / INCOMPLETE_MARKER).unlink(missing_ok=True)
        _move_into_place(temporary, path, overwrite, target)
    except BaseException:
        _discard(temporary)
        raise


@contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = True) -> Iterator[Path]:
    """:func:`atomic_output` for one local file, as a :class:`Path`; replaces by default."""
    with atomic_output(path, overwrite=overwrite) as location:
        yield Path(location)


def _occupied(path: Path) -> bool:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    return not (stat.S_ISREG(info.st_mode) and info.st_size == 0)


def _owner() -> str:
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:32]
    return f"{host}-{os.getpid()}"


def _remove_stale(path: Path) -> None:
    """Remove temporaries of ``path`` left by killed processes of this host."""
    host = _owner().rsplit("-", 1)[0]
    for leftover in path.parent.glob(f".{path.name}.partial-{host}-*-*"):
        pid = leftover.name.rsplit("-", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            _discard(leftover)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _renameat2(source: Path, target: Path, flags: int) -> bool:
    """Linux renameat2(2); False where the system or file system does not offer it."""
    function = getattr(_libc(), "renameat2", None)
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(target))


_LIBC: Any = None


def _libc() -> Any:
    global _LIBC
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL(None, use_errno=True)
        except OSError:  # pragma: no cover - no C library to load
            _LIBC = False
    return _LIBC or None


def _move_into_place(temporary: Path, path: Path, overwrite: bool, target: str | Path) -> None:
    try:
        if not _occupied(path) and path.is_file():  # Galaxy's empty placeholder
            path.unlink()
        if _rename_exclusive(temporary, path):
            return
        if not overwrite:
            raise OutputError(
                "appeared while this command ran", path=target, hint="use --overwrite to replace it"
            )
        if temporary.is_file() and not path.is_dir():
            os.replace(temporary, path)
        elif _renameat2(temporary, path, _RENAME_EXCHANGE):
            _discard(temporary)  # now holds the old output
        else:
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            os.rename(path, old)
            os.rename(temporary, path)
            _discard(old)
    except OSError as error:
        raise OutputError(
            f"cannot move into place: {error.strerror or error}", path=target
        ) from None


def _rename_exclusive(source: Path, target: Path) -> bool:
    """Rename ``source`` to ``target`` unless ``target`` exists; False if it does."""
    try:
        if _renameat2(source, target, _RENAME_NOREPLACE):
            return True
    except FileExistsError:
        return False
    if target.exists() or target.is_symlink():
        return False
    if source.is_file():
        try:
            os.link(source, target)  # fails if the target appeared: never replaces
        except FileExistsError:
            return False
        source.unlink()
        return True
    try:
        os.rename(source, target)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            return False
        raise
    return True


def _discard(path: Path) -> None:
    """Remove a temporary file or folder; a failure is logged, never raised."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as error:
        _log.warning("could not remove %s: %s", path, error)


@contextmanager
def _remote_output(target: str, overwrite: bool, folder: bool) -> Iterator[str]:
    """The same on object storage: a temporary prefix, copied into place key by key."""
    fs, path = filesystem(target)
    path = path.rstrip("/")
    if fs.exists(path) and not overwrite:
        raise OutputError("already exists", path=target, hint="use --overwrite to replace it")
    parent, _, name = path.rpartition("/")
    temporary = f"{parent}/.{name}.partial-{_owner()}-{uuid.uuid4().hex[:8]}"
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    try:
        if folder:
            fs.pipe(f"{temporary}/{INCOMPLETE_MARKER}", b"")
        yield f"{protocol}://{temporary}"
        fs.invalidate_cache()  # written through zarr: listings cached here are stale
        if folder:
            fs.rm(f"{temporary}/{INCOMPLETE_MARKER}")
        old = None
        if fs.exists(path):
            if not overwrite:
                raise OutputError("appeared while this command ran", path=target)
            old = f"{parent}/.{name}.old-{uuid.uuid4().hex[:8]}"
            _copy_keys(fs, path, old)  # kept until the new one is complete
        _copy_keys(fs, temporary, path)
        if old is not None:
            fs.rm(old, recursive=True)
    except BaseException:
        with suppress(Exception):
            fs.invalidate_cache()
            if fs.exists(temporary):
                fs.rm(temporary, recursive=True)
        raise


def _copy_keys(fs: Any, source: str, target: str) -> None:
    """Move ``source`` to ``target`` on an object store: copy key by key, then delete."""
    keys = fs.find(source)  # objects only: prefixes are not keys and cannot be copied
    if fs.exists(target):
        fs.rm(target, recursive=True)
    fs.copy(keys, [target + key[len(source) :] for key in keys])
    fs.rm(source, recursive=True)
