"""Open a bioimage.io model package (zip or folder) safely and load its description offline.

A package is untrusted input: zip members are checked before anything is extracted (no
absolute paths, no ``..``, no links, no duplicates, bounded count, total size and inflation
ratio) and extraction stops as soon as a member inflates beyond what it declared. The
description is parsed by :mod:`fairio_tools.safe_yaml` before bioimage.io's own loader sees
it, test tensors are checked as ``.npy`` files (no pickled objects, no shapes larger than the
data), and every local file the description declares a sha256 for is hashed before it is
used. Descriptions are loaded without network access: remote files are never fetched.
"""

from __future__ import annotations

import hashlib
import math
import os
import posixpath
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fairio_tools import limits
from fairio_tools.confined import (
    ConfinementError,
    kind_inside,
    read_inside,
    resolve_inside,
    unsafe_path_reason,
)
from fairio_tools.errors import InputError
from fairio_tools.safe_yaml import MAX_YAML_BYTES, parse_yaml

DESCRIPTION_NAMES = ("bioimageio.yaml", "rdf.yaml")
"""File names a package's description may have (bioimage.io spec 0.5 and 0.4); failing
those, a folder's one ``*.bioimageio.yaml`` (as the spec's examples name them)."""
DESCRIPTION_SUFFIX = ".bioimageio.yaml"


MAX_MEMBERS = 10_000
"""Refuse zips with more members than this (read from the zip's end record, before parsing)."""
RATIO_FLOOR = 64 * 2**20
"""Below this many unpacked bytes (per member, or in all) the inflation ratio is not checked:
text and mostly-empty test tensors compress well, and so little cannot exhaust a disk."""
_CHUNK = 2**20


@dataclass(frozen=True)
class ModelPackage:
    """A model package on disk: the folder holding its description, where it came from, and
    the description as parsed by the safe YAML loader."""

    source: Path
    root: Path
    description: Path
    content: dict[str, Any]


@contextmanager
def open_model_package(source: str | Path) -> Iterator[ModelPackage]:
    """Yield the package at ``source`` (a zip is extracted to a temporary folder, then removed)."""
    source = Path(source)
    if not source.exists():
        raise InputError("no such file or folder", path=source, hint="check the path")
    # the files by absolute paths: a SavedModel loads in a working directory of its own
    if source.is_dir():
        yield _package(source, source.resolve())
        return
    if source.name.endswith((".yaml", ".yml")):  # one description of a package folder
        yield _package(source, source.parent.resolve(), source.resolve())
        return
    if not zipfile.is_zipfile(source):
        raise InputError(
            "not a model package",
            path=source,
            hint="expected a bioimage.io zip, a folder with bioimageio.yaml or rdf.yaml, or "
            "a description file",
        )
    with tempfile.TemporaryDirectory(prefix="fairio-model-") as temporary:
        root = Path(temporary)
        extract_zip_safely(source, root)
        yield _package(source, root)


def _package(source: Path, root: Path, description: Path | None = None) -> ModelPackage:
    description = description or _find_description(root, source)
    rel = description.relative_to(root).as_posix()
    try:  # bounded, and by the one safe loader: bioimage.io's own reader comes after
        content = parse_yaml(read_inside(root, rel, MAX_YAML_BYTES) or b"", description)
    except InputError as error:
        raise InputError(f"{rel}: {error.message}", path=source) from None
    if not isinstance(content, dict):
        raise InputError("the bioimage.io description is not a YAML mapping", path=source)
    package = ModelPackage(source, root, description, content)
    check_test_tensors(package)
    return package


def extract_zip_safely(archive: Path, target: Path) -> None:
    """Extract ``archive`` into ``target`` after checking every member; stream with a byte cap."""
    try:
        _check_member_count(archive)
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            _check_members(members, archive)
            written = 0
            for member in members:
                destination = target.joinpath(*PurePosixPath(member.filename).parts)
                if member.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, destination.open("xb") as sink:
                    member_bytes = 0
                    while chunk := source.read(_CHUNK):
                        member_bytes += len(chunk)
                        written += len(chunk)
                        if member_bytes > member.file_size or written > limits.MAX_MODEL_BYTES:
                            raise InputError(
                                f"zip member {member.filename!r} inflates beyond its declared "
                                "size: refused as a zip bomb",
                                path=archive,
                            )
                        sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError) as error:
        raise InputError(f"damaged zip archive: {error}", path=archive) from error
    except NotImplementedError as error:  # compression methods zipfile lacks
        raise InputError(f"unsupported zip archive: {error}", path=archive) from error
    except OSError as error:  # a member that is both a file and a folder, ...
        raise InputError(
            f"cannot unpack the zip archive: {error.strerror or error}", path=archive
        ) from error


def _check_member_count(archive: Path) -> None:
    """Refuse too many members before :class:`zipfile.ZipFile` builds an object for each."""
    with archive.open("rb") as handle:
        end = zipfile._EndRecData(handle)  # the stdlib reader of the end record
    if end is None:
        raise zipfile.BadZipFile("no end of central directory record")
    count = end[zipfile._ECD_ENTRIES_TOTAL]
    if count > MAX_MEMBERS:
        raise InputError(f"zip has {count} members (limit {MAX_MEMBERS})", path=archive)


def _check_members(members: list[zipfile.ZipInfo], archive: Path) -> None:
    if len(members) > MAX_MEMBERS:
        raise InputError(f"zip has {len(members)} members (limit {MAX_MEMBERS})", path=archive)
    total = packed = 0
    seen: set[str] = set()
    for member in members:
        name = member.filename
        reason = unsafe_path_reason(name.rstrip("/") if member.is_dir() else name)
        if reason:
            raise InputError(
                f"zip member {name!r} {reason}: refused (zip slip)",
                path=archive,
            )
        if name.rstrip("/") in seen:
            raise InputError(f"zip member {name!r} appears twice: refused", path=archive)
        seen.add(name.rstrip("/"))
        mode = member.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise InputError(f"zip member {name!r} is a symbolic link: refused", path=archive)
        total += member.file_size
        packed += member.compress_size
        _check_ratio(member.file_size, member.compress_size, f"zip member {name!r}", archive)
    if total > limits.MAX_MODEL_BYTES:
        raise InputError(
            f"zip would unpack to {total} bytes (limit {limits.MAX_MODEL_BYTES}): "
            "refused as a zip bomb",
            path=archive,
        )
    _check_ratio(total, packed, "the zip", archive)


def _check_ratio(size: int, packed: int, what: str, archive: Path) -> None:
    ratio = size / max(packed, 1)
    if size > RATIO_FLOOR and ratio > limits.MAX_MODEL_ZIP_RATIO:
        raise InputError(
            f"{what} inflates {ratio:.0f}-fold to {size} bytes "
            f"(limit {limits.MAX_MODEL_ZIP_RATIO}-fold): "
            "refused as a zip bomb",
            path=archive,
        )


def _find_description(root: Path, source: Path) -> Path:
    candidates = [root / name for name in DESCRIPTION_NAMES]
    subfolders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    if len(subfolders) == 1 and not any(c.is_file() for c in candidates):
        candidates += [subfolders[0] / name for name in DESCRIPTION_NAMES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    named = sorted(p for p in root.iterdir() if p.name.endswith(DESCRIPTION_SUFFIX) and p.is_file())
    if len(named) == 1:
        return named[0]
    if named:
        raise InputError(
            f"holds {len(named)} descriptions ({', '.join(p.name for p in named)})",
            path=source,
            hint="give the path of the description file to use",
        )
    raise InputError(
        "holds no bioimage.io description",
        path=source,
        hint=f"expected {' or '.join(DESCRIPTION_NAMES)} or one *{DESCRIPTION_SUFFIX} at the "
        "top of the package",
    )


def check_test_tensors(package: ModelPackage) -> None:
    """Check every local ``.npy`` file the description names: a plain array (no pickled
    objects) whose declared shape fits the data the file holds."""
    for source in sorted(_npy_sources(package.content)):
        path = local_file(package, source)
        if path is not None:
            check_npy(path, package.source, source)


def _npy_sources(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _npy_sources(value)
    elif isinstance(node, list):
        for value in node:
            yield from _npy_sources(value)
    elif isinstance(node, str) and node.lower().endswith(".npy") and not is_remote(node):
        yield node


def check_npy(path: Path, shown: Path, name: str) -> None:
    """Refuse ``path`` (``name`` in package ``shown``) unless it is a plain ``.npy`` array."""
    from numpy.lib import format as npy

    readers = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
    try:
        with path.open("rb") as handle:
            version = npy.read_magic(handle)
            if version not in readers:
                raise ValueError(f".npy format version {version} is not supported")
            shape, _, dtype = readers[version](handle)
            data_bytes = os.fstat(handle.fileno()).st_size - handle.tell()
    except (ValueError, SyntaxError, OSError, EOFError) as error:
        raise InputError(f"{name} is not a valid .npy array: {error}", path=shown) from None
    if dtype.hasobject:
        raise InputError(
            f"{name} holds Python objects (pickles), which are never loaded", path=shown
        )
    needed = math.prod(shape) * dtype.itemsize
    if needed > data_bytes:
        raise InputError(
            f"{name} declares shape {shape} of {dtype} ({needed} bytes) but holds only "
            f"{data_bytes} bytes of data",
            path=shown,
        )


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_remote(source: Any) -> bool:
    """Whether a description's file source is a URL rather than a file in the package."""
    return str(source).startswith(("http://", "https://"))


def local_file(package: ModelPackage, source: Any) -> Path | None:
    """The package file a relative ``source`` names, or None when remote or missing.

    Refuses sources that point outside the package folder or name something not a file.
    """
    if source is None or is_remote(source):
        return None
    rel = posixpath.normpath(str(source))
    root = package.description.parent
    try:
        kind = kind_inside(root, rel)
    except ConfinementError as error:
        raise InputError(
            f"file {str(source)!r} named in the description: {error.message}: refused",
            path=package.source,
        ) from None
    return Path(resolve_inside(root, rel)) if kind == "file" else None


def verify_sha256(package: ModelPackage, source: Any, expected: Any, field: str) -> str:
    """Hash the local file ``source`` and compare with the declared ``expected`` sha256."""
    path = local_file(package, source)
    if path is None:
        raise InputError(f"{source} is not in the package", path=package.source, field=field)
    actual = sha256_of(path)
    if expected is not None and str(expected) != actual:
        raise InputError(
            f"sha256 of {source} is {actual}, but the description declares {expected}",
            path=package.source,
            field=field,
            hint="the file was altered or the package is corrupt: get the model again",
        )
    return actual
