"""A tiny ONNX model with a parameterized input size, described with bioimageio.spec."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr

from fairio_tools.models.package import open_model_package
from fairio_tools.models.predict import Predictor
from fairio_tools.models.testing import run_model_test
from tests.model_fixtures import (
    build_mean_filter_package,
    build_mean_filter_v04,
    invoke_fairio,
    mean_filter,
    mean_filter_symmetric,
    offline,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("offline")  # every CLI run here is in-process, offline


@pytest.fixture(scope="module")
def tiny_zip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    return build_mean_filter_package(folder / "package", folder / "mean_filter.zip")


def test_tiny_model_passes_its_test_offline(tiny_zip):
    with open_model_package(tiny_zip) as package:
        report = run_model_test(package)
    assert report.passed, report.checks
    assert report.tested_weight_formats == ["onnx"]
    assert any("size parameter n" in check.name for check in report.checks)


def test_tiny_model_test_cli(tiny_zip, tmp_path):
    result = invoke_fairio("model-test", tiny_zip, "--tsv", tmp_path / "checks.tsv")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passed"] is True
    assert (
        "Reproduce test outputs from test inputs (onnx)\tpassed"
        in (tmp_path / "checks.tsv").read_text()
    )


@pytest.mark.parametrize(("tile", "tiles"), [(None, 1), ("24,24", 2 * 3)])
def test_tiny_model_predicts_a_non_multiple_size(tiny_zip, tmp_path, tile, tiles):
    image = np.random.default_rng(1).random((37, 53)).astype(np.float32)
    tifffile.imwrite(tmp_path / "image.tif", image)
    output = tmp_path / "smoothed.tif"
    args = ["predict", tiny_zip, tmp_path / "image.tif", output]
    result = invoke_fairio(*args, *(["--tile", tile] if tile else []))
    assert result.returncode == 0, result.stderr
    result = tifffile.imread(output)
    assert result.shape == (37, 53)
    expected = mean_filter(image)
    if tile is None:  # one 40 x 56 tile: the padded bottom row and right column differ
        assert np.abs(result - expected)[:-1, :-1].max() <= 1e-5
    else:  # tiles mirror the image at its border by their halo: exact across tile borders
        assert np.abs(result - mean_filter_symmetric(image)).max() <= 1e-5
        assert np.abs(result - expected)[1:-1, 1:-1].max() <= 1e-5
    with tifffile.TiffFile(output) as tif:
        description = tif.ome_metadata
    assert f"&quot;tiles&quot;: {tiles}" in description or f'"tiles": {tiles}' in description


def test_predicts_on_a_bioformats2raw_store_root(shared_data, tiny_zip, tmp_path):
    """The store root Bio-Formats (and `fairio convert`) writes: series 0 is the image."""
    store = shared_data / "images" / "bioformats2raw-reference" / "camera.ome.zarr"
    output = tmp_path / "smoothed.tif"
    result = invoke_fairio("predict", tiny_zip, store, output)
    assert result.returncode == 0, result.stderr
    image = np.asarray(zarr.open_group(store / "0", mode="r")["0"])[0, 0, 0]
    smoothed = tifffile.imread(output)
    assert smoothed.shape == image.shape == (480, 640)
    expected = mean_filter(image.astype(np.float32))
    assert np.abs(smoothed - expected)[:-1, :-1].max() <= 1e-4 * 255


def test_tile_size_must_be_valid(tiny_zip, tmp_path):
    image = tmp_path / "image.npy"
    np.save(image, np.zeros((37, 53), np.float32))
    result = invoke_fairio("predict", tiny_zip, image, tmp_path / "out.tif", "--tile", "20,24")
    assert result.returncode == 2
    assert "tile size 20 is not valid: the model accepts 16 + n*8" in result.stderr
    assert not (tmp_path / "out.tif").exists()


def test_format_0_4_description_is_tested_and_tiled(tmp_path):
    package_path = build_mean_filter_v04(tmp_path / "v04")
    info = invoke_fairio("model-info", package_path)
    assert info.returncode == 0, info.stderr
    report = json.loads(info.stdout)
    assert report["format_version"] == "0.4.10"
    assert report["inputs"][0]["axes"][2]["size"] == {"min": 16, "step": 8}
    assert report["outputs"][0]["axes"][3]["halo"] == 1
    image = np.random.default_rng(2).random((37, 53)).astype(np.float32)
    with open_model_package(package_path) as package:
        assert run_model_test(package).passed
        prediction = Predictor(package).predict(image, ["y", "x"], "image", {"y": 24, "x": 24})
    assert prediction.provenance.tiles == 2 * 3
    assert np.abs(prediction.data[0] - mean_filter_symmetric(image)).max() <= 1e-5
