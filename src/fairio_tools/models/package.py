"""Open a bioimage.io model package (zip or folder) safely and load its description offline.

A package is untrusted input: zip members are checked before anything is extracted (no
absolute paths, no ``..``, no links, bounded sizes), and every local file the description
declares a sha256 for is hashed before it is used. Descriptions are loaded without network
access: remote files (weights only published at a URL, citation links) are never fetched.
"""

from __future__ import annotations

import hashlib
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fairio_tools.errors import InputError

DESCRIPTION_NAMES = ("bioimageio.yaml", "rdf.yaml")
"""File names a package's description may have (bioimage.io spec 0.5 and 0.4)."""

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 16 * 2**30
"""Refuse packages that would unpack to more than this (real models are far smaller)."""
MAX_RATIO = 200
"""Refuse members that inflate more than this many times (and by more than 64 MiB)."""
_RATIO_FLOOR = 64 * 2**20
_CHUNK = 2**20


@dataclass(frozen=True)
class ModelPackage:
    """A model package on disk: the folder holding its description, and where it came from."""

    source: Path
    root: Path
    description: Path


@contextmanager
def open_model_package(source: str | Path) -> Iterator[ModelPackage]:
    """Yield the package at ``source`` (a zip is extracted to a temporary folder, then removed)."""
    source = Path(source)
    if not source.exists():
        raise InputError("no such file or folder", path=source, hint="check the path")
    if source.is_dir():
        yield ModelPackage(source, source, _find_description(source, source))
        return
    if not zipfile.is_zipfile(source):
        raise InputError(
            "not a model package",
            path=source,
            hint="expected a bioimage.io zip or a folder with bioimageio.yaml or rdf.yaml",
        )
    with tempfile.TemporaryDirectory(prefix="fairio-model-") as temporary:
        root = Path(temporary)
        extract_zip_safely(source, root)
        yield ModelPackage(source, root, _find_description(root, source))


def extract_zip_safely(archive: Path, target: Path) -> None:
    """Extract ``archive`` into ``target`` after checking every member; stream with a byte cap."""
    try:
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
                with bundle.open(member) as source, destination.open("wb") as sink:
                    member_bytes = 0
                    while chunk := source.read(_CHUNK):
                        member_bytes += len(chunk)
                        written += len(chunk)
                        if member_bytes > member.file_size or written > MAX_TOTAL_BYTES:
                            raise InputError(
                                f"zip member {member.filename!r} inflates beyond its declared "
                                "size: refused as a zip bomb",
                                path=archive,
                            )
                        sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise InputError(f"damaged zip archive: {error}", path=archive) from error


def _check_members(members: list[zipfile.ZipInfo], archive: Path) -> None:
    if len(members) > MAX_MEMBERS:
        raise InputError(f"zip has {len(members)} members (limit {MAX_MEMBERS})", path=archive)
    total = 0
    for member in members:
        name = member.filename
        parts = PurePosixPath(name).parts
        if (
            not parts
            or name.startswith(("/", "\\"))
            or "\\" in name
            or ":" in parts[0]
            or ".." in parts
        ):
            raise InputError(
                f"zip member {name!r} points outside the package: refused (zip slip)",
                path=archive,
            )
        mode = member.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise InputError(f"zip member {name!r} is a symbolic link: refused", path=archive)
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR and ratio > MAX_RATIO:
            raise InputError(
                f"zip member {name!r} inflates {ratio:.0f}-fold to {member.file_size} bytes: "
                "refused as a zip bomb",
                path=archive,
            )
    if total > MAX_TOTAL_BYTES:
        raise InputError(
            f"zip would unpack to {total} bytes (limit {MAX_TOTAL_BYTES}): refused as a zip bomb",
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
    raise InputError(
        "holds no bioimage.io description",
        path=source,
        hint=f"expected {' or '.join(DESCRIPTION_NAMES)} at the top of the package",
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

    Refuses sources that point outside the package folder.
    """
    if source is None or is_remote(source):
        return None
    root = package.description.parent.resolve()
    path = (root / str(source)).resolve()
    if not path.is_relative_to(root):
        raise InputError(
            f"file {str(source)!r} points outside the package: refused",
            path=package.source,
        )
    return path if path.is_file() else None


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
