"""Keras HDF5 weights (the ``tensorflow`` extra): a small Keras model built here, packaged as
a bioimage.io model whose test tensors Keras itself computed, run by model-test and predict.

No real TensorFlow model is available offline; Keras is the independent reference: every
expected pixel comes from ``model.predict`` on numpy-normalised input, never from fairio.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.model_fixtures import CONV_HALO as HALO
from tests.model_fixtures import (
    build_conv_package,
    invoke_fairio,
    normalised,
    offline,  # noqa: F401  (fixture)
    refused_line,
    rehash_weights,
)

pytestmark = pytest.mark.usefixtures("offline")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import keras  # noqa: E402  (the tensorflow extra, in dev; quiet only when imported after)


def _keras_model() -> keras.Model:
    keras.utils.set_random_seed(14)
    inputs = keras.Input((None, None, 1))
    hidden = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    outputs = keras.layers.Conv2D(1, 3, padding="same")(hidden)
    return keras.Model(inputs, outputs)


def _keras(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """Keras's own output for one 2-D image (batch and channel added and dropped)."""
    return model.predict(image[None, ..., None], verbose=0)[0, ..., 0]


def _package(folder: Path, model: keras.Model, second_input: bool = False) -> Path:
    """``model`` as a bioimage.io package (``build_conv_package``) of HDF5 weights, its test
    output from Keras."""
    import tensorflow as tf
    from bioimageio.spec.model import v0_5

    def weights(work: Path) -> v0_5.WeightsDescr:
        model.save(work / "weights.h5")
        return v0_5.WeightsDescr(
            keras_hdf5=v0_5.KerasHdf5WeightsDescr(
                source=work / "weights.h5", tensorflow_version=v0_5.Version(tf.__version__)
            )
        )

    def predict(batches: list[np.ndarray]) -> np.ndarray:
        return model.predict(batches if second_input else batches[0], verbose=0)

    return build_conv_package(folder, "Keras convolutions", weights, predict, second_input)


@pytest.fixture(scope="module")
def convolutions(tmp_path_factory) -> tuple[keras.Model, Path]:
    model = _keras_model()
    return model, _package(tmp_path_factory.mktemp("keras") / "package", model)


def test_two_input_keras_weights_are_refused_not_run_wrongly(tmp_path):
    """bioimageio.core's Keras adapter calls ``model.predict(*inputs)``, which would take the
    second input as the batch size: refused in one line instead of a wrong answer."""
    first, second = keras.Input((None, None, 1)), keras.Input((None, None, 1))
    added = keras.layers.Add()([first, second])
    model = keras.Model([first, second], keras.layers.Conv2D(1, 3, padding="same")(added))
    package = _package(tmp_path / "package", model, second_input=True)
    for command in ("model-test", "predict"):
        arguments = [] if command == "model-test" else [
            "--input", f"raw={package / 'test_input.npy'}",
            "--input", f"mask={package / 'test_mask.npy'}", tmp_path / "out.tif",
        ]  # fmt: skip
        line = refused_line(invoke_fairio(command, package, *arguments), package)
        assert "keras_hdf5 weights with 2 inputs are not run" in line, line
    assert not (tmp_path / "out.tif").exists()


def test_model_test_runs_the_keras_weights(convolutions, tmp_path):
    _, package = convolutions
    result = invoke_fairio("model-test", package, "--tsv", tmp_path / "checks.tsv")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["passed"], report["tested_weight_formats"]) == (True, ["keras_hdf5"])
    names = {c["name"]: c["status"] for c in report["checks"]}
    assert names["Reproduce test outputs from test inputs (keras_hdf5)"] == "passed"


def test_model_test_fails_a_wrong_test_output(convolutions, tmp_path):
    import shutil

    _, package = convolutions
    broken = tmp_path / "broken"
    shutil.copytree(package, broken)
    np.save(broken / "test_output.npy", np.load(broken / "test_output.npy") + 0.5)
    result = invoke_fairio("model-test", broken)
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["passed"] is False


def test_predict_gives_the_keras_output(convolutions, tmp_path):
    model, package = convolutions
    image = np.load(package / "test_input.npy")[0, ..., 0]
    np.save(tmp_path / "image.npy", image)
    output = tmp_path / "out.tif"
    result = invoke_fairio("predict", package, tmp_path / "image.npy", output)
    assert result.returncode == 0, result.stderr
    expected = _keras(model, normalised(image))
    assert np.abs(tifffile.imread(output).squeeze() - expected).max() <= 1e-4


def test_a_tiled_prediction_is_keras_on_the_mirrored_image(convolutions, tmp_path):
    """100 x 90 pixels in 32 x 32 tiles: statistics of the whole image, halos mirrored at its
    borders, no seams."""
    model, package = convolutions
    image = np.random.default_rng(7).random((100, 90), dtype=np.float32) * 1000
    np.save(tmp_path / "image.npy", image)
    output = tmp_path / "out.ome.zarr"
    provenance = tmp_path / "provenance.jsonld"
    result = invoke_fairio(
        "predict", package, tmp_path / "image.npy", output,
        "--tile", "32,32", "--provenance", provenance,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    mirrored = np.pad(normalised(image), HALO, mode="symmetric")
    expected = _keras(model, mirrored)[HALO:-HALO, HALO:-HALO]
    import zarr

    predicted = np.asarray(zarr.open_group(output, mode="r")["0"]).squeeze()
    assert predicted.shape == image.shape
    assert np.abs(predicted - expected).max() <= 1e-4
    record = json.loads(provenance.read_text())
    assert "keras_hdf5" in json.dumps(record)


def test_cuda_is_refused_where_tensorflow_has_no_gpu(convolutions, tmp_path, monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    _, package = convolutions
    np.save(tmp_path / "image.npy", np.zeros((16, 16), np.float32))
    output = tmp_path / "out.tif"
    result = invoke_fairio("predict", package, tmp_path / "image.npy", output, "--device", "cuda")
    assert result.returncode == 2, result.stderr
    assert "TensorFlow finds no GPU" in result.stderr
    assert not output.exists()


def test_without_the_extra_one_line_names_it(convolutions, tmp_path, monkeypatch):
    from fairio_tools import extras

    monkeypatch.setitem(extras.MODULES, "tensorflow", ("fairio_tools_no_such_module",))
    _, package = convolutions
    np.save(tmp_path / "image.npy", np.zeros((16, 16), np.float32))
    for args in (
        ["predict", package, tmp_path / "image.npy", tmp_path / "out.tif"],
        ["predict", package, tmp_path / "image.npy", tmp_path / "out.tif", "--weight-format",
         "keras_hdf5"],
        ["model-test", package],
    ):  # fmt: skip
        line = refused_line(invoke_fairio(*args), package)
        assert "running keras_hdf5 weights needs the optional 'tensorflow'" in line
        assert line.endswith("pip install 'fairio-tools[tensorflow]'"), line
    assert not (tmp_path / "out.tif").exists()


def _with_weights(package: Path, folder: Path, model: keras.Model) -> Path:
    """A copy of ``package`` whose weights are ``model``."""
    import shutil

    shutil.copytree(package, folder)
    model.save(folder / "weights.h5")
    return rehash_weights(folder, "keras_hdf5")


def test_a_lambda_layer_is_package_code(convolutions, tmp_path):
    """A Lambda layer (marshalled Python) is refused without the opt-in, by fairio's check of
    the model's configuration; with it, Keras's safe mode still refuses to unmarshal it. The
    lambda would leave a marker file: it never runs."""
    _, package = convolutions
    marker = tmp_path / "LAMBDA_RAN"
    inputs = keras.Input((None, None, 1))
    touched = keras.layers.Lambda(
        lambda t, path=str(marker): (open(path, "w").close(), t)[1], name="touch"
    )(inputs)
    coded = _with_weights(package, tmp_path / "lambda", keras.Model(inputs, touched))
    marker.unlink()  # Keras ran the lambda once, building the model here
    np.save(tmp_path / "image.npy", np.zeros((16, 16), np.float32))
    output = tmp_path / "out.tif"
    line = refused_line(invoke_fairio("predict", coded, tmp_path / "image.npy", output), coded)
    assert "runs code from the package (Lambda layer 'touch' in weights.h5)" in line
    assert "--allow-model-code" in line
    line = refused_line(invoke_fairio("model-test", coded), coded)
    assert "Lambda layer 'touch'" in line and "nothing to test" in line
    result = invoke_fairio("predict", coded, tmp_path / "image.npy", output, "--allow-model-code")
    line = refused_line(result, coded)
    assert "cannot load the keras_hdf5 weights" in line and "Lambda" in line
    assert not marker.exists() and not output.exists()


def test_a_module_reference_is_package_code(convolutions, tmp_path):
    import h5py

    _, package = convolutions
    coded = _with_weights(package, tmp_path / "module", _keras_model())
    with h5py.File(coded / "weights.h5", "r+") as file:
        config = file.attrs["model_config"]
        config = config.decode() if isinstance(config, bytes) else config
        assert '"module": "keras"' in config
        file.attrs["model_config"] = config.replace('"module": "keras"', '"module": "os"', 1)
    rehash_weights(coded, "keras_hdf5")
    np.save(tmp_path / "image.npy", np.zeros((16, 16), np.float32))
    result = invoke_fairio("predict", coded, tmp_path / "image.npy", tmp_path / "out.tif")
    line = refused_line(result, coded)
    assert "a reference to Python module 'os' in weights.h5" in line


def test_a_file_that_is_no_keras_hdf5_is_named(convolutions, tmp_path):
    _, package = convolutions
    coded = _with_weights(package, tmp_path / "broken", _keras_model())
    (coded / "weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n not really")
    rehash_weights(coded, "keras_hdf5")
    np.save(tmp_path / "image.npy", np.zeros((16, 16), np.float32))
    result = invoke_fairio("predict", coded, tmp_path / "image.npy", tmp_path / "out.tif")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "weights.h5: not a readable Keras HDF5 file" in line
