"""bioimage.io models: offline loading, the real model's test, seamless tiling, provenance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from fairio_tools.models.image_io import write_ome_zarr
from fairio_tools.models.package import open_model_package
from fairio_tools.models.predict import Predictor, predict_with_model
from fairio_tools.models.testing import run_model_test
from fairio_tools.models.tiling import AxisSize, choose_tile_size, plan_axis
from tests.conftest import run_fairio
from tests.model_fixtures import offline  # noqa: F401  (fixture)

HALO = 32


@pytest.fixture(scope="session")
def unet(shared_data) -> Path:
    return shared_data / "models" / "unet2d_nuclei_broad"


@pytest.mark.usefixtures("offline")
def test_predict_reproduces_test_output_offline(unet, tmp_path):
    output = tmp_path / "prediction.ome.zarr"
    jsonld = tmp_path / "prediction.jsonld"
    predict_with_model(
        unet, unet / "test_input.npy", output, output_format="ome-zarr", provenance_path=jsonld
    )
    expected = np.load(unet / "test_output.npy")[0]
    group = zarr.open_group(str(output), mode="r")
    result = np.asarray(group["0"])
    assert result.shape == expected.shape == (1, 512, 512)
    assert np.abs(result - expected).max() <= 1e-4

    record = group.attrs["fairio_prediction"]
    assert record["model_name"] == "UNet 2D Nuclei Broad"
    assert record["weight_format"] == "onnx"
    assert record["weights_sha256"] == (
        "85f5ac80fa977fea3562ef97c8c5950288be2c4f4cdb5d994807df97008ce088"
    )
    assert record["tile_size"] == {"y": 512, "x": 512}
    assert "bioimageio.core" in record["software"] and "onnxruntime" in record["software"]
    axes = [a["name"] for a in group.attrs["multiscales"][0]["axes"]]
    assert axes == ["c", "y", "x"]

    document = json.loads(jsonld.read_text())
    assert document == json.loads((output / "provenance.jsonld").read_text())
    assert document["@type"] == "prov:Activity"
    assert document["prov:used"][0]["fairio:weightsSha256"] == record["weights_sha256"]
    assert document["@context"]["prov"] == "http://www.w3.org/ns/prov#"


@pytest.mark.usefixtures("offline")
def test_model_test_passes_offline_with_onnx(unet):
    with open_model_package(unet) as package:
        report = run_model_test(package)
    assert report.passed, report.checks
    assert report.tested_weight_formats == ["onnx"]
    assert "remote" in report.skipped_weight_formats["pytorch_state_dict"]
    names = [check.name for check in report.checks]
    assert any("Reproduce test outputs" in name for name in names)
    assert all(check.status == "passed" for check in report.checks)


def test_model_info_cli_reports_local_and_remote_weights(unet, tmp_path):
    result = run_fairio("model-info", unet, "--tsv", tmp_path / "info.tsv", check=True)
    report = json.loads(result.stdout)
    (raw,) = report["inputs"]
    assert raw["axes_string"] == "bcyx"
    assert [a["size"] for a in raw["axes"]] == [1, 1, 512, 512]
    assert [p["id"] for p in raw["preprocessing"]][1] == "zero_mean_unit_variance"
    (probability,) = report["outputs"]
    assert [a.get("halo") for a in probability["axes"]][2:] == [HALO, HALO]
    weights = {w["format"]: w for w in report["weights"]}
    assert weights["onnx"]["location"] == "local" and weights["onnx"]["sha256_matches"]
    assert weights["pytorch_state_dict"]["location"] == "remote"
    assert weights["torchscript"]["location"] == "local"
    table = (tmp_path / "info.tsv").read_text()
    assert "output\tprobability\tbcyx" in table and "y=32 x=32" in table


def _whole_image_input(unet) -> np.ndarray:
    test_input = np.load(unet / "test_input.npy")[0, 0]
    return np.tile(test_input, (3, 4))[:1300, :1700]


def _starts(extent: int, tile: int = 512, halo: int = HALO) -> list[int]:
    """Independent of the tiler: windows every ``tile - 2 halo`` pixels, the last at the end."""
    return sorted({*range(0, extent - tile, tile - 2 * halo), extent - tile})


@pytest.mark.usefixtures("offline")
def test_tiling_is_seamless_on_1300_by_1700(unet):
    import onnxruntime

    image = _whole_image_input(unet)
    with open_model_package(unet) as package:
        prediction = Predictor(package).predict(image, ["y", "x"], "big.npy")
    result = prediction.data[0]
    assert result.shape == (1300, 1700)
    assert prediction.provenance.tiles == 3 * 4

    # direct predictions of 512 x 512 windows, preprocessed with the WHOLE image's statistics
    session = onnxruntime.InferenceSession(str(unet / "weights.onnx"))
    name = session.get_inputs()[0].name
    normalized = ((image - image.mean()) / (image.std() + 1e-6)).astype(np.float32)
    # per pixel: the smallest difference to any window that holds it at least HALO inside
    best = np.full(image.shape, np.inf, np.float32)
    best_own_statistics = np.full(image.shape, np.inf, np.float32)
    for y in _starts(1300):
        for x in _starts(1700):
            window = (slice(y, y + 512), slice(x, x + 512))
            direct = session.run(None, {name: normalized[window][None, None]})[0][0, 0]
            tile = image[window]
            alone = ((tile - tile.mean()) / (tile.std() + 1e-6)).astype(np.float32)
            own = session.run(None, {name: alone[None, None]})[0][0, 0]
            top = 0 if y == 0 else HALO  # at the image's border the window's edge is all there is
            left = 0 if x == 0 else HALO
            bottom = 512 if y + 512 == 1300 else 512 - HALO
            right = 512 if x + 512 == 1700 else 512 - HALO
            keep = (slice(y + top, y + bottom), slice(x + left, x + right))
            inner = (slice(top, bottom), slice(left, right))
            for target, raw in ((best, direct), (best_own_statistics, own)):
                difference = np.abs(result[keep] - 1 / (1 + np.exp(-raw[inner])))
                np.minimum(target[keep], difference, out=target[keep])
    assert np.isfinite(best).all(), "the windows must cover every pixel"
    assert best.max() <= 1e-4
    # tiles normalised with their own statistics would not match: the check can tell
    assert best_own_statistics.max() > 1e-3


def test_tile_plan_keeps_pixels_inside_the_halo():
    plan = plan_axis(1300, 512, HALO)
    assert [t.start for t in plan.tiles] == [0, 448, 788]
    assert plan.tiles[0].keep_start == 0 and plan.tiles[-1].keep_stop == 1300
    for before, after in zip(plan.tiles, plan.tiles[1:], strict=False):
        assert before.keep_stop == after.keep_start
        assert after.keep_start - after.start >= HALO
        assert before.start + before.size - before.keep_stop >= HALO
    small = plan_axis(37, 40, 1)
    assert small.pad == 3 and small.tiles[0].keep_stop == 37
    assert choose_tile_size(37, AxisSize(16, 8), 1, None) == 40
    assert choose_tile_size(5000, AxisSize(16, 8), 1, None) == 1024
    assert choose_tile_size(5000, AxisSize(512), HALO, None) == 512


@pytest.mark.usefixtures("offline")
def test_ome_zarr_input_keeps_its_scale(unet, tmp_path):
    image = np.load(unet / "test_input.npy")[0]
    store = tmp_path / "input.ome.zarr"
    scale = {"y": (0.25, "micrometer"), "x": (0.5, "micrometer")}
    write_ome_zarr(image, ["c", "y", "x"], scale, store, {})
    output = tmp_path / "prediction.tif"
    run_fairio("predict", unet, store, output, check=True)
    with tifffile.TiffFile(output) as tif:
        assert tif.is_ome
        pixels = tif.ome_metadata
        result = tif.asarray()
    assert 'PhysicalSizeX="0.5"' in pixels and 'PhysicalSizeY="0.25"' in pixels
    assert "fairio_prediction" in pixels and "UNet 2D Nuclei Broad" in pixels
    expected = np.load(unet / "test_output.npy")[0, 0]
    assert np.abs(result.reshape(expected.shape) - expected).max() <= 1e-4
