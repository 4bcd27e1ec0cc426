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
        unet,
        {None: unet / "test_input.npy"},
        {None: output},
        output_format="ome-zarr",
        provenance_path=jsonld,
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
    assert group.metadata.zarr_format == 3 and group.attrs["ome"]["version"] == "0.5"
    axes = [a["name"] for a in group.attrs["ome"]["multiscales"][0]["axes"]]
    assert axes == ["c", "y", "x"]

    document = json.loads(jsonld.read_text())
    assert document == json.loads((output / "provenance.jsonld").read_text())
    assert document["@type"] == "prov:Activity"
    assert document["prov:used"][0]["fairio:weightsSha256"] == record["weights_sha256"]
    assert document["@context"]["prov"] == "http://www.w3.org/ns/prov#"


@pytest.mark.usefixtures("offline")
def test_model_test_passes_offline_with_onnx(unet):
    with open_model_package(unet) as package:
        report = run_model_test(package, "onnx")  # torchscript too where torch is installed
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


def _whole_image_input(unet, height: int, width: int) -> np.ndarray:
    test_input = np.load(unet / "test_input.npy")[0, 0]
    return np.tile(test_input, (3, 4))[:height, :width]


@pytest.mark.usefixtures("offline")
def test_tiles_give_the_pixels_of_bioimageio_core_blocked_prediction(unet):
    """Border tiles read a mirrored halo, as bioimageio.core's blocked prediction does: the
    reference's own blocks of the model's 512 x 512 over a 600 x 700 image (2 x 2 tiles)."""
    from bioimageio.core import Sample, Tensor, create_prediction_pipeline
    from bioimageio.core.digest_spec import get_member_id

    image = _whole_image_input(unet, 600, 700)
    with open_model_package(unet) as package:
        predictor = Predictor(package, "onnx")
        prediction = predictor.predict(image, ["y", "x"], "big.npy")
        descr = predictor.descr
        pipeline = create_prediction_pipeline(descr, weights_format="onnx")
        input_id, output_id = get_member_id(descr.inputs[0]), get_member_id(descr.outputs[0])
        dims = [a.id for a in descr.inputs[0].axes]
        sample = Sample(
            members={input_id: Tensor.from_numpy(image[None, None], dims=dims)}, stat={}, id="s"
        )
        blocks = {input_id: {d: n for d, n in zip(dims, (1, 1, 512, 512), strict=True)}}
        reference = pipeline.predict_sample_with_fixed_blocking(sample, blocks)
    expected = reference.members[output_id].data.to_numpy()[0, 0]
    assert prediction.provenance.tiles == 2 * 2
    assert prediction.data[0].shape == expected.shape == (600, 700)
    assert np.abs(prediction.data[0] - expected).max() <= 1e-4


@pytest.mark.usefixtures("offline")
def test_each_statistic_of_an_input_is_computed_once(unet, monkeypatch):
    """zero_mean_unit_variance needs the input's mean and std: core's calculator computes
    mean, var and std together, and runs once per image, not once per measure."""
    from bioimageio.core.stat_calculators import MeanVarStdCalculator

    calls = []
    original = MeanVarStdCalculator.compute
    monkeypatch.setattr(
        MeanVarStdCalculator, "compute", lambda self, s: calls.append(1) or original(self, s)
    )
    image = np.load(unet / "test_input.npy")[0, 0]
    with open_model_package(unet) as package:
        prediction = Predictor(package, "onnx").predict(image, ["y", "x"], "test_input.npy")
    assert len(calls) == 1
    expected = np.load(unet / "test_output.npy")[0]
    assert np.abs(prediction.data - expected).max() <= 1e-4


def test_tile_plan_keeps_pixels_inside_the_halo():
    plan = plan_axis(1300, 512, HALO)
    inner = 512 - 2 * HALO
    # bioimageio.core's rule: inner blocks every 448 pixels, the last one ending at the border
    assert [t.keep_start for t in plan.tiles] == [0, inner, 1300 - inner]
    assert plan.tiles[-1].keep_stop == 1300
    assert (plan.pad_before, plan.pad_after) == (HALO, HALO)
    for tile in plan.tiles:  # each keeps exactly its inner block, HALO inside its window
        assert tile.start - plan.pad_before == tile.keep_start - HALO
        assert tile.keep_stop - tile.keep_start == min(inner, 1300 - tile.keep_start)
    for before, after in zip(plan.tiles, plan.tiles[1:], strict=False):
        assert before.keep_stop >= after.keep_start  # no gap
    small = plan_axis(37, 40, 1)
    assert (small.pad_before, small.pad_after) == (0, 3) and small.tiles[0].keep_stop == 37
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
