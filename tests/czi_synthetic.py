"""Write small Zeiss CZI files for tests, from the ZISRAW layout (Zeiss's published CZI file
format: 32-byte segment headers, a file header, a subblock directory of ``DV`` entries,
subblocks, a metadata segment and attachments). Uncompressed Gray8 (pixel type 0) only.

Tiles may carry Z, T and mosaic (M) indices and an x offset, so that a file can hold a
channel/z/time stack or a mosaic; the metadata name the channels, the z step and the time
interval (or a ``TimeStamps`` attachment) as ZEN writes them.

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
    left: int = 0
    c: int = 0
    z: int | None = None
    t: int | None = None
    m: int | None = None
    """Z, T and M are written only when some tile of the file has them."""


def guid_of() -> bytes:
    return uuid.uuid4().bytes


def _segment(sid: str, data: bytes) -> bytes:
    size = -(-len(data) // _ALIGN) * _ALIGN
    header = struct.pack("<16sqq", sid.encode(), size, len(data))
    return header + data + b"\0" * (size - len(data))


def _entry(tile: Tile, position: int, extra: set[str]) -> bytes:
    height, width = tile.pixels.shape
    dims = [("X", tile.left, width), ("Y", tile.top, height)]
    dims += [("Z", tile.z or 0, 1)] if "Z" in extra else []
    dims += [("C", tile.c, 1)]
    dims += [("T", tile.t or 0, 1)] if "T" in extra else []
    dims += [("S", tile.scene, 1)]
    dims += [("M", tile.m or 0, 1)] if "M" in extra else []
    head = struct.pack("<2siqiiBB4si", b"DV", 0, position, 0, 0, 0, 0, b"\0" * 4, len(dims))
    return head + b"".join(
        struct.pack("<4siifi", name.encode(), start, size, 0.0, size) for name, start, size in dims
    )


def write_czi(
    path: Path,
    tiles: list[Tile],
    pixel_size_m: float = 1e-7,
    channels: list[str] | None = None,
    colors: list[str] | None = None,
    z_step_m: float | None = None,
    time_increment_s: float | None = None,
    time_stamps_s: list[float] | None = None,
) -> None:
    """A CZI of ``tiles`` (uint8), with metadata giving its sizes, pixel sizes, channel
    names and display ``colors`` (``#AARRGGBB``), the time interval
    (``Dimensions/T/Positions/Interval/Increment``) and, given ``time_stamps_s``, a
    ``TimeStamps`` attachment that ``Dimensions/T`` refers to."""
    body = bytearray()
    offset = 32 + 512  # after the file header segment
    entries = []
    extra = {
        axis
        for tile in tiles
        for axis, index in (("Z", tile.z), ("T", tile.t), ("M", tile.m))
        if index is not None
    }
    for tile in tiles:
        data = np.ascontiguousarray(tile.pixels, np.uint8).tobytes()
        if tile.truncated:
            data = data[: len(data) // 2]
        entry = _entry(tile, offset + len(body), extra)
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
    sizes = {
        "X": max(t.left + t.pixels.shape[1] for t in tiles),
        "Y": max(t.top + t.pixels.shape[0] for t in tiles),
        "C": max(t.c for t in tiles) + 1,
        "Z": max(t.z or 0 for t in tiles) + 1,
        "T": max(t.t or 0 for t in tiles) + 1,
        "S": max(t.scene for t in tiles) + 1,
    }
    names = "".join(
        f'<Channel Id="Channel:{n}" Name="{name}"/>' for n, name in enumerate(channels or ["grey"])
    )
    shown = "".join(
        f'<Channel Id="Channel:{n}"><Color>{color}</Color></Channel>'
        for n, color in enumerate(colors or [])
    )
    if time_stamps_s is not None:
        positions = "<BinaryList><AttachmentName>TimeStamps</AttachmentName></BinaryList>"
    elif time_increment_s is not None:
        positions = (
            f"<Interval><Start>0</Start><Increment>{time_increment_s}</Increment></Interval>"
        )
    else:
        positions = ""
    distances = [("X", pixel_size_m), ("Y", pixel_size_m), ("Z", z_step_m)]
    xml = (
        "<ImageDocument><Metadata><Information><Image>"
        + "".join(f"<Size{axis}>{size}</Size{axis}>" for axis, size in sizes.items())
        + f"<Dimensions><Channels>{names}</Channels>"
        + (f"<T><Positions>{positions}</Positions></T>" if positions else "")
        + "</Dimensions></Image></Information><Scaling><Items>"
        + "".join(
            f'<Distance Id="{axis}"><Value>{value}</Value></Distance>'
            for axis, value in distances
            if value is not None
        )
        + "</Items></Scaling>"
        + (f"<DisplaySetting><Channels>{shown}</Channels></DisplaySetting>" if shown else "")
        + "</Metadata></ImageDocument>"
    ).encode()
    body += _segment("ZISRAWMETADATA", struct.pack("<ii", len(xml), 0) + b"\0" * 248 + xml)
    attachments_position = 0
    if time_stamps_s is not None:
        stamps = np.asarray(time_stamps_s, "<f8")
        data = struct.pack("<ii", 8 + stamps.nbytes, len(stamps)) + stamps.tobytes()
        attachment = struct.pack(
            "<2s10sqi16s8s80s", b"A1", b"", offset + len(body), 0, guid_of(), b"CZTIMS",
            b"TimeStamps",
        )  # fmt: skip
        header = struct.pack("<i12x", len(data)) + attachment + b"\0" * 112
        body += _segment("ZISRAWATTACH", header + data)
        attachments_position = offset + len(body)
        body += _segment("ZISRAWATTDIR", struct.pack("<i", 1) + b"\0" * 252 + attachment)
    guid = guid_of()
    header = struct.pack(
        "<iiii16s16siqqiq", 1, 0, 0, 0, guid, guid, 0, directory_position, metadata_position, 0,
        attachments_position,
    )  # fmt: skip
    path.write_bytes(_segment("ZISRAWFILE", header.ljust(512, b"\0")) + bytes(body))
