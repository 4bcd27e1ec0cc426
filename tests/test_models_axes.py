"""Models whose outputs lie on rescaled grids, with several inputs and outputs.

A small ONNX model built here (runs wherever onnxruntime does): two inputs ``a`` and ``b``,
three outputs: ``sum`` (a + b, on a's grid), ``down`` (2 x 2 average of a: half a's size)
and ``up`` (b repeated 2 x 2: twice b's size). Pointwise and block operations need no halo,
so tiled predictions must equal numpy's whole-image result exactly. The real spec examples
(`upsample_test_model`, `unet2d_multi_tensor`) run with torch where it is installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from fairio_tools.models.package import open_model_package
from fairio_tools.models.predict import InputImage, Predictor
from fairio_tools.models.testing import run_model_test
from tests.model_fixtures import invoke_fairio, offline  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("offline")


def _onnx(path: Path, up_factor: int = 2) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    scales = numpy_helper.from_array(np.array([1, 1, up_factor, up_factor], np.float32), "s")
    nodes = [
        helper.make_node("Add", ["a", "b"], ["sum"]),
        helper.make_node("AveragePool", ["a"], ["down"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Resize", ["b", "", "s"], ["up"], mode="nearest"),
    ]
    io = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes,
        "rescaling",
        [io(n, TensorProto.FLOAT, ["n", 1, "h", "w"]) for n in ("a", "b")],
        [io(n, TensorProto.FLOAT, ["n", 1, None, None]) for n in ("sum", "down", "up")],
        initializer=[scales],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _expected(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    height, width = a.shape
    down = a.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
    return {"sum": a + b, "down": down, "up": np.repeat(np.repeat(b, 2, 0), 2, 1)}


def build_rescaling_package(folder: Path, up_factor: int = 2) -> Path:
    """The model above, described in spec 0.5 (input sizes 8 + n*8) with its test tensors.
    ``up_factor`` other than 2 makes ``up`` contradict its description."""
    from bioimageio.spec import save_bioimageio_package_as_folder
    from bioimageio.spec.model import v0_5

    work = folder.parent / f"{folder.name}-sources"
    work.mkdir(parents=True)
    _onnx(work / "weights.onnx", up_factor)
    rng = np.random.default_rng(3)
    a, b = rng.random((2, 16, 24), dtype=np.float32)
    np.save(work / "a.npy", a[None, None])
    np.save(work / "b.npy", b[None, None])
    for name, value in _expected(a, b).items():
        np.save(work / f"{name}.npy", value[None, None])
    (work / "README.md").write_text("# Rescaling\n\nTwo inputs, three outputs, for tests.\n")
    size = v0_5.ParameterizedSize(min=8, step=8)

    def inputs(tensor: str) -> v0_5.InputTensorDescr:
        return v0_5.InputTensorDescr(
            id=v0_5.TensorId(tensor),
            axes=[
                v0_5.BatchAxis(),
                v0_5.ChannelAxis(channel_names=[v0_5.Identifier(tensor)]),
                v0_5.SpaceInputAxis(id=v0_5.AxisId("y"), size=size),
                v0_5.SpaceInputAxis(id=v0_5.AxisId("x"), size=size),
            ],
            test_tensor=v0_5.FileDescr(source=work / f"{tensor}.npy"),
        )

    def outputs(tensor: str, reference: str, scale: float) -> v0_5.OutputTensorDescr:
        spatial = [
            v0_5.SpaceOutputAxis(
                id=v0_5.AxisId(axis),
                scale=scale,
                size=v0_5.SizeReference(
                    tensor_id=v0_5.TensorId(reference), axis_id=v0_5.AxisId(axis)
                ),
            )
            for axis in ("y", "x")
        ]
        return v0_5.OutputTensorDescr(
            id=v0_5.TensorId(tensor),
            axes=[
                v0_5.BatchAxis(),
                v0_5.ChannelAxis(channel_names=[v0_5.Identifier(tensor)]),
                *spatial,
            ],
            test_tensor=v0_5.FileDescr(source=work / f"{tensor}.npy"),
        )

    descr = v0_5.ModelDescr(
        name="Rescaling test model",
        description="Two inputs; sum, 2 x downsampled and 2 x upsampled outputs",
        authors=[v0_5.Author(name="fairio-tools tests")],
        cite=[v0_5.CiteEntry(text="fairio-tools", url="https://example.com/fairio-tools")],
        license="MIT",
        documentation=v0_5.FileDescr(source=work / "README.md"),
        inputs=[inputs("a"), inputs("b")],
        outputs=[outputs("sum", "a", 1.0), outputs("down", "a", 2.0), outputs("up", "b", 0.5)],
        weights=v0_5.WeightsDescr(
            onnx=v0_5.OnnxWeightsDescr(source=work / "weights.onnx", opset_version=17)
        ),
    )
    return Path(save_bioimageio_package_as_folder(descr, output_path=folder))


@pytest.fixture(scope="module")
def rescaling(tmp_path_factory) -> Path:
    return build_rescaling_package(tmp_path_factory.mktemp("rescaling") / "package")


def test_reproduces_every_test_output_and_passes_its_test(rescaling):
    with open_model_package(rescaling) as package:
        assert run_model_test(package).passed
        predictor = Predictor(package)
        images = {t: InputImage(np.load(rescaling / f"{t}.npy"), None, t) for t in "ab"}
        prediction = predictor.predict_images(images)
    for name in ("sum", "down", "up"):
        expected = np.load(rescaling / f"{name}.npy")[0]
        assert prediction.output(name).data.shape == expected.shape
        assert np.abs(prediction.output(name).data - expected).max() <= 1e-6


@pytest.mark.parametrize(("tile", "tiles"), [("8,8", 5 * 7), ("16,24", 3 * 3)])
def test_tiles_on_rescaled_grids_are_stitched_exactly(rescaling, tile, tiles, tmp_path):
    rng = np.random.default_rng(4)
    a, b = rng.random((2, 40, 56), dtype=np.float32)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    targets = {n: tmp_path / f"{n}.tif" for n in ("sum", "down", "up")}
    result = invoke_fairio(
        "predict", rescaling, "--input", f"a={tmp_path / 'a.npy'}",
        "--input", f"b={tmp_path / 'b.npy'}", "--tile", tile,
        *[f"--output={n}={p}" for n, p in targets.items()],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name, expected in _expected(a, b).items():
        written = tifffile.imread(targets[name])
        assert written.shape == expected.shape
        assert np.abs(written - expected).max() <= 1e-6
        with tifffile.TiffFile(targets[name]) as tif:
            metadata = tif.ome_metadata.replace("&quot;", '"')
        assert f'"output_id": "{name}"' in metadata and f'"tiles": {tiles}' in metadata


def test_several_outputs_must_each_be_named(rescaling, tmp_path):
    image = tmp_path / "a.npy"
    np.save(image, np.zeros((16, 16), np.float32))
    result = invoke_fairio(
        "predict", rescaling, "--input", f"a={image}", "--input", f"b={image}",
        tmp_path / "sum.tif",
    )  # fmt: skip
    assert result.returncode == 2
    assert "none given for down, up" in result.stderr
    assert not (tmp_path / "sum.tif").exists()
    missing = invoke_fairio("predict", rescaling, image, tmp_path / "out.tif")
    assert missing.returncode == 2 and "no image given for b" in missing.stderr


def test_an_output_that_contradicts_its_description_is_refused(tmp_path):
    package = build_rescaling_package(tmp_path / "package", up_factor=3)
    image = tmp_path / "a.npy"
    np.save(image, np.ones((16, 16), np.float32))
    targets = {n: tmp_path / f"{n}.tif" for n in ("sum", "down", "up")}
    result = invoke_fairio(
        "predict", package, "--input", f"a={image}", "--input", f"b={image}",
        *[f"--output={n}={p}" for n, p in targets.items()],
    )  # fmt: skip
    assert result.returncode == 2
    assert "output 'up' has shape 1 x 1 x 48 x 48, but its description promises" in (result.stderr)
    assert "? x 1 x 32 x 32" in result.stderr
    assert not any(p.exists() for p in targets.values())


@pytest.mark.parametrize("tile", [None, "10,15"])
def test_upsample_test_model_reproduces_its_test_output(shared_data, tmp_path, tile):
    pytest.importorskip("torch")  # its only weights are a state dict; the ONNX model above
    model = shared_data / "models" / "spec-examples" / "upsample_test_model"
    test_input = np.load(model / "test_input.npy")
    if tile is not None:  # 3 x 3 tiles of a 30 x 45 image, each 4 x upsampled
        test_input = np.tile(test_input, (1, 1, 3, 5))[..., :45]
    np.save(tmp_path / "input.npy", test_input)
    output = tmp_path / "out.tif"
    args = ["predict", model, tmp_path / "input.npy", output, "--allow-model-code"]
    result = invoke_fairio(*args, *(["--tile", tile] if tile else []))
    assert result.returncode == 0, result.stderr
    expected = np.load(model / "test_output.npy")[0, 0]  # 4 x 4 blocks: tiles repeat it
    if tile is not None:
        expected = np.tile(expected, (3, 5))[:, :180]
    written = tifffile.imread(output)
    assert written.shape == expected.shape
    assert np.abs(written - expected).max() <= 1e-4


def test_multi_tensor_model_reproduces_both_test_outputs(shared_data, tmp_path):
    pytest.importorskip("torch")  # TorchScript weights; the ONNX model above runs anywhere
    model = shared_data / "models" / "spec-examples" / "unet2d_multi_tensor"
    result = invoke_fairio(
        "predict", model,
        "--input", f"input0={model / 'test_input_0.npy'}",
        "--input", f"input1={model / 'test_input_1.npy'}",
        "--output", f"output0={tmp_path / 'out0.tif'}",
        "--output", f"output1={tmp_path / 'out1.tif'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for index in (0, 1):
        expected = np.load(model / f"test_output_{index}.npy")[0, 0]
        written = tifffile.imread(tmp_path / f"out{index}.tif")
        assert written.shape == expected.shape
        assert np.abs(written - expected).max() <= 1e-4


def test_a_rescaled_output_over_the_memory_limit_is_refused(rescaling, tmp_path, monkeypatch):
    from fairio_tools import limits

    monkeypatch.setitem(limits._VALUES, "FAIRIO_MAX_DECODED_BYTES", 20_000)
    image = tmp_path / "a.npy"
    np.save(image, np.ones((40, 56), np.float32))  # 8960 bytes; 'up' is 4 x that
    targets = {n: tmp_path / f"{n}.tif" for n in ("sum", "down", "up")}
    result = invoke_fairio(
        "predict", rescaling, "--input", f"a={image}", "--input", f"b={image}",
        *[f"--output={n}={p}" for n, p in targets.items()],
    )  # fmt: skip
    assert result.returncode == 2
    assert "bytes of the model's output 'up' in memory: 35840" in result.stderr
    assert not any(p.exists() for p in targets.values())
