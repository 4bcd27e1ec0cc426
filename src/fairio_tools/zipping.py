"""The one way folders go into zip archives: entries named inside the archive, the
compression chosen per file.

Text (JSON, XML, Markdown, YAML, Zarr metadata) is deflated; Zarr chunks and images are
compressed already and are stored as they are, so a reader (``zarr.storage.ZipStore``) reads
a chunk without inflating it twice.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from fairio_tools.confined import files_inside

DEFLATED_SUFFIXES = frozenset(
    {".json", ".jsonld", ".xml", ".ttl", ".tsv", ".csv", ".txt", ".md", ".yaml", ".yml", ".html"}
)
ZARR_METADATA = frozenset({"zarr.json", ".zattrs", ".zarray", ".zgroup", ".zmetadata"})


def compression(name: str) -> int:
    """``ZIP_DEFLATED`` for text and Zarr metadata, ``ZIP_STORED`` for everything else."""
    path = Path(name)
    text = path.suffix.lower() in DEFLATED_SUFFIXES or path.name in ZARR_METADATA
    return zipfile.ZIP_DEFLATED if text else zipfile.ZIP_STORED


def add_folder(archive: zipfile.ZipFile, folder: str | Path, prefix: str = "") -> int:
    """Add every file below ``folder`` (confined: links out, devices and FIFOs refused) as
        ``prefix/<relative path>``, Zarr metadata first, shallowest first, so that a reader finds
    the root's at once.
        Returns the number of files added."""
    files = list(files_inside(folder))
    files.sort(key=lambda e: (Path(e[0]).name not in ZARR_METADATA, e[0].count("/"), e[0]))
    for relative, real in files:
        name = f"{prefix.rstrip('/')}/{relative}" if prefix else relative
        archive.write(real, name, compress_type=compression(name))
    return len(files)
