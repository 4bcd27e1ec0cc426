"""Reading the chunks of a Zarr array to prove they decode, a sample or all of them.

Zarr v2 chunks are decoded with numcodecs, exactly as the ``.zarray`` filters and compressor say;
Zarr v3 chunks (any codec chain, sharding included) through zarr-python. Deep reads walk the files
that exist on disk, so a store that declares 10^18 pixels costs what it holds, not what it claims.
"""

from __future__ import annotations

import math
import multiprocessing
import os
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
from itertools import islice
from pathlib import Path

from fairio_tools.ngff.zarr_metadata import ArrayMetadata

METADATA_NAMES = frozenset({".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"})


@dataclass
class ChunkScan:
    """What reading the chunks of one array found."""

    read: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    """(key, reason) of chunks that exist but do not decode."""
    stray: list[str] = field(default_factory=list)
    """Files inside the array that are not chunk keys of its grid."""
    escaping: list[str] = field(default_factory=list)
    """Chunk files that are symlinks leading outside the store."""


class ChunkReader:
    """Decodes the stored chunks of one array."""

    def __init__(self, folder: Path, meta: ArrayMetadata, store_root: Path) -> None:
        self.folder = folder
        self.meta = meta
        self.store_root = os.path.realpath(store_root)

    @cached_property
    def _v2_codecs(self):
        import numcodecs

        raw = self.meta.raw
        compressor = numcodecs.get_codec(raw["compressor"]) if raw.get("compressor") else None
        filters = [numcodecs.get_codec(f) for f in raw.get("filters") or []]
        return compressor, filters[::-1]

    @cached_property
    def _v3_array(self):
        import zarr

        return zarr.open_array(store=str(self.folder), mode="r", zarr_format=3)

    def decode(self, key: str) -> str | None:
        """Decode the chunk stored at ``key``; return why it failed, or None."""
        try:
            if self.meta.zarr_format == 2:
                return self._decode_v2(key)
            return self._decode_v3(key)
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

    def _decode_v2(self, key: str) -> str | None:
        with open(self.folder / key, "rb") as handle:
            data = handle.read()
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

    def _decode_v3(self, key: str) -> str | None:
        index = self.index_of(key)
        if index is None:
            return "not a chunk key of this array"
        region = tuple(
            slice(i * c, min((i + 1) * c, s))
            for i, c, s in zip(index, self.meta.chunks, self.meta.shape, strict=True)
        )
        self._v3_array[region]
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
            if not (self.folder / key).is_file():
                continue
            if self._escapes(key):
                scan.escaping.append(key)
                continue
            scan.read += 1
            problem = self.decode(key)
            if problem:
                scan.unreadable.append((key, problem))
        return scan

    def _escapes(self, key: str) -> bool:
        path = os.path.realpath(self.folder / key)
        return os.path.commonpath([self.store_root, path]) != self.store_root

    def stored_keys(self) -> Iterator[tuple[str, bool]]:
        """Every file below the array's folder except metadata: (store key, is a link)."""
        stack = [""]
        while stack:
            rel = stack.pop()
            with os.scandir(self.folder / rel if rel else self.folder) as entries:
                for entry in entries:
                    key = f"{rel}{entry.name}"
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(key + "/")
                    elif not (rel == "" and entry.name in METADATA_NAMES):
                        yield key, entry.is_symlink()

    def read_all(self, workers: int, batch: int = 2048) -> ChunkScan:
        """Decode every stored chunk with ``workers`` processes (threads for small arrays),
        at most two batches of ``batch`` keys per worker in flight."""
        scan = ChunkScan()
        use_processes = workers > 1 and self.meta.chunk_count >= PROCESS_POOL_MIN_CHUNKS
        if use_processes:
            context = multiprocessing.get_context("spawn")  # safe beside zarr's threads
            pool: Executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        else:
            pool = ThreadPoolExecutor(max_workers=workers)
            batch = 256
        entries = self.stored_keys()
        pending: set[Future] = set()
        with pool:
            while batch_entries := list(islice(entries, batch)):
                keys = []
                for key, is_link in batch_entries:
                    if self.index_of(key) is None:
                        scan.stray.append(key)
                    elif is_link and self._escapes(key):
                        scan.escaping.append(key)
                    else:
                        keys.append(key)
                scan.read += len(keys)
                pending.add(pool.submit(_decode_batch, self.folder, self.meta, keys))
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        scan.unreadable += future.result()
            for future in pending:
                scan.unreadable += future.result()
        return scan


PROCESS_POOL_MIN_CHUNKS = 20_000
"""Arrays with fewer chunks are decoded by threads: starting processes would cost more."""


def _decode_batch(folder: Path, meta: ArrayMetadata, keys: list[str]) -> list[tuple[str, str]]:
    """(key, reason) for each chunk of ``keys`` that does not decode (runs in a worker)."""
    reader = _worker_reader(folder, meta)
    failures = []
    for key in keys:
        problem = reader.decode(key)
        if problem:
            failures.append((key, problem))
    return failures


@lru_cache(maxsize=8)
def _worker_reader(folder: Path, meta: ArrayMetadata) -> ChunkReader:
    return ChunkReader(folder, meta, folder)
