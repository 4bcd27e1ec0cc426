"""The one way to open a user's image file: on its own, bounded, errors naming the file.

* ``open_tiff`` opens a TIFF as a single file: tifffile would otherwise open the other files
  a multi-file OME-TIFF (``<UUID FileName=...>``), a Micro-Manager stack (``*_MMStack*.tif``)
  or an NDTiff dataset (``NDTiff.index``) names, anywhere on the disk.
* ``open_pillow`` opens a PNG or JPEG and refuses one with more than ``MAX_IMAGE_PIXELS``
  or whose decoded pixels would exceed ``MAX_DECODED_BYTES``, before decoding anything.
* ``open_vendor`` opens a Zeiss CZI (czifile) or Leica LIF (liffile) file alone, once per
  process and version of the file: its headers, directory and XML are parsed once and its
  reader is shared, one caller at a time; ``vendor_metadata`` gives its metadata XML tree.
* ``read_whole`` decodes one whole series of any supported format (``images.vendor`` for
  CZI and LIF); ``images.pixels`` reads regions lazily.
* ``decoding`` turns whatever a codec or tifffile raises on corrupt data into an InputError.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.errors import FairioError, InputError

_SINGLE_FILE = {"_multifile": False, "is_mmstack": False, "is_ndtiff": False}
"""tifffile options that keep it inside the one file it was given."""

PILLOW_MODES = {
    "1": ("bool", 1), "L": ("uint8", 1), "P": ("uint8", 1), "LA": ("uint8", 2),
    "RGB": ("uint8", 3), "RGBA": ("uint8", 4), "CMYK": ("uint8", 4), "YCbCr": ("uint8", 3),
    "I;16": ("uint16", 1), "I;16B": ("uint16", 1), "I": ("int32", 1), "F": ("float32", 1),
}  # fmt: skip
"""Pillow mode -> (NumPy dtype, values per pixel) of the array it decodes to."""


def _reason(error: BaseException) -> str:
    """The error's text on one short line."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@contextmanager
def decoding(path: Path, what: str) -> Iterator[None]:
    """Report any failure of the libraries reading ``path`` as a corrupt ``what`` file."""
    try:
        yield
    except (FairioError, MemoryError):
        raise
    except Exception as error:  # tifffile, imagecodecs and Pillow raise many kinds
        raise InputError(
            f"cannot be read as {what}: {_reason(error)}",
            path=path,
            hint="the file is corrupt, truncated or uses an unsupported layout",
        ) from error


@contextmanager
def open_tiff(path: Path) -> Iterator[Any]:
    """``tifffile.TiffFile`` for ``path`` alone; errors while opening are InputErrors."""
    import tifffile

    with decoding(path, "TIFF"):
        tif = tifffile.TiffFile(path, **_SINGLE_FILE)
    with tif:
        yield tif


@contextmanager
def open_pillow(path: Path, what: str) -> Iterator[Any]:
    """A Pillow image of ``path`` whose decoded size has been checked (nothing decoded yet)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = limits.MAX_IMAGE_PIXELS  # Pillow's own guard, for every caller
    with decoding(path, what), warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below
        try:
            image = Image.open(path)
        except Image.DecompressionBombError:  # more than twice the limit
            raise _too_many_pixels(path, "far more") from None
    with image:
        dtype, values = PILLOW_MODES.get(image.mode, ("uint8", len(image.mode)))
        width, height = image.size
        if width * height > limits.MAX_IMAGE_PIXELS:
            raise _too_many_pixels(path, f"{width} x {height}")
        check_decoded_size(path, width * height * values * np.dtype(dtype).itemsize)
        if image.format == "JPEG":
            _check_jpeg_scans(path)
        yield image


MAX_JPEG_SCANS = 100
"""A progressive JPEG has about ten scans; each costs a pass over the whole image, so a file
of thousands of (tiny) scans takes minutes to decode."""


def _check_jpeg_scans(path: Path) -> None:
    # 0xFF is always followed by 0x00 inside entropy-coded data, so FF DA is a scan marker
    with path.open("rb") as stream:
        scans = stream.read(limits.MAX_DECODED_BYTES).count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS:
        raise InputError(f"JPEG of {scans} scans, more than {MAX_JPEG_SCANS}", path=path)


def _too_many_pixels(path: Path, declared: str) -> InputError:
    return InputError(
        f"declares {declared} pixels, more than this server decodes",
        path=path,
        hint=limits.refusal_hint("FAIRIO_MAX_IMAGE_PIXELS", limits.MAX_IMAGE_PIXELS),
    )


def check_decoded_size(path: Path, nbytes: int) -> None:
    """Refuse to decode more than ``MAX_DECODED_BYTES`` at once."""
    if nbytes > limits.MAX_DECODED_BYTES:
        raise InputError(
            f"decoding it would need {nbytes} bytes of memory, more than this server allows",
            path=path,
            hint=limits.refusal_hint("FAIRIO_MAX_DECODED_BYTES", limits.MAX_DECODED_BYTES),
        )


_VENDOR_LOCK = threading.RLock()


@functools.lru_cache(maxsize=8)
def _vendor_reader(path: str, kind: str, mtime_ns: int, size: int) -> Any:
    """The open czifile or liffile reader of one version of a file (cached per process)."""
    if kind == "czi":
        import czifile

        return czifile.CziFile(path, multifile=False)  # a CZI's other parts are never read
    import liffile

    return liffile.LifFile(path)


@contextmanager
def open_vendor(path: Path, kind: str) -> Iterator[Any]:
    """The reader of the CZI (``kind`` "czi") or LIF ("lif") file ``path``, opened once per
    process and version of the file; held by one caller at a time (the reader has one file
    position). Errors, while opening or inside the block, are InputErrors naming the file."""
    with _VENDOR_LOCK, decoding(path, kind.upper()):
        stat = path.stat()
        yield _vendor_reader(str(path), kind, stat.st_mtime_ns, stat.st_size)


MAX_TIME_STAMPS = 2**20
"""The most time points a CZI's ``TimeStamps`` attachment is read for (8 bytes each)."""


def czi_time_stamps(path: Path) -> np.ndarray | None:
    """The seconds of a CZI's ``TimeStamps`` attachment (one per time point, from the start
    of the acquisition); None when it has none or declares more than ``MAX_TIME_STAMPS``."""
    with open_vendor(path, "czi") as czi, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # czifile warns when a CZI has no attachments at all
        for attachment in czi.attachments():
            entry = attachment.attachment_entry
            if entry.name != "TimeStamps" or entry.content_file_type != "CZTIMS":
                continue
            if not 8 <= attachment.data_size <= 8 * (MAX_TIME_STAMPS + 1):
                return None
            raw = attachment.data(raw=True)
            count = min(int.from_bytes(raw[4:8], "little", signed=True), (len(raw) - 8) // 8)
            return np.frombuffer(raw, "<f8", count=max(count, 0), offset=8)
    return None


def vendor_metadata(path: Path, kind: str) -> Any:
    """The root element of the vendor XML of a Zeiss CZI or Leica LIF file (its metadata
    only, no pixels), parsed once: a LIF's is the tree liffile built while opening the file
    (the C parser that ``ome_xml.parse_xml`` uses for a document without a DTD). Bounded by
    ``MAX_OME_XML_BYTES``; InputError if the XML is malformed or hostile."""
    from defusedxml.common import DefusedXmlException

    from fairio_tools.images.ome_xml import parse_xml

    with open_vendor(path, kind) as reader:
        text = (reader.metadata(raw=True) or "") if kind == "czi" else reader.xml_header()
        if len(text) > limits.MAX_OME_XML_BYTES:
            raise InputError(
                f"{kind.upper()} metadata of {len(text)} characters, more than this server parses",
                path=path,
                hint=limits.refusal_hint("FAIRIO_MAX_OME_XML_BYTES", limits.MAX_OME_XML_BYTES),
            )
        if kind == "lif" and "<!DOCTYPE" not in text:
            return reader.xml_element
    try:
        return parse_xml(text)
    except (SyntaxError, DefusedXmlException) as error:  # ParseError is a SyntaxError
        raise InputError(
            f"{kind.upper()} metadata XML cannot be parsed: {error}", path=path
        ) from error


def read_whole(path: Path, series: int, nbytes: int) -> np.ndarray:
    """All pixels of one series (``nbytes`` as image-info declares them), decoded at once."""
    from fairio_tools.images.formats import ImageFormat, detect_format
    from fairio_tools.images.ome_set import SetRegions, complete_set

    check_decoded_size(path, nbytes)
    oset = complete_set(path)
    if oset is not None:
        return SetRegions(oset, series)[(slice(None),) * 5]
    fmt = detect_format(path)
    if fmt.is_vendor:
        from fairio_tools.images.vendor import VendorRegions, vendor_series

        source = VendorRegions(path, fmt.value, vendor_series(path, fmt.value)[series])
        return source[(slice(None),) * source.ndim]
    if fmt is ImageFormat.TIFF:
        with open_tiff(path) as tif, decoding(path, "TIFF"):
            return tif.series[series].asarray()
    what = fmt.value.upper()
    with open_pillow(path, what) as image, decoding(path, what):
        return np.asarray(image)  # palette images keep their indices, as image-info says
