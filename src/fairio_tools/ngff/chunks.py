"""Reading the chunks of a Zarr array to prove they decode, a sample or all of them.

Zarr v2 chunks are decoded with numcodecs, exactly as the ``.zarray`` filters and compressor say;
Zarr v3 chunks (any codec chain, sharding included) through zarr-python. Deep reads walk the files
that exist on disk, so a store that declares 10^18 pixels costs what it holds, not what it claims.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
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

    def _decode_v2(self, key: str) -> str | None:
        import numpy as np

        data = (self.folder / key).read_bytes()
        compressor, filters = self._v2_codecs
        if compressor is not None:
            data = compressor.decode(data)
        for codec in filters:
            data = codec.decode(data)
        declared = self.meta.raw["dtype"]
        dtype = np.dtype(declared) if isinstance(declared, str) else None
        if dtype is not None and dtype.kind != "O":
            expected = math.prod(self.meta.chunks) * dtype.itemsize
            got = np.asarray(data).nbytes if not isinstance(data, bytes) else len(data)
            if got != expected:
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
            scan.read += 1
            problem = self._escape_or_decode(key)
            if problem:
                scan.unreadable.append((key, problem))
        return scan

    def _escape_or_decode(self, key: str) -> str | None:
        path = os.path.realpath(self.folder / key)
        if os.path.commonpath([self.store_root, path]) != self.store_root:
            return "symlink leads outside the store"
        return self.decode(key)

    def stored_keys(self) -> Iterator[str]:
        """Every file below the array's folder except metadata, as a store key."""
        stack = [""]
        while stack:
            rel = stack.pop()
            with os.scandir(self.folder / rel if rel else self.folder) as entries:
                for entry in entries:
                    key = f"{rel}{entry.name}"
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(key + "/")
                    elif not (rel == "" and entry.name in METADATA_NAMES):
                        yield key

    def read_all(self, workers: int, batch: int = 512) -> ChunkScan:
        """Decode every stored chunk, ``workers`` at a time, ``batch`` keys in flight."""
        scan = ChunkScan()
        keys = self.stored_keys()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while chunk_keys := list(islice(keys, batch)):
                valid = []
                for key in chunk_keys:
                    if self.index_of(key) is None:
                        scan.stray.append(key)
                    else:
                        valid.append(key)
                for key, problem in zip(
                    valid, pool.map(self._escape_or_decode, valid), strict=True
                ):
                    scan.read += 1
                    if problem == "symlink leads outside the store":
                        scan.escaping.append(key)
                    elif problem:
                        scan.unreadable.append((key, problem))
        return scan
