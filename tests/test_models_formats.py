"""Descriptions as written: format 0.4 idioms, description files by name or path, weight
formats fairio-tools does not run, and devices that are not there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from fairio_tools.models.package import open_model_package, sha256_of
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

pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_mean_filter_package(tmp_path_factory.mktemp("tiny") / "package")


def _fixed_shape_v04(folder: Path, modern: Path) -> Path:
    """The mean filter in format 0.4 with a FIXED 40 x 48 input and an output of that fixed
    shape with a halo, as ``unet2d_fixed_shape`` is written (0.5 forbids it)."""
    package = build_mean_filter_v04(folder, modern)
    description = yaml.safe_load((package / "rdf.yaml").read_text())
    description["inputs"][0]["shape"] = [1, 1, 40, 48]
    description["outputs"][0]["shape"] = [1, 1, 40, 48]
    (package / "rdf.yaml").write_text(yaml.safe_dump(description, sort_keys=False))
    return package


def test_fixed_shape_output_with_halo_runs_as_written(tiny, tmp_path):
    package_path = _fixed_shape_v04(tmp_path / "fixed", tiny)
    test_input = np.load(package_path / "test_input.npy")
    image = np.random.default_rng(5).random((70, 100)).astype(np.float32)
    with open_model_package(package_path) as package:
        assert run_model_test(package).passed  # bioimageio.core's test of the 0.4 as written
        predictor = Predictor(package)
        whole = predictor.predict(test_input, None, "test_input.npy")
        tiled = predictor.predict(image, ["y", "x"], "image")
    assert np.abs(whole.data[0] - mean_filter(test_input[0, 0])).max() <= 1e-5
    assert tiled.provenance.tiles == 2 * 3  # fixed 40 x 48 tiles over 70 x 100
    assert np.abs(tiled.data[0] - mean_filter_symmetric(image)).max() <= 1e-5


def test_description_file_by_path_and_by_spec_example_name(tiny, tmp_path):
    folder = tmp_path / "example"
    shutil.copytree(tiny, folder)
    (folder / "rdf.yaml").rename(folder / "v0_5.bioimageio.yaml")
    info = invoke_fairio("model-info", folder)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["name"] == "Tiny mean filter"
    shutil.copy(folder / "v0_5.bioimageio.yaml", folder / "other.bioimageio.yaml")
    both = invoke_fairio("model-info", folder)
    assert both.returncode == 2
    assert "holds 2 descriptions (other.bioimageio.yaml, v0_5.bioimageio.yaml)" in both.stderr
    chosen = invoke_fairio("model-test", folder / "other.bioimageio.yaml")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["passed"] is True


@pytest.mark.parametrize("name", ["v0_4_0.bioimageio.yaml", "v0_4_9.bioimageio.yaml"])
def test_nuclei_model_0_4_descriptions_reproduce_the_test_output(shared_data, tmp_path, name):
    model = shared_data / "models" / "unet2d_nuclei_broad"
    output = tmp_path / "out.tif"
    result = invoke_fairio("predict", model / name, model / "test_input.npy", output)
    assert result.returncode == 0, result.stderr
    expected = np.load(model / "test_output.npy")[0, 0]
    assert np.abs(tifffile.imread(output) - expected).max() <= 1e-4


def test_unet2d_fixed_shape_reproduces_its_test_output(shared_data, tmp_path):
    pytest.importorskip("torch")  # state-dict weights only; the ONNX 0.4 model above runs
    model = shared_data / "models" / "spec-examples" / "unet2d_fixed_shape"
    output = tmp_path / "out.tif"
    args = ["predict", model, model / "test_input.npy", output, "--allow-model-code"]
    result = invoke_fairio(*args)
    assert result.returncode == 0, result.stderr
    expected = np.load(model / "test_output.npy")[0, 0]
    assert np.abs(tifffile.imread(output) - expected).max() <= 1e-4


def test_tensorflow_js_weights_are_refused_in_one_line(tiny, tmp_path):
    folder = tmp_path / "tensorflow_js"
    shutil.copytree(tiny, folder)
    (folder / "model.json").write_text("{}")
    description = yaml.safe_load((folder / "rdf.yaml").read_text())
    description["weights"] = {
        "tensorflow_js": {
            "source": "model.json",
            "sha256": sha256_of(folder / "model.json"),
            "tensorflow_version": "2.15",
        }
    }
    (folder / "rdf.yaml").write_text(yaml.safe_dump(description, sort_keys=False))
    image = tmp_path / "image.npy"
    np.save(image, np.zeros((16, 16), np.float32))
    result = invoke_fairio("predict", folder, image, tmp_path / "out.tif")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "tensorflow_js: fairio-tools does not run tensorflow_js weights" in line, line
    assert (
        "it runs onnx, torchscript, pytorch_state_dict, keras_hdf5, "
        "tensorflow_saved_model_bundle" in line
    )
    assert "not installed" not in line
    assert not (tmp_path / "out.tif").exists()


def test_cuda_is_refused_where_there_is_none_and_the_device_used_is_recorded(
    tiny, tmp_path, monkeypatch
):
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    image = tmp_path / "image.npy"
    np.save(image, np.zeros((16, 16), np.float32))
    output = tmp_path / "out.tif"
    result = invoke_fairio("predict", tiny, image, output, "--device", "cuda")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "--device cuda: onnxruntime has no CUDAExecutionProvider here" in line
    assert not output.exists()
    assert invoke_fairio("predict", tiny, image, output, "--provenance", tmp_path / "p.json")
    document = json.loads((tmp_path / "p.json").read_text())
    assert document["fairio:device"] == "cpu (CPUExecutionProvider)"
