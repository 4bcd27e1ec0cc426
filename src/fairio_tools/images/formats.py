"""Recognise an image file by its first bytes, never by its name."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from fairio_tools.errors import InputError


class ImageFormat(str, Enum):
    TIFF = "tiff"
    PNG = "png"
    JPEG = "jpeg"
    CZI = "czi"
    LIF = "lif"

    @property
    def is_vendor(self) -> bool:
        """A microscope vendor's format, read by its own reader (``images.vendor``)."""
        return self in (ImageFormat.CZI, ImageFormat.LIF)


_MAGIC: list[tuple[bytes, ImageFormat]] = [
    (b"II*\x00", ImageFormat.TIFF),
    (b"MM\x00*", ImageFormat.TIFF),
    (b"II+\x00", ImageFormat.TIFF),  # BigTIFF
    (b"MM\x00+", ImageFormat.TIFF),
    (b"\x89PNG\r\n\x1a\n", ImageFormat.PNG),
    (b"\xff\xd8\xff", ImageFormat.JPEG),
]

SUPPORTED = "TIFF (incl. OME-TIFF, ImageJ TIFF, BigTIFF), PNG, JPEG, Zeiss CZI or Leica LIF"


def check_readable_file(path: Path) -> None:
    """Raise InputError unless ``path`` is an existing, non-empty regular file."""
    if not path.exists():
        raise InputError("no such file", path=path, hint="check the path")
    if path.is_dir():
        raise InputError("is a directory, expected an image file", path=path)
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", path=path)


def detect_format(path: Path) -> ImageFormat:
    """Return the image format of ``path`` from its magic bytes."""
    check_readable_file(path)
    with path.open("rb") as handle:
        head = handle.read(16)
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    vendor = _vendor_from_head(head)
    if vendor is not None:
        return ImageFormat(vendor)
    raise InputError(
        f"not a supported image: the file starts with {head[:8]!r}",
        path=path,
        hint=f"expected {SUPPORTED}",
    )


_VENDOR_MAGIC = [(b"ZISRAWFILE", "czi")]


def detect_vendor(path: Path) -> str | None:
    """``"czi"`` (Zeiss) or ``"lif"`` (Leica) from the file's first bytes, else None."""
    check_readable_file(path)
    with path.open("rb") as handle:
        return _vendor_from_head(handle.read(16))


def _vendor_from_head(head: bytes) -> str | None:
    for magic, kind in _VENDOR_MAGIC:
        if head.startswith(magic):
            return kind
    # LIF: a 0x70 block marker, the block length, then 0x2A and the XML's UTF-16 length
    if len(head) >= 9 and head[:4] == b"\x70\x00\x00\x00" and head[8] == 0x2A:
        return "lif"
    return None
