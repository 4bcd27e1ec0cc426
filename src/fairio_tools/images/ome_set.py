"""Multi-file OME-TIFF: one image whose planes lie in several TIFF files of one folder.

A set is given as its folder (holding one ``*.companion.ome``), as a zip of it (``unpacked``),
as the companion file, or as any OME-TIFF of it (whose OME-XML lists the others, or names
the companion in ``BinaryOnly``). Every file the OME-XML names
(``<TiffData><UUID FileName=...>``) is looked up only inside the folder of what was given
(``confined``: no absolute paths, no ``..``, no links out, regular files only), and is
read through the same checks as any TIFF. A name that leads outside counts as missing. When
a file is missing, the set is not assembled: a folder, zip or companion file is refused; a
given OME-TIFF converts its own planes and the notes say how many planes of the set are
missing.

Planes are placed as the OME model says: ``TiffData`` puts ``PlaneCount`` IFDs from ``IFD``
on, starting at (``FirstZ``, ``FirstC``, ``FirstT``) and advancing in ``DimensionOrder``.
"""

from __future__ import annotations

import math
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.confined import (
    ConfinementError,
    kind_inside,
    read_inside,
    resolve_inside,
    unsafe_path_reason,
)
from fairio_tools.errors import InputError
from fairio_tools.images.ome_xml import parse_ome_root

COMPANION_SUFFIX = ".companion.ome"


@dataclass
class SetSeries:
    """One OME ``Image`` of a set: its t, c, z, y, x shape and where each plane is stored."""

    shape: tuple[int, int, int, int, int]
    dtype: str
    planes: dict[tuple[int, int, int], tuple[str, int]]
    """(t, c, z) -> (file name inside the folder, IFD)."""


@dataclass
class OmeSet:
    folder: Path
    xml: str
    series: list[SetSeries]
    files: list[str]
    missing_files: list[str] = field(default_factory=list)
    missing_planes: int = 0
    member: bool = False
    """Given as one OME-TIFF of the set (not its folder, zip or companion file)."""

    @property
    def complete(self) -> bool:
        return not self.missing_files and self.missing_planes == 0


def find_set(path: Path) -> OmeSet | None:
    """The multi-file set ``path`` stands for, or None when it is a single-file image."""
    if path.is_dir():
        companions = sorted(p.name for p in path.iterdir() if p.name.endswith(COMPANION_SUFFIX))
        if not companions:
            return None  # not a set: refused as a folder by ``formats``
        if len(companions) > 1:
            raise InputError(
                f"folder holds {len(companions)} '*{COMPANION_SUFFIX}' files, expected one",
                path=path,
                hint="give the folder of one multi-file OME-TIFF set, or one of its files",
            )
        return _from_xml(path, _read_text(path, companions[0]))
    with path.open("rb") as stream:
        head = stream.read(64).lstrip()
    if head.startswith((b"<?xml", b"<OME")):
        return _from_xml(path.parent, _read_text(path.parent, path.name), where=path)
    return _from_member(path)


def complete_set(path: Path) -> OmeSet | None:
    """The set ``path`` stands for when all its files are there, else None."""
    if not (path.is_dir() or (path.is_file() and path.stat().st_size)):
        return None
    oset = find_set(path)
    return oset if oset is not None and oset.complete else None


def _read_text(folder: Path, name: str) -> str:
    data = read_inside(folder, name, limits.MAX_OME_XML_BYTES)
    if data is None:
        raise InputError(f"the set names {name!r}, which is not in its folder", path=folder)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{name!r} is not UTF-8 OME-XML", path=folder) from error


def _from_member(path: Path) -> OmeSet | None:
    from fairio_tools.images.formats import ImageFormat, detect_format
    from fairio_tools.images.reading import decoding, open_tiff

    if detect_format(path) is not ImageFormat.TIFF:
        return None
    with open_tiff(path) as tif, decoding(path, "TIFF"):
        text = (tif.ome_metadata or "") if tif.is_ome else ""
    if not text:
        return None
    root = parse_ome_root(text, path)
    binary_only = root.find("{*}BinaryOnly")
    if binary_only is not None:
        name = binary_only.get("MetadataFile") or ""
        try:
            present = kind_inside(path.parent, name) == "file"
        except ConfinementError:
            present = False
        if not present:
            return OmeSet(path.parent, text, [], [name], [name], member=True)
        oset = _from_xml(path.parent, _read_text(path.parent, name), where=path)
    else:
        names = {u.get("FileName") for u in root.findall(".//{*}TiffData/{*}UUID")}
        if not names - {None, path.name}:
            return None
        oset = _from_xml(path.parent, text, own=path.name, where=path)
    oset.member = True
    return oset


def _from_xml(folder: Path, text: str, own: str | None = None, where: Path | None = None) -> OmeSet:
    """The set the OME-XML ``text`` describes; errors name ``where`` (the file given)."""
    where = where or folder
    root = parse_ome_root(text, where)
    series, files = [], []
    missing_planes = 0
    for pixels in root.findall("{*}Image/{*}Pixels"):
        sizes = {a: _size(pixels, a, where) for a in "TCZYX"}
        shape = (sizes["T"], sizes["C"], sizes["Z"], sizes["Y"], sizes["X"])
        limits.enforce("FAIRIO_MAX_OME_PLANES", math.prod(shape[:3]), "planes in a set", where)
        order = (pixels.get("DimensionOrder") or "XYZCT")[2:]
        planes: dict[tuple[int, int, int], tuple[str, int]] = {}
        for tiff_data in pixels.findall("{*}TiffData"):
            uuid = tiff_data.find("{*}UUID")
            name = (uuid.get("FileName") if uuid is not None else None) or own
            if not name:
                continue
            if name not in files:
                files.append(name)
            first = {a: _int(tiff_data, f"First{a}", where) for a in "ZCT"}
            ifd = _int(tiff_data, "IFD", where)
            count = _int(tiff_data, "PlaneCount", where, default=1)
            start = _linear(first, order, sizes)
            for k in range(min(count, math.prod(shape[:3]) - start)):
                index = _unravel(start + k, order, sizes)
                planes[(index["T"], index["C"], index["Z"])] = (name, ifd + k)
        missing_planes += math.prod(shape[:3]) - len(planes)
        series.append(SetSeries(shape, pixels.get("Type") or "uint8", planes))
    missing = [name for name in files if not _present(folder, name)]
    return OmeSet(folder, text, series, files, missing, missing_planes)


def _present(folder: Path, name: str) -> bool:
    """Whether ``name`` is a regular file inside ``folder``; a name that leads outside it
    (absolute, ``..``, a link out) counts as missing and is never opened."""
    try:
        return kind_inside(folder, name) == "file"
    except ConfinementError:
        return False


def _size(pixels: Any, axis: str, folder: Path) -> int:
    value = _int(pixels, f"Size{axis}", folder, default=1)
    if value < 1:
        raise InputError(f"OME-XML Size{axis}={str(value)!r} is not a plausible size", path=folder)
    return value


def _int(element: Any, name: str, folder: Path, default: int = 0) -> int:
    text = element.get(name)
    if text is None:
        return default
    if not text.strip().isdigit():
        raise InputError(f"OME-XML {name}={text!r} is not a count", path=folder)
    return int(text)


def _linear(index: dict[str, int], order: str, sizes: dict[str, int]) -> int:
    position, stride = 0, 1
    for axis in order:
        position += index[axis] * stride
        stride *= sizes[axis]
    return position


def _unravel(position: int, order: str, sizes: dict[str, int]) -> dict[str, int]:
    index = {}
    for axis in order:
        index[axis], position = position % sizes[axis], position // sizes[axis]
    return index


class SetRegions:
    """Array-like (t, c, z, y, x) view of one series of a complete set: reads only the
    planes a region touches, each file opened confined to the set's folder."""

    def __init__(self, oset: OmeSet, series: int) -> None:
        self.folder = str(oset.folder)
        described = oset.series[series]
        self.planes = described.planes
        self.shape = described.shape
        self.dtype = np.dtype(described.dtype)
        self.ndim = 5

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray:
        from fairio_tools.images.reading import check_decoded_size, decoding, open_tiff

        ranges = [range(*s.indices(n)) for s, n in zip(region[:3], self.shape[:3], strict=True)]
        y, x = region[3], region[4]
        height, width = (
            len(range(*s.indices(n))) for s, n in zip((y, x), self.shape[3:], strict=True)
        )
        out = np.zeros([len(r) for r in ranges] + [height, width], self.dtype)
        for i, t in enumerate(ranges[0]):
            for j, c in enumerate(ranges[1]):
                for k, z in enumerate(ranges[2]):
                    name, ifd = self.planes[(t, c, z)]
                    path = Path(resolve_inside(self.folder, name))
                    check_decoded_size(path, self.shape[3] * self.shape[4] * self.dtype.itemsize)
                    with open_tiff(path) as tif, decoding(path, "TIFF"):
                        out[i, j, k] = tif.pages[ifd].asarray()[y, x]
        return out


ZIP_MAGIC = b"PK\x03\x04"
MAX_ZIP_MEMBERS = 10_000


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """``path`` itself, or for a zip (recognised by its first bytes) the folder of the set it
    holds, extracted into a temporary folder removed on exit: member names checked as any
    path inside a folder (``confined``), links and special files refused, members and bytes
    bounded (``FAIRIO_MAX_DECODED_BYTES`` in all, counted as they are written)."""
    if not path.is_file():
        yield path
        return
    with path.open("rb") as stream:
        if stream.read(4) != ZIP_MAGIC:
            yield path
            return
    with tempfile.TemporaryDirectory(prefix="fairio-set-") as folder:
        _extract(path, Path(folder))
        companions = sorted(Path(folder).rglob(f"*{COMPANION_SUFFIX}"))
        if len(companions) != 1:
            raise InputError(
                f"zip holds {len(companions)} '*{COMPANION_SUFFIX}' files, expected one",
                path=path,
                hint="zip the files of one multi-file OME-TIFF set with its companion file",
            )
        yield companions[0].parent


def _extract(path: Path, folder: Path) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"cannot be read as a zip: {error}", path=path) from error
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise InputError(
                f"zip of {len(members)} members, more than {MAX_ZIP_MEMBERS}", path=path
            )
        budget = limits.MAX_DECODED_BYTES
        for member in members:
            name = member.filename.rstrip("/")
            reason = unsafe_path_reason(name)
            if reason:
                raise InputError(f"zip member {member.filename!r} {reason}", path=path)
            kind = stat.S_IFMT(member.external_attr >> 16)
            if member.is_dir():
                continue
            if kind not in (0, stat.S_IFREG):
                raise InputError(f"zip member {name!r} is a link or special file", path=path)
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(member) as source, target.open("xb") as out:
                    while block := source.read(1 << 20):
                        budget -= len(block)
                        if budget < 0:
                            raise InputError(
                                "zip unpacks to more bytes than this server decodes",
                                path=path,
                                hint=limits.refusal_hint(
                                    "FAIRIO_MAX_DECODED_BYTES", limits.MAX_DECODED_BYTES
                                ),
                            )
                        out.write(block)
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as error:
                raise InputError(
                    f"zip member {name!r} cannot be read: {error}", path=path
                ) from None
