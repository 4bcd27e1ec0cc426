"""The official OME-NGFF JSON Schemas (0.4, 0.5, 0.6rc0), shipped in the package, used offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from fairio_tools.ngff.format import ZARR_FORMAT_OF_VERSION

SUPPORTED_VERSIONS = tuple(ZARR_FORMAT_OF_VERSION)
SCHEMA_KINDS = ("image", "label", "plate", "well", "bf2raw", "ome")
_BASE = "https://ngff.openmicroscopy.org"


@cache
def _registry():
    from referencing import Registry, Resource

    resources = []
    for version in SUPPORTED_VERSIONS:
        for entry in files("fairio_tools.ngff").joinpath("schemas", version).iterdir():
            if entry.name.endswith(".schema.json"):
                contents = json.loads(entry.read_text(encoding="utf-8"))
                resource = Resource.from_contents(contents)
                # Each schema under its own $id and under its versioned URL ("latest" ids in 0.4).
                stem = entry.name.removesuffix(".json")
                resources.append((contents["$id"], resource))
                resources.append((f"{_BASE}/{version}/schemas/{stem}", resource))
    return Registry().with_resources(resources)


@cache
def _validator(version: str, kind: str):
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    uri = f"{_BASE}/{version}/schemas/{kind}.schema"
    schema = _registry().contents(uri)
    validator = extend(Draft202012Validator, {"uniqueItems": _unique_items})
    return validator(schema, registry=_registry())


def _unique_items(validator, unique: bool, instance: Any, schema: Any):
    """``uniqueItems`` in linear time: jsonschema compares every pair of items, which takes
    half a minute for the wells of a 1,536-well plate (and half an hour for 10,000)."""
    from jsonschema.exceptions import ValidationError

    if unique and validator.is_type(instance, "array"):
        keys = [_hashable(item) for item in instance]
        if len(set(keys)) != len(keys):
            yield ValidationError(f"the {len(keys)} items are not unique")


def _hashable(value: Any) -> Any:
    """A hashable stand-in for a JSON value, equal exactly where JSON values are equal
    (``1 == 1.0``, ``true != 1``)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list):
        return ("array", tuple(_hashable(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _hashable(v)) for k, v in value.items()))
    return ("number" if isinstance(value, int | float) else "other", value)


def schema_errors(attributes: Any, version: str, kind: str) -> Iterator[tuple[str, str]]:
    """Yield (JSON pointer, message) for each place ``attributes`` break the ``kind`` schema."""
    from fairio_tools.findings import json_pointer

    for error in _validator(version, kind).iter_errors(attributes):
        message = error.message
        if len(message) > 240:
            message = message[:240] + "…"
        yield json_pointer(*error.absolute_path), f"{message} ({error.validator} rule)"
