"""The one way a user's OME-Zarr store is opened: confined to the store, bounded, errors named.

Every reader of a store (export, predict, label, RDF, bundle) opens it through
:func:`open_root`. For local stores it uses :class:`ConfinedStore`, a Zarr ``LocalStore`` that
refuses keys leading outside the store (through ``..`` or symlinks), devices, FIFOs, sockets
and directories where a chunk or metadata document must be, metadata documents larger than
:data:`MAX_METADATA_BYTES` and chunks larger than :data:`MAX_CHUNK_BYTES`. Remote stores
(``s3://``...) have no links to follow and are opened through fsspec as they are.
Writes (labels added to a store) are confined the same way.
"""

from __future__ import annotations

import asyncio
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import default_buffer_prototype
from zarr.storage import LocalStore

from fairio_tools import limits
from fairio_tools.atomic import INCOMPLETE_MARKER, is_url
from fairio_tools.confined import ConfinementError, open_inside, read_inside, resolve_inside
from fairio_tools.errors import FairioError, InputError

MAX_METADATA_BYTES = 16 * 1024 * 1024
"""Metadata documents (``zarr.json``, ``.zattrs``, ``.zarray``, ``.zgroup``) larger than this
are refused rather than parsed."""
_METADATA_NAMES = frozenset({"zarr.json", ".zattrs", ".zarray", ".zgroup", ".zmetadata"})


class ConfinedStore(LocalStore):
    """A Zarr ``LocalStore`` that never reads or writes outside its root (see the module)."""

    def _read(self, key: str, byte_range: Any) -> bytes | None:
        name = key.rsplit("/", 1)[-1]
        limit = MAX_METADATA_BYTES if name in _METADATA_NAMES else limits.MAX_CHUNK_BYTES
        if byte_range is None:
            return read_inside(self.root, key, limit)
        stream = open_inside(self.root, key)  # a part of a shard: read only that part
        if stream is None:
            return None
        with stream:
            size = os.fstat(stream.fileno()).st_size
            if isinstance(byte_range, RangeByteRequest):
                start, end = byte_range.start, min(byte_range.end, size)
            elif isinstance(byte_range, OffsetByteRequest):
                start, end = byte_range.offset, size
            elif isinstance(byte_range, SuffixByteRequest):
                start, end = max(0, size - byte_range.suffix), size
            else:
                raise TypeError(f"unexpected byte range {byte_range!r}")
            if end - start > limit:
                raise ConfinementError(
                    f"{key!r}: a read of {end - start} bytes is more than the limit of {limit}",
                    path=self.root,
                )
            stream.seek(start)
            return stream.read(max(0, end - start))

    def _buffer(self, data: bytes | None, prototype: Any) -> Any:
        if data is None:
            return None
        return (prototype or default_buffer_prototype()).buffer.from_bytes(data)

    def get_sync(self, key: str, *, prototype: Any = None, byte_range: Any = None) -> Any:
        return self._buffer(self._read(key, byte_range), prototype)

    async def get(self, key: str, prototype: Any = None, byte_range: Any = None) -> Any:
        data = await asyncio.to_thread(self._read, key, byte_range)
        return self._buffer(data, prototype)

    async def get_partial_values(self, prototype: Any, key_ranges: Any) -> list[Any]:
        return [await self.get(key, prototype, byte_range) for key, byte_range in key_ranges]

    async def exists(self, key: str) -> bool:
        return os.path.isfile(resolve_inside(self.root, key))

    def set_sync(self, key: str, value: Any) -> None:
        resolve_inside(self.root, key)
        super().set_sync(key, value)

    async def set(self, key: str, value: Any) -> None:
        resolve_inside(self.root, key)
        await super().set(key, value)

    async def delete(self, key: str) -> None:
        resolve_inside(self.root, key)
        await super().delete(key)

    async def delete_dir(self, prefix: str) -> None:
        if prefix:
            resolve_inside(self.root, prefix.rstrip("/"))
        await super().delete_dir(prefix)


def open_root(location: str | Path, *, mode: str = "r", ours: bool = False) -> Any:
    """The root group of the store at ``location`` (a path or URL), opened confined.

    ``mode`` is ``"r"`` (read) or ``"r+"`` (add to an existing store); ``ours``: the store is
    the temporary of an output this command is writing (it holds the incomplete marker). Raises
    :class:`InputError` naming the store when it is not a readable Zarr group, is incomplete
    (a write into it was interrupted) or holds anything the confinement refuses.
    """
    import zarr

    with reading(location):
        if is_url(location):
            from fairio_tools import extras

            extras.require_for_url(location)
            return zarr.open_group(str(location), mode=mode)
        root = Path(location)
        if not root.is_dir():
            what = "no such folder" if not root.exists() else "not a folder"
            raise InputError(f"not an OME-Zarr store: {what}", path=location)
        if (root / INCOMPLETE_MARKER).exists() and not ours:
            raise InputError("incomplete store: a write into it was interrupted", path=location)
        store = ConfinedStore(os.path.realpath(root), read_only=mode == "r")
        try:
            return zarr.open_group(store, mode=mode)
        except FileNotFoundError as error:
            raise InputError(
                "not an OME-Zarr store: no Zarr group at its root", path=location
            ) from error


_READ_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    RuntimeError,
    OverflowError,
    NotImplementedError,
    zlib.error,
    RecursionError,
)


@contextmanager
def reading(location: str | Path) -> Iterator[None]:
    """Report any failure to decode the store at ``location`` as an :class:`InputError`.

    Zarr and its codecs raise many kinds of errors for a corrupt store (broken JSON, a chunk
    that does not decode, metadata of the wrong type); wrap only code that reads the store.
    """
    try:
        yield
    except FairioError:
        raise
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", path=location) from error
    except _READ_ERRORS as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"cannot be read as Zarr: {message}", path=location) from error
