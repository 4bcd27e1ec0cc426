"""NGFF 0.6rc0: coordinate systems, every transformation type and scenes, beyond the schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import zarr

from fairio_tools.findings import Severity
from fairio_tools.ngff.validate import validate_attributes, validate_ngff


def _axes(names: str) -> list[dict]:
    return [{"name": n, "type": "space", "unit": "micrometer"} for n in names]


IMAGE = {
    "ome": {
        "version": "0.6rc0",
        "multiscales": [{
            "name": "image", "type": "mean", "metadata": {"method": "test"},
            "coordinateSystems": [
                {"name": "physical", "axes": _axes("zyx")},
                {"name": "world", "axes": _axes("zyx")},
            ],
            "datasets": [
                {"path": "s0", "coordinateTransformations": [{
                    "type": "scale", "scale": [2.0, 0.5, 0.5],
                    "input": {"path": "s0"}, "output": {"name": "physical"}}]},
                {"path": "s1", "coordinateTransformations": [{
                    "type": "scale", "scale": [2.0, 1.0, 1.0],
                    "input": {"path": "s1"}, "output": {"name": "physical"}}]},
            ],
            "coordinateTransformations": [{
                "type": "sequence", "input": {"name": "physical"}, "output": {"name": "world"},
                "transformations": [
                    {"type": "translation", "translation": [0, 10, 20]},
                    {"type": "rotation", "rotation": [[1, 0, 0], [0, 0, -1], [0, 1, 0]]},
                    {"type": "affine", "affine": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]},
                    {"type": "mapAxis", "mapAxis": [0, 2, 1]},
                    {"type": "byDimension", "transformations": [
                        {"transformation": {"type": "scale", "scale": [3.0]},
                         "inputAxes": [0], "outputAxes": [0]},
                        {"transformation": {"type": "identity"},
                         "inputAxes": [1, 2], "outputAxes": [1, 2]}]},
                    {"type": "bijection",
                     "forward": {"type": "scale", "scale": [1, 2, 2]},
                     "inverse": {"type": "scale", "scale": [1, 0.5, 0.5]}},
                ],
            }],
        }],
    }
}  # fmt: skip


def _validate(tmp_path: Path, attributes: dict, strict: bool = False):
    document = tmp_path / "attributes.json"
    document.write_text(json.dumps(attributes))
    return validate_attributes(document, strict=strict)


def _multiscale(attributes: dict) -> dict:
    return attributes["ome"]["multiscales"][0]


def _steps(attributes: dict) -> list[dict]:
    return _multiscale(attributes)["coordinateTransformations"][0]["transformations"]


def test_every_transformation_type_in_one_valid_image(tmp_path):
    report = _validate(tmp_path, IMAGE)
    assert report.findings == [], report.findings
    assert report.facts["ngff_version"] == "0.6rc0" and report.facts["kind"] == "image"


def _set(path: tuple, value):
    def change(attributes: dict) -> None:
        target = attributes
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


_DATASET0 = ("ome", "multiscales", 0, "datasets", 0, "coordinateTransformations", 0)
_SEQUENCE = ("ome", "multiscales", 0, "coordinateTransformations", 0, "transformations")

BROKEN = [
    ("scale-too-short", _set((*_DATASET0, "scale"), [0.5, 0.5]), "scale-length"),
    ("scale-zero", _set((*_DATASET0, "scale"), [2.0, 0.0, 0.5]), "scale-not-positive"),
    ("scale-overflows", _set((*_DATASET0, "scale"), [2.0, 10**400, 0.5]), "scale-not-finite"),
    ("unknown-output", _set((*_DATASET0, "output"), {"name": "nowhere"}),
     "coordinate-system-unknown"),
    ("translation-too-long", _set((*_SEQUENCE, 0, "translation"), [0, 1, 2, 3]),
     "translation-length"),
    ("rotation-2x2", _set((*_SEQUENCE, 1, "rotation"), [[1, 0], [0, 1]]),
     "transformation-dimensions"),
    ("affine-3-columns", _set((*_SEQUENCE, 2, "affine"), [[1, 0, 0]] * 3),
     "transformation-dimensions"),
    ("mapaxis-repeats", _set((*_SEQUENCE, 3, "mapAxis"), [0, 2, 2]), "transformation-dimensions"),
    ("bydimension-axis-outside", _set((*_SEQUENCE, 4, "transformations", 0, "inputAxes"), [3]),
     "transformation-dimensions"),
    ("bijection-inverse-negative", _set((*_SEQUENCE, 5, "inverse", "scale"), [1, -0.5, 0.5]),
     "scale-not-positive"),
    ("duplicate-coordinate-system", _set(("ome", "multiscales", 0, "coordinateSystems", 1,
                                          "name"), "physical"), "coordinate-system-duplicate"),
    ("duplicate-axis", _set(("ome", "multiscales", 0, "coordinateSystems", 0, "axes", 1,
                             "name"), "z"), "duplicate-axis-name"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "change", "code"), BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_rule_is_named(tmp_path, name, change, code):
    attributes = copy.deepcopy(IMAGE)
    change(attributes)
    report = _validate(tmp_path, attributes)
    assert code in report.codes(Severity.ERROR), report.findings
    assert not report.valid


def test_scene_refers_to_its_own_coordinate_systems_and_those_of_its_images(tmp_path):
    scene = {"ome": {"version": "0.6rc0", "scene": {
        "coordinateSystems": [{"name": "world", "axes": _axes("zyx")}],
        "coordinateTransformations": [{
            "type": "translation", "translation": [0, 0, 5],
            "input": {"path": "tile", "name": "physical"}, "output": {"name": "world"}}],
    }}}  # fmt: skip
    root = tmp_path / "scene.ome.zarr"
    _write_image(root / "tile")
    (root / "zarr.json").write_text(json.dumps(
        {"zarr_format": 3, "node_type": "group", "attributes": scene}))  # fmt: skip
    report = validate_ngff(root)
    assert report.valid and report.facts["kind"] == "scene", report.findings
    scene["ome"]["scene"]["coordinateTransformations"][0]["input"]["name"] = "elsewhere"
    (root / "zarr.json").write_text(json.dumps(
        {"zarr_format": 3, "node_type": "group", "attributes": scene}))  # fmt: skip
    assert "coordinate-system-unknown" in validate_ngff(root).codes(Severity.ERROR)


def _write_image(path: Path) -> Path:
    """A 0.6rc0 image with the two levels IMAGE names, written with zarr."""
    group = zarr.open_group(path, mode="w", zarr_format=3)
    for level, shape in (("s0", (4, 16, 16)), ("s1", (4, 8, 8))):
        array = group.create_array(level, shape=shape, chunks=shape, dtype="uint8")
        array[...] = np.ones(shape, dtype="uint8")
    group.attrs.update(copy.deepcopy(IMAGE))
    return path


def test_a_06_store_reads_its_arrays_against_the_coordinate_system(tmp_path):
    store = _write_image(tmp_path / "image.ome.zarr")
    report = validate_ngff(store, deep=True)
    assert report.findings == [], report.findings
    assert report.facts["arrays_checked"] == 2 and report.facts["chunks_read"] == 2
    group = zarr.open_group(store, mode="r+", zarr_format=3)
    group.create_array("s1", shape=(4, 8), chunks=(4, 8), dtype="uint8", overwrite=True)
    assert "ndim-mismatch" in validate_ngff(store).codes(Severity.ERROR)


def test_a_parameter_array_must_exist_in_a_full_walk(tmp_path):
    store = _write_image(tmp_path / "image.ome.zarr")
    attributes = copy.deepcopy(IMAGE)
    _steps(attributes)[2] = {"type": "affine", "path": "affine-parameters"}
    zarr.open_group(store, mode="r+", zarr_format=3).attrs.update(attributes)
    assert "missing-dataset" in validate_ngff(store).codes(Severity.ERROR)
    assert validate_ngff(store, metadata_only=True).valid  # a metadata check names, not reads
    _steps(attributes)[2] = {"type": "affine", "path": "../outside"}
    zarr.open_group(store, mode="r+", zarr_format=3).attrs.update(attributes)
    assert "path-unsafe" in validate_ngff(store, metadata_only=True).codes(Severity.ERROR)


def test_convert_writes_06_that_the_spec_schemas_accept_and_readers_read(shared_data, tmp_path):
    import subprocess
    import sys

    import tifffile

    from tests.conftest import run_fairio
    from tests.ngff_conformance import CONFORMANCE

    store, tiff = tmp_path / "zcyx.ome.zarr", tmp_path / "zcyx.ome.tif"
    source = shared_data / "images" / "misc" / "zcyx.tiff"
    run_fairio("convert", source, store, "--ngff-version", "0.6", check=True)
    dingus = CONFORMANCE / "0.6rc0" / "conformance" / "jsonschema_dingus.py"
    checked = subprocess.run([sys.executable, dingus, "zarr", store / "0"], capture_output=True,
                             text=True, check=True)  # fmt: skip
    assert json.loads(checked.stdout) == {"valid": True}  # the spec's own schema check
    report = validate_ngff(store, deep=True)
    assert report.findings == [] and report.facts["ngff_version"] == "0.6rc0", report.findings
    run_fairio("export-tiff", store, tiff, check=True)  # the one reader reads 0.6rc0
    with tifffile.TiffFile(tiff) as exported:
        assert exported.series[0].axes.endswith("CZYX")  # a time axis of 1 may be squeezed
        written = np.squeeze(exported.series[0].asarray())
    np.testing.assert_array_equal(written, tifffile.imread(source).transpose(1, 0, 2, 3))
