"""Reading the chunks of a Zarr array to prove they decode, a sample or all of them.

Every chunk is read through :func:`fairio_tools.confined.read_inside`: a chunk must be a regular
file inside the store, no larger than an encoded chunk can plausibly be; links out, directories,
devices and FIFOs where a chunk must be are refused, never read. The bytes are then decoded:
Zarr v2 chunks with numcodecs, exactly as the ``.zarray`` filters and compressor say; Zarr v3
chunks (any codec chain, sharding included) through zarr-python, from memory. Deep reads walk
the files that exist on disk, so a store that declares 10^18 pixels costs what it holds, not
what it claims.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import struct
from collections.abc import Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import chain, islice
from pathlib import Path

from fairio_tools.confined import ConfinementError, read_inside, resolve_inside
from fairio_tools.ngff.zarr_metadata import ArrayMetadata

MAX_DECODED_CHUNK_BYTES = 1024**3
"""Chunks (v3: shards) that decode to more bytes than this are not read: an error says so."""

ENCODED_SLACK_BYTES = 1024**2
"""An encoded chunk may exceed twice its decoded size by this much (headers, shard index)."""

METADATA_NAMES = frozenset({".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"})


@dataclass
class ChunkScan:
    """What reading the chunks of one array found."""

    read: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    """(key, reason) of chunks that exist but do not decode."""
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(key, reason) of chunk keys that name no plausible chunk file (a directory, a device,
    a FIFO, a file far larger than a chunk): never read."""
    stray: list[str] = field(default_factory=list)
    """Files inside the array that are not chunk keys of its grid."""
    escaping: list[str] = field(default_factory=list)
    """Entries that are symlinks leading outside the store (never followed)."""


class _Refused(Exception):
    """A chunk key names something that is not read: why."""


def decoded_chunk_bytes(meta: ArrayMetadata) -> int:
    """Bytes one stored chunk (v3: shard) decodes to; 16 bytes an element for odd dtypes."""
    import numpy as np

    declared = meta.raw.get("dtype") if meta.zarr_format == 2 else meta.dtype
    try:
        itemsize = np.dtype(
            declared if isinstance(declared, str) else [tuple(f) for f in declared]
        ).itemsize
    except (TypeError, ValueError):
        itemsize = 16
    return math.prod(meta.chunks) * (itemsize or 16)


def _inner_chunks(meta: ArrayMetadata) -> int:
    """Inner chunks of one shard (1 for unsharded arrays): each has a 16-byte index entry."""
    for codec in meta.raw.get("codecs") or [] if meta.zarr_format == 3 else []:
        if isinstance(codec, dict) and codec.get("name") == "sharding_indexed":
            inner = (codec.get("configuration") or {}).get("chunk_shape")
            if isinstance(inner, list) and all(isinstance(n, int) and n > 0 for n in inner):
                return math.prod(math.ceil(s / n) for s, n in zip(meta.chunks, inner))  # noqa: B905
    return 1


def encoded_chunk_limit(meta: ArrayMetadata) -> int:
    """The most bytes a stored chunk of ``meta`` may plausibly hold."""
    return 2 * decoded_chunk_bytes(meta) + 16 * _inner_chunks(meta) + ENCODED_SLACK_BYTES


def _outer_codec(meta: ArrayMetadata) -> str | None:
    """The codec whose output is stored (v2: the compressor; v3: the last codec)."""
    if meta.zarr_format == 2:
        compressor = meta.raw.get("compressor")
        return compressor.get("id") if isinstance(compressor, dict) else None
    codecs = meta.raw.get("codecs")
    last = codecs[-1] if isinstance(codecs, list) and codecs else None
    return last.get("name") if isinstance(last, dict) else None


class ChunkReader:
    """Decodes the stored chunks of the array at ``rel`` below the store ``root``."""

    def __init__(self, root: Path, rel: str, meta: ArrayMetadata) -> None:
        self.root = Path(os.path.realpath(root))
        self.rel = rel
        self.folder = self.root / rel if rel else self.root
        self.meta = meta
        self.limit = encoded_chunk_limit(meta)
        self.blosc = _outer_codec(meta) == "blosc"

    @cached_property
    def _v2_codecs(self):
        import numcodecs

        raw = self.meta.raw
        compressor = numcodecs.get_codec(raw["compressor"]) if raw.get("compressor") else None
        filters = [numcodecs.get_codec(f) for f in raw.get("filters") or []]
        return compressor, filters[::-1]

    @cached_property
    def _v3_memory(self) -> tuple[dict, object]:
        """An in-memory store holding the array's metadata, and the array opened on it: chunks
        are put there one at a time, so zarr-python never touches the disk itself."""
        import zarr
        from zarr.core.buffer import default_buffer_prototype
        from zarr.storage import MemoryStore

        as_buffer = default_buffer_prototype().buffer.from_bytes
        memory = {"zarr.json": as_buffer(json.dumps(self.meta.raw).encode())}
        array = zarr.open_array(store=MemoryStore(memory, read_only=True), mode="r", zarr_format=3)
        return memory, array

    def chunk_bytes(self, key: str) -> bytes:
        """The bytes stored at ``key``; :class:`_Refused` if it is no plausible chunk file."""
        rel = f"{self.rel}/{key}" if self.rel else key
        try:
            data = read_inside(self.root, rel, self.limit)
        except ConfinementError as error:
            raise _Refused(str(error.args[0]).replace(repr(rel), "").strip()) from None
        except OSError as error:
            raise _Refused(f"cannot be opened ({error.strerror or error})") from None
        if data is None:
            raise _Refused("is a link to nothing")
        return data

    def decode(self, key: str) -> str | None:
        """Decode the chunk stored at ``key``; return why it failed, or None.

        Raises :class:`_Refused` when ``key`` names no plausible chunk file.
        """
        data = self.chunk_bytes(key)
        if self.blosc and len(data) >= 16:
            (declared,) = struct.unpack_from("<I", data, 4)  # the Blosc header's decoded size
            if declared > self.limit:
                return (
                    f"its Blosc header declares {declared:,} decoded bytes, more than a chunk "
                    f"of this array can hold ({self.limit:,}): not decompressed"
                )
        try:
            if self.meta.zarr_format == 2:
                return self._decode_v2(data)
            return self._decode_v3(key, data)
        except Exception as error:  # any codec failure is a finding, never a crash
            return f"{type(error).__name__}: {error}"[:300]

    @cached_property
    def _v2_chunk_bytes(self) -> int | None:
        """Bytes one decoded chunk must have (None where the dtype has no fixed size)."""
        import numpy as np

        declared = self.meta.raw["dtype"]
        try:
            dtype = np.dtype(
                declared if isinstance(declared, str) else [tuple(f) for f in declared]
            )
        except (TypeError, ValueError):
            return None
        return None if dtype.kind == "O" else math.prod(self.meta.chunks) * dtype.itemsize

    def _decode_v2(self, data: bytes) -> str | None:
        compressor, filters = self._v2_codecs
        if compressor is not None:
            data = compressor.decode(data)
        for codec in filters:
            data = codec.decode(data)
        expected = self._v2_chunk_bytes
        got = len(data) if isinstance(data, bytes) else memoryview(data).nbytes
        if expected is not None and got != expected:
            return f"decodes to {got} bytes, expected {expected}"
        return None

    def _decode_v3(self, key: str, data: bytes) -> str | None:
        from zarr.core.buffer import default_buffer_prototype

        index = self.index_of(key)
        if index is None:
            return "not a chunk key of this array"
        region = tuple(
            slice(i * c, min((i + 1) * c, s))
            for i, c, s in zip(index, self.meta.chunks, self.meta.shape, strict=True)
        )
        memory, array = self._v3_memory
        memory[key] = default_buffer_prototype().buffer.from_bytes(data)
        try:
            array[region]
        finally:
            memory.pop(key, None)
        return None

    def index_of(self, key: str) -> tuple[int, ...] | None:
        """The grid index a key names, or None when it names no chunk of this array."""
        prefix, sep = self.meta.chunk_key_prefix, self.meta.chunk_key_separator
        if not key.startswith(prefix):
            return None
        parts = key[len(prefix) :].split(sep)
        if len(parts) != self.meta.ndim or not all(p.isdigit() for p in parts):
            return None
        index = tuple(int(p) for p in parts)
        if any(i >= n for i, n in zip(index, self.meta.grid, strict=True)):
            return None
        return index

    def sample_keys(self) -> list[str]:
        """The first and the last chunk: cheap evidence that keys and codecs are right."""
        grid = self.meta.grid
        if 0 in grid:
            return []
        first = tuple(0 for _ in grid)
        last = tuple(n - 1 for n in grid)
        return list(dict.fromkeys([self.meta.chunk_key(first), self.meta.chunk_key(last)]))

    def read_sample(self) -> ChunkScan:
        """Decode the sample chunks that exist (absent chunks are legal: fill value)."""
        scan = ChunkScan()
        for key in self.sample_keys():
            if not os.path.lexists(self.folder / key):
                continue
            if self._escapes(key):
                scan.escaping.append(key)
                continue
            scan.read += 1
            try:
                problem = self.decode(key)
            except _Refused as refusal:
                scan.refused.append((key, str(refusal)))
                continue
            if problem:
                scan.unreadable.append((key, problem))
        return scan

    def _escapes(self, key: str) -> bool:
        try:
            resolve_inside(self.root, f"{self.rel}/{key}" if self.rel else key)
        except ConfinementError:
            return True
        return False

    def stored_keys(self) -> Iterator[tuple[str, str]]:
        """Every entry below the array's folder except metadata: (store key, kind), the kind
        being "file", "dir" (a directory named like a chunk) or "link" (never followed)."""
        stack = [""]
        while stack:
            rel = stack.pop()
            with os.scandir(self.folder / rel if rel else self.folder) as entries:
                for entry in entries:
                    key = f"{rel}{entry.name}"
                    if entry.is_symlink():
                        yield key, "link"
                    elif entry.is_dir(follow_symlinks=False):
                        if self.index_of(key) is not None:
                            yield key, "dir"
                        else:
                            stack.append(key + "/")
                    elif not (rel == "" and entry.name in METADATA_NAMES):
                        yield key, "file"

    def read_all(self, workers: int, batch: int = 2048) -> ChunkScan:
        """Decode every stored chunk with ``workers`` processes (threads for small arrays),
        at most two batches of ``batch`` keys per worker in flight."""
        scan = ChunkScan()
        entries = self.stored_keys()
        first = list(islice(entries, PROCESS_POOL_MIN_CHUNKS))  # what is stored, not declared
        entries = chain(first, entries)
        if workers > 1 and len(first) >= PROCESS_POOL_MIN_CHUNKS:
            context = multiprocessing.get_context("spawn")  # safe beside zarr's threads
            pool: Executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        else:
            pool = ThreadPoolExecutor(max_workers=workers)
            batch = 256
        pending: set[Future] = set()

        def collect(future: Future) -> None:
            unreadable, refused = future.result()
            scan.unreadable.extend(unreadable)
            scan.refused.extend(refused)

        with pool:
            while batch_entries := list(islice(entries, batch)):
                keys = []
                for key, kind in batch_entries:
                    if kind == "link" and self._escapes(key):
                        scan.escaping.append(key)
                    elif kind == "dir":
                        scan.refused.append((key, "is a directory, not a file"))
                    elif self.index_of(key) is None:
                        scan.stray.append(key)
                    else:
                        keys.append(key)
                scan.read += len(keys)
                pending.add(pool.submit(_decode_batch, self.root, self.rel, self.meta, keys))
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        collect(future)
            for future in pending:
                collect(future)
        return scan


PROCESS_POOL_MIN_CHUNKS = 20_000
"""Arrays that store fewer chunks are decoded by threads: starting processes would cost more."""


def _decode_batch(
    root: Path, rel: str, meta: ArrayMetadata, keys: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(key, reason) for each chunk of ``keys`` that does not decode, and for each that is
    refused unread (runs in a worker)."""
    reader = _worker_reader(root, rel, meta)
    failures, refused = [], []
    for key in keys:
        try:
            problem = reader.decode(key)
        except _Refused as refusal:
            refused.append((key, str(refusal)))
            continue
        if problem:
            failures.append((key, problem))
    return failures, refused


@lru_cache(maxsize=8)
def _worker_reader(root: Path, rel: str, meta: ArrayMetadata) -> ChunkReader:
    return ChunkReader(root, rel, meta)
