"""Write small Zeiss CZI files for tests, from the ZISRAW layout (Zeiss's published CZI file
format: 32-byte segment headers, a file header, a subblock directory of ``DV`` entries,
subblocks and a metadata segment). Uncompressed Gray8 (pixel type 0) only.

A subblock may be written ``truncated`` (its pixel data cut short), so that a test can
tell whether a reader decoded it: decoding it fails, skipping it does not.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_ALIGN = 32


@dataclass
class Tile:
    """One subblock: its pixels (y, x) at scene ``scene``, rows from ``top``."""

    scene: int
    top: int
    pixels: np.ndarray
    truncated: bool = False


def _segment(sid: str, data: bytes) -> bytes:
    size = -(-len(data) // _ALIGN) * _ALIGN
    header = struct.pack("<16sqq", sid.encode(), size, len(data))
    return header + data + b"\0" * (size - len(data))


def _entry(tile: Tile, position: int) -> bytes:
    height, width = tile.pixels.shape
    dims = [("X", 0, width), ("Y", tile.top, height), ("C", 0, 1), ("S", tile.scene, 1)]
    head = struct.pack("<2siqiiBB4si", b"DV", 0, position, 0, 0, 0, 0, b"\0" * 4, len(dims))
    return head + b"".join(
        struct.pack("<4siifi", name.encode(), start, size, 0.0, size) for name, start, size in dims
    )


def write_czi(path: Path, tiles: list[Tile], pixel_size_m: float = 1e-7) -> None:
    """A CZI of ``tiles`` (uint8), with metadata giving its sizes and x/y pixel size."""
    body = bytearray()
    offset = 32 + 512  # after the file header segment
    entries = []
    for tile in tiles:
        data = np.ascontiguousarray(tile.pixels, np.uint8).tobytes()
        if tile.truncated:
            data = data[: len(data) // 2]
        entry = _entry(tile, offset + len(body))
        pad = b"\0" * max(240 - len(entry), 0)
        segment = _segment(
            "ZISRAWSUBBLOCK", struct.pack("<iiq", 0, 0, len(data)) + entry + pad + data
        )
        entries.append(entry)
        body += segment
    directory_position = offset + len(body)
    body += _segment(
        "ZISRAWDIRECTORY", struct.pack("<i", len(entries)) + b"\0" * 124 + b"".join(entries)
    )
    metadata_position = offset + len(body)
    width = max(t.pixels.shape[1] for t in tiles)
    height = max(t.top + t.pixels.shape[0] for t in tiles)
    scenes = max(t.scene for t in tiles) + 1
    xml = (
        "<ImageDocument><Metadata><Information><Image>"
        f"<SizeX>{width}</SizeX><SizeY>{height}</SizeY><SizeS>{scenes}</SizeS>"
        '<Dimensions><Channels><Channel Name="grey"/></Channels></Dimensions>'
        "</Image></Information><Scaling><Items>"
        f'<Distance Id="X"><Value>{pixel_size_m}</Value></Distance>'
        f'<Distance Id="Y"><Value>{pixel_size_m}</Value></Distance>'
        "</Items></Scaling></Metadata></ImageDocument>"
    ).encode()
    body += _segment("ZISRAWMETADATA", struct.pack("<ii", len(xml), 0) + b"\0" * 248 + xml)
    guid = uuid.uuid4().bytes
    header = struct.pack(
        "<iiii16s16siqqiq", 1, 0, 0, 0, guid, guid, 0, directory_position, metadata_position, 0, 0
    )
    path.write_bytes(_segment("ZISRAWFILE", header.ljust(512, b"\0")) + bytes(body))
