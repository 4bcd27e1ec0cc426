"""INTERIM minimal NGFF check used by ``fairio bundle`` until ``fairio_tools.ngff.validate`` lands.

Only :func:`check_store` is used by the bundle code; swap its body for a call to the
full validator (branch ``validate``) and delete this module. It reads the Zarr JSON
metadata (v2 ``.zattrs``/``.zarray``, v3 ``zarr.json``) without loading pixels and checks
that a multiscales image exists, its datasets are arrays and their rank matches the axes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

VALIDATOR = "fairio-tools minimal NGFF check (interim)"


@dataclass
class StoreCheck:
    """What the check found for one store: valid when ``errors`` is empty."""

    store: str
    ngff_version: str | None = None
    image_path: str = ""
    axes: list[str] = field(default_factory=list)
    shape: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    validator: str = VALIDATOR

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, **asdict(self)}


def _attributes(node: Path) -> dict[str, Any] | None:
    """Attributes of a Zarr group or array (v2 or v3), or None when it is not one."""
    v3 = node / "zarr.json"
    if v3.is_file():
        attrs = json.loads(v3.read_text(encoding="utf-8")).get("attributes", {})
        return attrs.get("ome", attrs)
    v2 = node / ".zattrs"
    if v2.is_file():
        return json.loads(v2.read_text(encoding="utf-8"))
    return {} if (node / ".zgroup").is_file() else None


def _array_shape(node: Path) -> list[int] | None:
    for name in ("zarr.json", ".zarray"):
        meta = node / name
        if meta.is_file():
            data = json.loads(meta.read_text(encoding="utf-8"))
            if name == ".zarray" or data.get("node_type") == "array":
                return [int(n) for n in data["shape"]]
    return None


def check_store(store: Path) -> StoreCheck:
    """Check that ``store`` is a readable OME-Zarr image (bioformats2raw layout allowed)."""
    result = StoreCheck(store=store.name)
    try:
        attrs = _attributes(store)
        if attrs is None:
            result.errors.append("not a Zarr group (no zarr.json, .zattrs or .zgroup)")
            return result
        image = store
        if "multiscales" not in attrs and "bioformats2raw.layout" in attrs:
            image, result.image_path = store / "0", "0"  # first series of the layout
            attrs = _attributes(image) or {}
        multiscales = attrs.get("multiscales")
        if not isinstance(multiscales, list) or not multiscales:
            result.errors.append("no 'multiscales' metadata: not an OME-Zarr image")
            return result
        first = multiscales[0]
        result.ngff_version = first.get("version") or attrs.get("version")
        result.axes = [axis.get("name", "?") for axis in first.get("axes", [])]
        datasets = first.get("datasets") or []
        if not datasets:
            result.errors.append("multiscales has no datasets")
        for dataset in datasets:
            path = str(dataset.get("path", ""))
            if not path or path.startswith("/") or ".." in Path(path).parts:
                result.errors.append(f"dataset path {path!r} is not relative to the image")
                continue
            shape = _array_shape(image / path)
            if shape is None:
                result.errors.append(f"dataset {path!r} is not a Zarr array")
            elif result.axes and len(shape) != len(result.axes):
                result.errors.append(
                    f"dataset {path!r} has {len(shape)} dimensions but {len(result.axes)} axes"
                )
            elif not result.shape:
                result.shape = shape
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        result.errors.append(f"unreadable Zarr metadata: {error}")
    return result
