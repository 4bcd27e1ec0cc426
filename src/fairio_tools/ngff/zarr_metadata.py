"""Zarr v2 and v3 metadata read as plain JSON, so that a broken store never crashes a reader.

Nothing here opens arrays or lists chunks: a node is its metadata document(s) only. Every
document is read through :func:`fairio_tools.confined.read_inside`: it must be a regular file
inside the store (no link out, no device, FIFO, socket or directory) of at most
:data:`MAX_METADATA_BYTES`. ``NaN`` and ``Infinity`` are refused: they are not JSON (RFC 8259).
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairio_tools.confined import ConfinementError, read_inside, resolve_inside
from fairio_tools.confined import unsafe_path_reason as unsafe_path_reason
from fairio_tools.findings import json_pointer

MAX_METADATA_BYTES = 16 * 1024 * 1024
"""Metadata documents larger than this are refused rather than parsed."""

V2_FILES = (".zgroup", ".zarray", ".zattrs")
V3_FILE = "zarr.json"


class MetadataError(Exception):
    """A metadata document exists but is not usable JSON; ``file`` names it."""

    def __init__(
        self, file: str, message: str, code: str = "invalid-zarr-metadata", pointer: str = ""
    ) -> None:
        super().__init__(message)
        self.file = file
        self.message = message
        self.code = code
        self.pointer = pointer


@dataclass(frozen=True)
class ArrayMetadata:
    """What a validator needs to know about a Zarr array, from either Zarr format."""

    zarr_format: int
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    """Shape of one stored object (for sharded v3 arrays: one shard)."""
    dtype: str
    chunk_key_prefix: str
    chunk_key_separator: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def grid(self) -> tuple[int, ...]:
        """Number of chunks along each dimension."""
        return tuple(math.ceil(s / c) for s, c in zip(self.shape, self.chunks, strict=True))

    @property
    def chunk_count(self) -> int:
        return math.prod(self.grid)

    @property
    def pixel_count(self) -> int:
        return math.prod(self.shape)

    def chunk_key(self, index: tuple[int, ...]) -> str:
        """The store key of the chunk at ``index`` (relative to the array's folder)."""
        if not index:
            return self.chunk_key_prefix + "0" if self.zarr_format == 2 else "c"
        return self.chunk_key_prefix + self.chunk_key_separator.join(map(str, index))


@dataclass(frozen=True)
class ZarrNode:
    """A group or an array of a Zarr store, as its metadata describes it."""

    path: str
    """Path relative to the store root ("" for the root)."""
    zarr_format: int
    node_type: str
    """"group" or "array"."""
    attributes: dict[str, Any]
    metadata_file: str
    """The document holding the attributes, relative to the store root."""
    array: ArrayMetadata | None = None


def read_json(file: Path, name: str, root: Path | None = None) -> Any:
    """Parse the metadata document ``file`` (called ``name`` in messages), which must lie
    inside ``root`` (default: its own folder); raise :class:`MetadataError` for anything
    unusable."""
    root = file.parent if root is None else root
    rel = file.relative_to(root).as_posix()
    try:
        real = resolve_inside(root, rel)
    except ConfinementError:
        raise MetadataError(
            name, "is a symbolic link that leads outside the store", "symlink-escape"
        ) from None
    if os.path.islink(file):
        raise MetadataError(
            name, "is a symbolic link where a metadata document must be", "metadata-symlink"
        )
    try:
        data = read_inside(root, rel, MAX_METADATA_BYTES)
    except ConfinementError as error:
        if stat.S_ISREG(os.stat(real).st_mode):
            message = f"holds more than {MAX_METADATA_BYTES} bytes, implausibly much metadata"
            raise MetadataError(name, message, "metadata-too-large") from None
        kind = str(error.args[0]).replace(repr(rel), "").strip()
        message = f"{kind} where a metadata document must be"
        raise MetadataError(name, message, "metadata-not-a-file") from None
    except OSError as error:
        if not stat.S_ISREG(os.stat(real).st_mode):  # a socket: opening it fails
            message = "is a socket or device where a metadata document must be"
            raise MetadataError(name, message, "metadata-not-a-file") from None
        raise MetadataError(name, f"cannot be read ({error.strerror or error})") from None
    if data is None:
        raise MetadataError(name, "is a link to nothing (or disappeared while being read)")
    return parse_json(data, name)


class _NonFinite(float):
    """A ``NaN`` or ``Infinity`` literal, marked so that it can be located after parsing."""


def _non_finite(literal: str) -> float:
    return _NonFinite(literal.replace("Infinity", "inf"))


def parse_json(data: bytes, name: str) -> Any:
    """Parse strict JSON (RFC 8259) from ``data``; raise :class:`MetadataError` otherwise."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_non_finite)
    except UnicodeDecodeError as error:
        raise MetadataError(name, f"not UTF-8 text ({error.reason})", "invalid-json") from None
    except json.JSONDecodeError as error:
        message = f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        raise MetadataError(name, message, "invalid-json") from None
    except RecursionError:
        raise MetadataError(name, "JSON nested too deeply", "invalid-json") from None
    if b"NaN" in data or b"Infinity" in data:
        for pointer, value in _leaves(doc):
            if isinstance(value, _NonFinite):
                raise MetadataError(
                    name,
                    f"holds the number {value}, which JSON cannot express (RFC 8259)",
                    "invalid-json",
                    pointer,
                )
    return doc


def _leaves(doc: Any) -> Iterator[tuple[str, Any]]:
    """(JSON pointer, value) of every scalar in ``doc``, without recursion."""
    stack: list[tuple[tuple, Any]] = [((), doc)]
    while stack:
        parts, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*parts, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*parts, i), v) for i, v in enumerate(value))
        else:
            yield json_pointer(*parts), value


def has_zarr_metadata(folder: Path) -> bool:
    """True where ``folder`` holds an entry named like a Zarr metadata document (of any kind:
    a readers refuses it later if it is not a regular file)."""
    return any(os.path.lexists(folder / name) for name in (V3_FILE, *V2_FILES))


def read_node(root: Path, rel: str) -> ZarrNode | None:
    """Read the node at ``rel`` below ``root``; None where no Zarr metadata is present.

    Raises :class:`MetadataError` when a document is present but broken.
    """
    folder = root / rel if rel else root
    prefix = f"{rel}/" if rel else ""
    if os.path.lexists(folder / V3_FILE):
        doc = read_json(folder / V3_FILE, prefix + V3_FILE, root)
        if not isinstance(doc, dict):
            raise MetadataError(prefix + V3_FILE, "is not a JSON object")
        node_type = doc.get("node_type")
        attributes = doc.get("attributes", {})
        if not isinstance(attributes, dict):
            raise MetadataError(prefix + V3_FILE, '"attributes" is not a JSON object')
        if doc.get("zarr_format") != 3 or node_type not in ("group", "array"):
            raise MetadataError(
                prefix + V3_FILE, 'needs "zarr_format": 3 and "node_type" "group" or "array"'
            )
        array = _v3_array(doc, prefix + V3_FILE) if node_type == "array" else None
        return ZarrNode(rel, 3, node_type, attributes, prefix + V3_FILE, array)

    present = {name for name in V2_FILES if os.path.lexists(folder / name)}
    if not present:
        return None
    attributes: Any = {}
    if ".zattrs" in present:
        attributes = read_json(folder / ".zattrs", prefix + ".zattrs", root)
        if not isinstance(attributes, dict):
            raise MetadataError(prefix + ".zattrs", "is not a JSON object")
    array = None
    node_type = "group"
    if ".zarray" in present:
        node_type = "array"
        name = prefix + ".zarray"
        array = _v2_array(read_json(folder / ".zarray", name, root), name)
    elif ".zgroup" in present:
        group = read_json(folder / ".zgroup", prefix + ".zgroup", root)
        if not isinstance(group, dict) or group.get("zarr_format") != 2:
            raise MetadataError(prefix + ".zgroup", 'needs {"zarr_format": 2}')
    return ZarrNode(rel, 2, node_type, attributes, prefix + ".zattrs", array)


def _shape(value: Any, name: str, what: str, minimum: int) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= minimum for n in value
    ):
        raise MetadataError(name, f"{what} must be a list of integers >= {minimum}")
    return tuple(value)


def _v2_array(doc: Any, name: str) -> ArrayMetadata:
    if not isinstance(doc, dict) or doc.get("zarr_format") != 2:
        raise MetadataError(name, 'needs a JSON object with "zarr_format": 2')
    shape = _shape(doc.get("shape"), name, '"shape"', 0)
    chunks = _shape(doc.get("chunks"), name, '"chunks"', 1)
    if len(chunks) != len(shape):
        raise MetadataError(name, '"chunks" and "shape" have different lengths')
    dtype = doc.get("dtype")
    if not isinstance(dtype, str | list):
        raise MetadataError(name, '"dtype" is missing')
    separator = doc.get("dimension_separator", ".")
    if separator not in (".", "/"):
        raise MetadataError(name, '"dimension_separator" must be "." or "/"')
    return ArrayMetadata(2, shape, chunks, _v2_dtype_name(dtype), "", separator, doc)


def _v2_dtype_name(dtype: str | list) -> str:
    """Name a v2 dtype as v3 does (``<u2`` → ``uint16``) so levels of both formats compare."""
    if isinstance(dtype, list):
        return json.dumps(dtype)
    kinds = {"b": "bool", "i": "int", "u": "uint", "f": "float", "c": "complex"}
    kind, size = dtype[1:2], dtype[2:]
    if kind in kinds and size.isdigit():
        return "bool" if kind == "b" else f"{kinds[kind]}{int(size) * 8}"
    return dtype


def _v3_array(doc: dict[str, Any], name: str) -> ArrayMetadata:
    shape = _shape(doc.get("shape"), name, '"shape"', 0)
    grid = doc.get("chunk_grid")
    if not isinstance(grid, dict) or grid.get("name") != "regular":
        raise MetadataError(name, '"chunk_grid" must be {"name": "regular", ...}')
    chunks = _shape((grid.get("configuration") or {}).get("chunk_shape"), name, '"chunk_shape"', 1)
    if len(chunks) != len(shape):
        raise MetadataError(name, '"chunk_shape" and "shape" have different lengths')
    dtype = doc.get("data_type")
    if not isinstance(dtype, str):
        raise MetadataError(name, '"data_type" is missing')
    encoding = doc.get("chunk_key_encoding") or {"name": "default"}
    config = encoding.get("configuration") or {} if isinstance(encoding, dict) else {}
    if not isinstance(encoding, dict) or encoding.get("name") not in ("default", "v2"):
        raise MetadataError(name, '"chunk_key_encoding" must be "default" or "v2"')
    if encoding["name"] == "default":
        separator = config.get("separator", "/")
        prefix = "c" + separator
    else:
        separator = config.get("separator", ".")
        prefix = ""
    if separator not in (".", "/"):
        raise MetadataError(name, 'chunk key "separator" must be "." or "/"')
    return ArrayMetadata(3, shape, chunks, dtype, prefix, separator, doc)
