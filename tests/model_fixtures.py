"""Helpers for the model tests: no network, in-process CLI runs, and a tiny model that the
tests build themselves (onnx helper API + bioimageio.spec)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

MEAN_FILTER_HALO = 1
CONV_HALO = 2
"""Two 3 x 3 convolutions (the TensorFlow test models): each output pixel sees two pixels
around it."""


@pytest.fixture
def offline(monkeypatch):
    """No network in this process: any connection or name lookup raises."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def no_torch(monkeypatch):
    """torch looks not installed to fairio-tools, whether or not this environment has it."""
    from fairio_tools import extras

    monkeypatch.setitem(extras.MODULES, "torch", ("fairio_tools_no_such_module",))


def mean_filter_symmetric(image: np.ndarray) -> np.ndarray:
    """The mean filter of ``image`` mirrored by one pixel at its border (numpy's
    ``symmetric``), as tiles with a halo of 1 see it."""
    padded = np.pad(image.astype(np.float32), 1, mode="symmetric")
    return mean_filter(padded)[1:-1, 1:-1]


def invoke_fairio(*args: object) -> SimpleNamespace:
    """Run the ``fairio`` CLI in this process (so ``offline`` applies and imports are reused).

    Returns ``returncode``, ``stdout`` and ``stderr`` like ``run_fairio``.
    """
    from click.testing import CliRunner

    from fairio_tools.cli.app import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def refused_line(result: SimpleNamespace, package: Path) -> str:
    """The one line of a refusal (exit 2) naming ``package``."""
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"fairio: error: {package}"), line
    return line


def rehash_weights(folder: Path, weight_format: str) -> Path:
    """Declare the sha256 of the (changed) ``weight_format`` weights file of the package
    ``folder``."""
    import yaml

    from fairio_tools.models.package import sha256_of

    description = yaml.safe_load((folder / "rdf.yaml").read_text())
    weights = description["weights"][weight_format]
    weights["sha256"] = sha256_of(folder / weights["source"])
    (folder / "rdf.yaml").write_text(yaml.safe_dump(description, sort_keys=False))
    return folder


def mean_filter_onnx(path: Path) -> None:
    """A 3 x 3 mean filter as ONNX (zero padding), for inputs of any height and width."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.full((1, 1, 3, 3), 1 / 9, np.float32), name="w")
    node = helper.make_node("Conv", ["input", "w"], ["output"], pads=[1, 1, 1, 1])
    graph = helper.make_graph(
        [node],
        "mean_filter",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["b", 1, "h", "w"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["b", 1, "h", "w"])],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def mean_filter(image: np.ndarray) -> np.ndarray:
    """What the ONNX model computes, in numpy (zero padding)."""
    padded = np.pad(image.astype(np.float32), 1)
    height, width = image.shape
    total = sum(padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3))
    return (total / 9).astype(np.float32)


def build_mean_filter_package(folder: Path, zip_path: Path | None = None) -> Path:
    """Describe the mean filter with bioimageio.spec (size 16 + n*8, halo 1) and save it as a
    package folder (or zip). Returns the package's path."""
    from bioimageio.spec import save_bioimageio_package, save_bioimageio_package_as_folder
    from bioimageio.spec.model import v0_5

    work = folder.parent / f"{folder.name}-sources"
    work.mkdir(parents=True)
    mean_filter_onnx(work / "weights.onnx")
    rng = np.random.default_rng(0)
    test_input = rng.random((1, 1, 40, 48), dtype=np.float32)
    np.save(work / "test_input.npy", test_input)
    np.save(work / "test_output.npy", mean_filter(test_input[0, 0])[None, None])
    (work / "README.md").write_text("# Mean filter\n\nA 3 x 3 mean filter for tests.\n")

    size = v0_5.ParameterizedSize(min=16, step=8)
    descr = v0_5.ModelDescr(
        name="Tiny mean filter",
        description="A 3 x 3 mean filter with parameterized input size, for tests",
        authors=[v0_5.Author(name="fairio-tools tests")],
        cite=[v0_5.CiteEntry(text="fairio-tools", url="https://example.com/fairio-tools")],
        license="MIT",
        documentation=v0_5.FileDescr(source=work / "README.md"),
        inputs=[
            v0_5.InputTensorDescr(
                id=v0_5.TensorId("image"),
                axes=[
                    v0_5.BatchAxis(),
                    v0_5.ChannelAxis(channel_names=[v0_5.Identifier("intensity")]),
                    v0_5.SpaceInputAxis(id=v0_5.AxisId("y"), size=size),
                    v0_5.SpaceInputAxis(id=v0_5.AxisId("x"), size=size),
                ],
                test_tensor=v0_5.FileDescr(source=work / "test_input.npy"),
            )
        ],
        outputs=[
            v0_5.OutputTensorDescr(
                id=v0_5.TensorId("smoothed"),
                axes=[
                    v0_5.BatchAxis(),
                    v0_5.ChannelAxis(channel_names=[v0_5.Identifier("smoothed")]),
                    v0_5.SpaceOutputAxisWithHalo(
                        id=v0_5.AxisId("y"),
                        halo=MEAN_FILTER_HALO,
                        size=v0_5.SizeReference(
                            tensor_id=v0_5.TensorId("image"), axis_id=v0_5.AxisId("y")
                        ),
                    ),
                    v0_5.SpaceOutputAxisWithHalo(
                        id=v0_5.AxisId("x"),
                        halo=MEAN_FILTER_HALO,
                        size=v0_5.SizeReference(
                            tensor_id=v0_5.TensorId("image"), axis_id=v0_5.AxisId("x")
                        ),
                    ),
                ],
                test_tensor=v0_5.FileDescr(source=work / "test_output.npy"),
            )
        ],
        weights=v0_5.WeightsDescr(
            onnx=v0_5.OnnxWeightsDescr(source=work / "weights.onnx", opset_version=17)
        ),
    )
    if zip_path is not None:
        return Path(save_bioimageio_package(descr, output_path=zip_path))
    return Path(save_bioimageio_package_as_folder(descr, output_path=folder))


def build_mean_filter_v04(folder: Path, modern: Path | None = None) -> Path:
    """The same mean filter described in the older format 0.4 (axes as a string, shapes as
    ``min``/``step`` lists, halo on the output), from the 0.5 package ``modern`` (built when
    None)."""
    import shutil

    import yaml

    from fairio_tools.models.package import sha256_of

    modern = modern or build_mean_filter_package(folder.parent / f"{folder.name}-0.5")
    folder.mkdir(parents=True)
    for name in ("weights.onnx", "test_input.npy", "test_output.npy", "README.md"):
        shutil.copy(modern / name, folder / name)
    description = {
        "format_version": "0.4.10",
        "type": "model",
        "name": "Tiny mean filter (format 0.4)",
        "description": "A 3 x 3 mean filter for tests",
        "authors": [{"name": "fairio-tools tests"}],
        "cite": [{"text": "fairio-tools", "url": "https://example.com/fairio-tools"}],
        "license": "MIT",
        "documentation": "README.md",
        "timestamp": "2024-01-01T00:00:00",
        "inputs": [
            {
                "name": "image",
                "axes": "bcyx",
                "data_type": "float32",
                "shape": {"min": [1, 1, 16, 16], "step": [0, 0, 8, 8]},
            }
        ],
        "outputs": [
            {
                "name": "smoothed",
                "axes": "bcyx",
                "data_type": "float32",
                "shape": {"reference_tensor": "image", "scale": [1, 1, 1, 1], "offset": [0] * 4},
                "halo": [0, 0, MEAN_FILTER_HALO, MEAN_FILTER_HALO],
            }
        ],
        "test_inputs": ["test_input.npy"],
        "test_outputs": ["test_output.npy"],
        "weights": {
            "onnx": {
                "source": "weights.onnx",
                "sha256": sha256_of(folder / "weights.onnx"),
                "opset_version": 17,
            }
        },
    }
    (folder / "rdf.yaml").write_text(yaml.safe_dump(description, sort_keys=False))
    return folder


def normalised(image: np.ndarray) -> np.ndarray:
    """bioimage.io's ``zero_mean_unit_variance`` over the whole image (eps 1e-6)."""
    image = image.astype(np.float32)
    return ((image - image.mean()) / (image.std() + 1e-6)).astype(np.float32)


def build_conv_package(
    folder: Path,
    name: str,
    weights: Callable[[Path], Any],
    predict: Callable[[list[np.ndarray]], np.ndarray],
    second_input: bool = False,
) -> Path:
    """A 2-D model on ``b, y, x, c`` tensors as a bioimage.io 0.5 package folder: input ``raw``
    normalised over the whole image, size 16 + n*8, output ``features`` with halo
    ``CONV_HALO``. ``weights(work)`` writes the weights into ``work`` and returns their
    ``WeightsDescr``; the test output is ``predict(batches)`` of the (normalised) test input.
    ``second_input``: a second input ``mask`` of the same size, neither normalised."""
    from bioimageio.spec import save_bioimageio_package_as_folder
    from bioimageio.spec.model import v0_5

    work = folder.parent / f"{folder.name}-sources"
    work.mkdir(parents=True)
    described_weights = weights(work)
    test_input = np.random.default_rng(14).random((40, 48), dtype=np.float32) * 200 + 10
    np.save(work / "test_input.npy", test_input[None, ..., None])
    if second_input:
        np.save(work / "test_mask.npy", test_input[None, ..., None])
        batches = [test_input[None, ..., None]] * 2
    else:
        batches = [normalised(test_input)[None, ..., None]]
    np.save(work / "test_output.npy", predict(batches))
    (work / "README.md").write_text(f"# {name}\n\nTwo 3 x 3 convolutions, for tests.\n")
    size = v0_5.ParameterizedSize(min=16, step=8)

    def space(axis: str) -> v0_5.SpaceOutputAxisWithHalo:
        reference = v0_5.SizeReference(tensor_id=v0_5.TensorId("raw"), axis_id=v0_5.AxisId(axis))
        return v0_5.SpaceOutputAxisWithHalo(id=v0_5.AxisId(axis), halo=CONV_HALO, size=reference)

    def image_input(tensor_id: str, test: str, preprocessing: list) -> v0_5.InputTensorDescr:
        return v0_5.InputTensorDescr(
            id=v0_5.TensorId(tensor_id),
            axes=[
                v0_5.BatchAxis(),
                v0_5.SpaceInputAxis(id=v0_5.AxisId("y"), size=size),
                v0_5.SpaceInputAxis(id=v0_5.AxisId("x"), size=size),
                v0_5.ChannelAxis(channel_names=[v0_5.Identifier("intensity")]),
            ],
            test_tensor=v0_5.FileDescr(source=work / test),
            preprocessing=preprocessing,
        )

    normalise = v0_5.ZeroMeanUnitVarianceDescr(
        kwargs=v0_5.ZeroMeanUnitVarianceKwargs(axes=None, eps=1e-6)
    )
    inputs = [image_input("raw", "test_input.npy", [] if second_input else [normalise])]
    if second_input:
        inputs.append(image_input("mask", "test_mask.npy", []))
    descr = v0_5.ModelDescr(
        name=name,
        description=f"{name}: two seeded 3 x 3 convolutions, for tests",
        authors=[v0_5.Author(name="fairio-tools tests")],
        cite=[v0_5.CiteEntry(text="fairio-tools", url="https://example.com/fairio-tools")],
        license="MIT",
        documentation=v0_5.FileDescr(source=work / "README.md"),
        inputs=inputs,
        outputs=[
            v0_5.OutputTensorDescr(
                id=v0_5.TensorId("features"),
                axes=[
                    v0_5.BatchAxis(),
                    space("y"),
                    space("x"),
                    v0_5.ChannelAxis(channel_names=[v0_5.Identifier("feature")]),
                ],
                test_tensor=v0_5.FileDescr(source=work / "test_output.npy"),
            )
        ],
        weights=described_weights,
    )
    return Path(save_bioimageio_package_as_folder(descr, output_path=folder))
