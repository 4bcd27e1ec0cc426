"""Validate an OME-Zarr store (NGFF 0.4 and 0.5): images, labels, HCS plates and wells.

Two layers of checks, both offline:

1. the official NGFF JSON Schemas on every group's attributes;
2. what the schemas cannot express: dataset paths stay inside the store and point at arrays,
   array ranks match the axes, scales have one value per axis, pyramid levels shrink, axes are in
   the order the spec requires, ``omero`` channels and label images match their image, plate
   wells exist where rows and columns say, and chunks decode (a sample, or all with ``deep``).

The words of the spec decide the severity: a MUST broken is an error, a SHOULD broken or a
suspicious value is a named warning. Zarr metadata is read as plain JSON, so a broken store
yields findings, never a traceback.

A store may be hostile: every document and chunk is read only if it is a regular file inside
the store (see :mod:`fairio_tools.confined`), metadata is bounded in size, and the lists the
walk follows (multiscales, datasets, labels, wells, fields, series) and the number of groups and
arrays it reads are bounded, so that a crafted store yields an error finding, never a hang.
"""

from __future__ import annotations

import os
from pathlib import Path

from fairio_tools.errors import InputError
from fairio_tools.findings import Report
from fairio_tools.ngff.validate.bioformats2raw import Bioformats2rawChecks
from fairio_tools.ngff.validate.coordinate_systems import CoordinateSystemChecks
from fairio_tools.ngff.validate.labels import LabelChecks
from fairio_tools.ngff.validate.multiscales import MultiscaleChecks
from fairio_tools.ngff.validate.plate import PlateChecks
from fairio_tools.ngff.validate.transformations import TransformationChecks
from fairio_tools.ngff.validate.traversal import (
    MAX_FINDINGS_PER_CODE,
    MAX_LIST_ENTRIES,
    MAX_LISTED,
    MAX_VISITS,
    Options,
    Traversal,
)
from fairio_tools.ngff.zarr_metadata import MetadataError, ZarrNode, has_zarr_metadata, read_json
from fairio_tools.threads import default_jobs

__all__ = [
    "MAX_FINDINGS_PER_CODE",
    "MAX_LISTED",
    "MAX_LIST_ENTRIES",
    "MAX_VISITS",
    "validate_attributes",
    "validate_ngff",
]


def validate_ngff(
    store: Path,
    *,
    deep: bool = False,
    workers: int | None = None,
    strict: bool = False,
    metadata_only: bool = False,
) -> Report:
    """Check ``store`` and return every finding; raise :class:`InputError` if it is no store.

    ``strict`` makes SHOULD-level rules errors; ``metadata_only`` checks the root group's
    metadata alone (the paths it names are checked, not followed).
    """
    store = Path(store)
    if not store.exists():
        raise InputError("no such file or directory", path=store)
    if not store.is_dir():
        raise InputError(
            "not a directory", path=store, hint="an OME-Zarr store is a folder; unzip it first"
        )
    if not has_zarr_metadata(store):
        raise InputError(
            "not a Zarr store (no zarr.json, .zgroup, .zattrs or .zarray)",
            path=store,
            hint="give the folder that holds the root metadata of the store",
        )
    options = Options(deep, workers or default_jobs(), strict, metadata_only)
    return StoreValidator(store, options).run()


def validate_attributes(document: Path, *, strict: bool = False) -> Report:
    """Check one attributes document (a JSON file holding a group's attributes, as the
    ``attributes`` of a ``zarr.json`` or a ``.zattrs``) as the root group of a store: NGFF
    0.5 and later nest them under ``"ome"`` (Zarr v3), 0.4 does not (Zarr v2)."""
    document = Path(document)
    if not document.is_file():
        what = "no such file" if not os.path.lexists(document) else "not a regular file"
        raise InputError(what, path=document, hint="give a JSON attributes document")
    options = Options(strict=strict, metadata_only=True)
    try:
        attributes = read_json(document, document.name, document.parent)
        if not isinstance(attributes, dict):
            raise MetadataError(document.name, "is not a JSON object")
    except MetadataError as error:
        validator = StoreValidator(document, options, root_node=False)
        validator.error(error.code, error.message, error.file, error.pointer)
        return validator.run()
    zarr_format = 3 if isinstance(attributes.get("ome"), dict) else 2
    node = ZarrNode("", zarr_format, "group", attributes, document.name)
    return StoreValidator(document, options, root_node=node).run()


class StoreValidator(
    Traversal,
    MultiscaleChecks,
    TransformationChecks,
    CoordinateSystemChecks,
    LabelChecks,
    PlateChecks,
    Bioformats2rawChecks,
):
    """Every check of the spec, one mixin per spec object, over one walk of a store."""
