"""Independent checks of OME-Zarr output: the official NGFF JSON schemas (as shipped by
ngff-zarr), ome-zarr-models and ome-zarr-py's reader, never our own reader."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import ngff_zarr
import zarr
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SCHEMAS = Path(ngff_zarr.__file__).parent / "spec"


@cache
def _registry(version: str) -> Registry:
    resources = []
    for path in sorted((SCHEMAS / version / "schemas").glob("*.schema")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema, DRAFT7)))
    return Registry().with_resources(resources)


def validate_schema(attributes: dict[str, Any], version: str, name: str) -> None:
    """Validate group attributes against ``<version>/schemas/<name>.schema``."""
    schema = json.loads((SCHEMAS / version / "schemas" / f"{name}.schema").read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class(schema, registry=_registry(version)).validate(attributes)


def stored_attributes(group_path: Path) -> dict[str, Any]:
    """Attributes as stored on disk (.zattrs for Zarr v2, zarr.json attributes for v3)."""
    if (group_path / "zarr.json").is_file():
        return json.loads((group_path / "zarr.json").read_text()).get("attributes", {})
    return json.loads((group_path / ".zattrs").read_text())


def validate_with_models(group_path: Path, version: str) -> Any:
    """Load the image group with ome-zarr-models (raises on any invalid field)."""
    group = zarr.open_group(str(group_path), mode="r")
    if version == "0.4":
        from ome_zarr_models.v04.image import Image
    else:
        from ome_zarr_models.v05.image import Image
    return Image.from_zarr(group)


def read_with_ome_zarr_py(group_path: Path) -> Any:
    """Level 0 of the image as ome-zarr-py's reader sees it (a dask array)."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    nodes = list(Reader(parse_url(str(group_path)))())
    images = [node for node in nodes if node.load(Multiscales)]
    assert images, f"ome-zarr-py found no image in {group_path}"
    return images[0].data[0]


def read_with_bioio(group_path: Path) -> Any:
    """The image as bioio-ome-zarr reads it (shape, dtype, physical sizes, channel names)."""
    from bioio_ome_zarr import Reader

    return Reader(str(group_path))
