"""The Galaxy workflow files (.ga) are ones Galaxy will import: JSON, IWC metadata, and UUIDs
that Galaxy's own check accepts (version 4, unique within a workflow)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / "workflows").rglob("*.ga"))


def _uuids(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uuid" and isinstance(value, str):
                yield value
            else:
                yield from _uuids(value)
    elif isinstance(node, list):
        for item in node:
            yield from _uuids(item)


def test_there_are_workflows():
    assert len(WORKFLOWS) >= 3


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_uuids_are_unique_version_4(path: Path):
    found = list(_uuids(json.loads(path.read_text())))
    assert found, f"{path.name} has no UUIDs"
    for value in found:
        # Galaxy refuses an import whose step UUID is not a canonical UUID4 (HTTP 400).
        assert str(uuid.UUID(value, version=4)) == value, f"{path.name}: {value} is not a UUID4"
    assert len(found) == len(set(found)), f"{path.name} repeats a UUID"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_iwc_metadata(path: Path):
    workflow = json.loads(path.read_text())
    assert workflow["license"]
    assert workflow["creator"]
    assert workflow["release"]
    folder = path.parent
    for name in ("README.md", "CHANGELOG.md", f"{path.stem}-tests.yml"):
        assert (folder / name).is_file(), f"{folder.name} lacks {name}"
