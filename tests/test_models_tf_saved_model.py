"""TensorFlow 2 SavedModel weights (``tensorflow_saved_model_bundle``, the ``tensorflow``
extra): a small seeded ``tf.Module`` saved by ``tf.saved_model.save``, zipped and packaged as
a bioimage.io model whose test output TensorFlow itself computed, run by model-test and
predict only with the package-code opt-in, and graphs that touch files refused.

TensorFlow is the independent reference: every expected pixel comes from the module's own
serving function on numpy-normalised input, never from fairio.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from fairio_tools import zipping
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
import tensorflow as tf  # noqa: E402  (the tensorflow extra, in dev; quiet only when imported after)

FORMAT = "tensorflow_saved_model_bundle"
ALLOW = "--allow-model-code"


class Convolutions(tf.Module):
    """Two seeded 3 x 3 convolutions with biases; ``side_effect`` adds a real file read or
    write to the serving function (a hostile graph)."""

    def __init__(self, side_effect: str | None = None, target: str = "") -> None:
        super().__init__()
        rng = np.random.default_rng(14)
        self.k1 = tf.Variable(rng.normal(size=(3, 3, 1, 4)).astype(np.float32))
        self.b1 = tf.Variable(rng.normal(size=4).astype(np.float32))
        self.k2 = tf.Variable(rng.normal(size=(3, 3, 4, 1)).astype(np.float32))
        self.b2 = tf.Variable(np.float32([0.25]))
        self.side_effect, self.target = side_effect, target

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32, name="raw")])
    def serve(self, raw: tf.Tensor) -> dict[str, tf.Tensor]:
        hidden = tf.nn.relu(tf.nn.conv2d(raw, self.k1, 1, "SAME") + self.b1)
        features = tf.nn.conv2d(hidden, self.k2, 1, "SAME") + self.b2
        if self.side_effect == "write":
            tf.io.write_file(self.target, "the graph ran")
        if self.side_effect == "read":
            length = tf.strings.length(tf.io.read_file(self.target))
            features += 0.0 * tf.cast(length, tf.float32)
        return {"features": features}


def _tensorflow(module: Convolutions, image: np.ndarray) -> np.ndarray:
    """TensorFlow's own output for one 2-D image (batch and channel added and dropped)."""
    return module.serve(tf.constant(image[None, ..., None]))["features"].numpy()[0, ..., 0]


def _bundle(module: tf.Module, zip_path: Path) -> Path:
    """``module`` saved as a SavedModel with its serving signature, zipped flat."""
    folder = zip_path.with_suffix("")
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    with zipfile.ZipFile(zip_path, "w") as archive:
        zipping.add_folder(archive, folder)
    return zip_path


@pytest.fixture(scope="module")
def convolutions(tmp_path_factory) -> tuple[Convolutions, Path]:
    from bioimageio.spec.model import v0_5

    module = Convolutions()

    def weights(work: Path) -> v0_5.WeightsDescr:
        bundle = _bundle(module, work / "weights.zip")
        version = v0_5.Version(tf.__version__)
        return v0_5.WeightsDescr(
            tensorflow_saved_model_bundle=v0_5.TensorflowSavedModelBundleWeightsDescr(
                source=bundle, tensorflow_version=version
            )
        )

    def predict(batches: list[np.ndarray]) -> np.ndarray:
        return module.serve(tf.constant(batches[0]))["features"].numpy()

    folder = tmp_path_factory.mktemp("saved-model") / "package"
    return module, build_conv_package(folder, "SavedModel convolutions", weights, predict)


def _with_bundle(package: Path, folder: Path, bundle: Path) -> Path:
    """A copy of ``package`` whose weights are the zip ``bundle``."""
    shutil.copytree(package, folder)
    shutil.copy(bundle, folder / "weights.zip")
    return rehash_weights(folder, FORMAT)


def _edited(package: Path, folder: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """A copy of ``package`` whose description ``edit`` changed in place."""
    shutil.copytree(package, folder)
    description = yaml.safe_load((folder / "rdf.yaml").read_text())
    edit(description)
    (folder / "rdf.yaml").write_text(yaml.safe_dump(description, sort_keys=False))
    return folder


def _image(tmp_path: Path, shape: tuple[int, int] = (16, 16)) -> Path:
    np.save(tmp_path / "image.npy", np.zeros(shape, np.float32))
    return tmp_path / "image.npy"


def test_model_test_runs_the_saved_model(convolutions, tmp_path):
    _, package = convolutions
    result = invoke_fairio("model-test", package, ALLOW, "--tsv", tmp_path / "checks.tsv")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["passed"], report["tested_weight_formats"]) == (True, [FORMAT])
    names = {c["name"]: c["status"] for c in report["checks"]}
    assert names[f"Reproduce test outputs from test inputs ({FORMAT})"] == "passed"


def test_model_test_fails_a_wrong_test_output(convolutions, tmp_path):
    _, package = convolutions
    broken = tmp_path / "broken"
    shutil.copytree(package, broken)
    np.save(broken / "test_output.npy", np.load(broken / "test_output.npy") + 0.5)
    result = invoke_fairio("model-test", broken, ALLOW)
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["passed"] is False


def test_predict_gives_tensorflows_output(convolutions, tmp_path):
    module, package = convolutions
    image = np.load(package / "test_input.npy")[0, ..., 0]
    np.save(tmp_path / "image.npy", image)
    output, provenance = tmp_path / "out.tif", tmp_path / "provenance.jsonld"
    result = invoke_fairio(
        "predict", package, tmp_path / "image.npy", output, ALLOW, "--provenance", provenance
    )
    assert result.returncode == 0, result.stderr
    expected = _tensorflow(module, normalised(image))
    assert np.abs(tifffile.imread(output).squeeze() - expected).max() <= 1e-4
    record = json.loads(provenance.read_text())
    assert (record["prov:used"][0]["fairio:weightFormat"], record["fairio:device"]) == (
        FORMAT,
        "cpu",
    )


def test_a_tiled_prediction_is_tensorflow_on_the_mirrored_image(convolutions, tmp_path):
    """100 x 90 pixels in 32 x 32 tiles: statistics of the whole image, halos mirrored at its
    borders, no seams."""
    import zarr

    module, package = convolutions
    image = np.random.default_rng(7).random((100, 90), dtype=np.float32) * 1000
    np.save(tmp_path / "image.npy", image)
    output = tmp_path / "out.ome.zarr"
    arguments = [tmp_path / "image.npy", output, "--tile", "32,32", ALLOW]
    result = invoke_fairio("predict", package, *arguments)
    assert result.returncode == 0, result.stderr
    mirrored = np.pad(normalised(image), HALO, mode="symmetric")
    expected = _tensorflow(module, mirrored)[HALO:-HALO, HALO:-HALO]
    predicted = np.asarray(zarr.open_group(output, mode="r")["0"]).squeeze()
    assert predicted.shape == image.shape
    assert np.abs(predicted - expected).max() <= 1e-4


def test_nothing_is_written_to_the_working_directory(convolutions, tmp_path, monkeypatch):
    """bioimageio.core unzips SavedModels into ``./bioimageio_unzipped_tf_weights``: fairio
    runs its loading in a temporary folder of its own, for predict and for model-test."""
    _, package = convolutions
    image = _image(tmp_path)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    relative = os.path.relpath(package, cwd)  # as a user types it: it must still be found
    result = invoke_fairio("predict", relative, image, tmp_path / "out.tif", ALLOW)
    assert result.returncode == 0, result.stderr
    result = invoke_fairio("model-test", relative, ALLOW)
    assert result.returncode == 0, result.stderr
    assert list(cwd.iterdir()) == []
    assert Path.cwd() == cwd


def test_without_the_opt_in_the_graph_is_package_code(convolutions, tmp_path):
    _, package = convolutions
    output = tmp_path / "out.tif"
    for args in (["predict", package, _image(tmp_path), output], ["model-test", package]):
        line = refused_line(invoke_fairio(*args), package)
        assert "runs code from the package (the TensorFlow graph in weights.zip)" in line
        assert "--allow-model-code" in line
    assert not output.exists()


@pytest.mark.parametrize(("side_effect", "op"), [("write", "WriteFile"), ("read", "ReadFile")])
def test_a_graph_that_touches_files_is_refused_even_with_the_opt_in(
    convolutions, tmp_path, side_effect, op
):
    """The serving function really reads or writes a file; fairio names the op from
    ``saved_model.pb`` before TensorFlow loads anything, so the graph never runs."""
    _, package = convolutions
    target = tmp_path / "target.txt"
    if side_effect == "read":
        target.write_text("a secret")
    bundle = _bundle(Convolutions(side_effect, str(target)), tmp_path / "hostile" / "weights.zip")
    hostile = _with_bundle(package, tmp_path / "package", bundle)
    output = tmp_path / "out.tif"
    for args in (
        ["predict", hostile, _image(tmp_path), output, ALLOW],
        ["model-test", hostile, ALLOW],
    ):
        line = refused_line(invoke_fairio(*args), hostile)
        assert "weights.zip: the graph's function '__inference_serve_" in line, line
        assert f"uses the op {op}, which reads or writes files: refused" in line, line
    assert not output.exists()
    assert target.exists() == (side_effect == "read")


def test_tensorflow_1_bundles_are_refused(convolutions, tmp_path):
    """By the description's ``tensorflow_version``, and by the bundle itself (a real TF1
    SavedModel, written by ``SavedModelBuilder``, has no object graph)."""
    _, package = convolutions

    def tf1(description: dict) -> None:
        description["weights"][FORMAT]["tensorflow_version"] = "1.15.0"

    declared = _edited(package, tmp_path / "declared", tf1)
    result = invoke_fairio("predict", declared, _image(tmp_path), tmp_path / "out.tif", ALLOW)
    line = refused_line(result, declared)
    assert f"{FORMAT} weights of TensorFlow 1.15.0 are not run" in line
    assert "need tf.Session" in line

    folder = tmp_path / "tf1" / "weights"
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        raw = tf.compat.v1.placeholder(tf.float32, [None, None, None, 1], name="raw")
        features = tf.identity(raw * 2, name="features")
        builder = tf.compat.v1.saved_model.Builder(str(folder))
        signature = tf.compat.v1.saved_model.predict_signature_def(
            {"raw": raw}, {"features": features}
        )
        builder.add_meta_graph_and_variables(
            session, ["serve"], signature_def_map={"serving_default": signature}
        )
        builder.save()
    with zipfile.ZipFile(tmp_path / "tf1" / "weights.zip", "w") as archive:
        zipping.add_folder(archive, folder)
    written = _with_bundle(package, tmp_path / "written", tmp_path / "tf1" / "weights.zip")
    line = refused_line(invoke_fairio("model-test", written, ALLOW), written)
    assert "weights.zip: written by TensorFlow 1 (no object graph)" in line


def test_a_bundle_member_outside_the_bundle_is_refused(convolutions, tmp_path):
    _, package = convolutions
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(package / "weights.zip") as good, zipfile.ZipFile(slip, "w") as bad:
        for member in good.infolist():
            bad.writestr(member, good.read(member))
        bad.writestr("../escaped.txt", "outside")
    hostile = _with_bundle(package, tmp_path / "package", slip)
    line = refused_line(invoke_fairio("model-test", hostile, ALLOW), hostile)
    assert "weights.zip: zip member '../escaped.txt'" in line and "zip slip" in line


@pytest.mark.parametrize("kind", ["inputs", "outputs"])
def test_several_inputs_or_outputs_are_refused_not_mismatched(convolutions, tmp_path, kind):
    """bioimageio.core calls the SavedModel with ``layer(*inputs)`` (the second input would be
    Keras's training flag) and takes its outputs in TensorFlow's dict order, not by name."""
    _, package = convolutions

    def second(description: dict) -> None:
        tensors = description[kind]
        tensors.append({**tensors[0], "id": "second"})

    edited = _edited(package, tmp_path / "edited", second)
    line = refused_line(invoke_fairio("model-test", edited, ALLOW), edited)
    assert f"{FORMAT} weights with 2 {kind} are not run" in line, line


def test_cuda_is_refused_where_tensorflow_has_no_gpu(convolutions, tmp_path, monkeypatch):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    _, package = convolutions
    output = tmp_path / "out.tif"
    arguments = [_image(tmp_path), output, "--device", "cuda", ALLOW]
    result = invoke_fairio("predict", package, *arguments)
    line = refused_line(result, Path("--device"))
    assert f"TensorFlow finds no GPU here (tensorflow-cpu has none), so {FORMAT}" in line
    assert not output.exists()


def test_without_the_extra_one_line_names_it(convolutions, tmp_path, monkeypatch):
    from fairio_tools import extras

    monkeypatch.setitem(extras.MODULES, "tensorflow", ("fairio_tools_no_such_module",))
    _, package = convolutions
    for args in (
        ["predict", package, _image(tmp_path), tmp_path / "out.tif", ALLOW],
        ["model-test", package, ALLOW, "--weight-format", FORMAT],
    ):
        line = refused_line(invoke_fairio(*args), package)
        assert f"running {FORMAT} weights needs the optional 'tensorflow'" in line, line
        assert line.endswith("pip install 'fairio-tools[tensorflow]'"), line
