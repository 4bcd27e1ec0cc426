"""An OME-Zarr store as one zip file, for downloading and sharing.

The store's root is the archive's root (as ``zarr.storage.ZipStore`` and the zipped OME-Zarr
proposal expect), its Zarr metadata first; chunks are stored, not deflated again. Unzipped
into a folder (``unzip image.zip -d image.ome.zarr``), it is the store again, byte for byte.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from fairio_tools.atomic import atomic_path
from fairio_tools.errors import InputError
from fairio_tools.ngff.format import detect_format
from fairio_tools.ngff.store import open_root, reading
from fairio_tools.zipping import add_folder


@dataclass
class ZippedStore:
    store: str
    zip: str
    files: int
    bytes: int
    ngff_version: str

    def to_dict(self) -> dict[str, object]:
        return dict(vars(self))


def zip_store(store: Path, target: Path, *, overwrite: bool = False) -> ZippedStore:
    """Write the local OME-Zarr ``store`` (a folder) as the zip ``target``, atomically."""
    if not store.is_dir():
        raise InputError("is not an OME-Zarr folder", path=store)
    root = open_root(str(store))  # confined; refuses an interrupted write
    with reading(str(store)):
        fmt = detect_format(root.attrs.asdict(), root.metadata.zarr_format)
    if fmt is None:
        raise InputError("holds no OME-NGFF metadata at its root", path=store)
    with atomic_path(target, overwrite=overwrite) as temporary:
        with zipfile.ZipFile(temporary, "w", allowZip64=True) as archive:
            files = add_folder(archive, store)
        size = temporary.stat().st_size
    return ZippedStore(str(store), str(target), files, size, fmt.version)
