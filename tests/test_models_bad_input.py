"""Model packages and images that must be refused: one clear line, exit 2, nothing written."""

from __future__ import annotations

import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from fairio_tools.models.package import sha256_of
from tests.model_fixtures import (
    build_mean_filter_package,
    invoke_fairio,
    no_torch,  # noqa: F401  (fixture)
    offline,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("offline")  # every CLI run here is in-process, offline


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_mean_filter_package(tmp_path_factory.mktemp("tiny") / "package")


@pytest.fixture
def image(tmp_path) -> Path:
    path = tmp_path / "image.npy"
    np.save(path, np.zeros((40, 48), np.float32))
    return path


def _refused(result, path: Path, *words: str, output: Path | None = None, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    if output is not None:
        assert not output.exists()
        assert not [p for p in output.parent.iterdir() if p.name.startswith(f".{output.name}")]
    return lines[0]


def _zip_of(folder: Path, target: Path, extra: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.iterdir()):
            bundle.write(path, path.name)
        for name, data in extra.items():
            bundle.writestr(name, data)
    return target


def test_zip_slip_is_refused(tiny, image, tmp_path):
    archive = _zip_of(tiny, tmp_path / "slip.zip", {"../../escaped.txt": b"gotcha"})
    output = tmp_path / "out.tif"
    result = invoke_fairio("predict", archive, image, output)
    _refused(result, archive, "'../../escaped.txt'", "zip slip", output=output)
    assert not (tmp_path.parent.parent / "escaped.txt").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_zip_bomb_is_refused(tiny, image, tmp_path):
    archive = tmp_path / "bomb.zip"
    _zip_of(tiny, archive, {})
    with (
        zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as bundle,
        bundle.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(256):
            member.write(bytes(2**20))
    output = tmp_path / "out.tif"
    result = invoke_fairio("predict", archive, image, output)
    _refused(result, archive, "'zeros.bin'", "zip bomb", output=output)


def test_wrong_sha256_of_local_weights_is_refused(tiny, image, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(tiny, package)
    description = yaml.safe_load((package / "rdf.yaml").read_text())
    description["weights"]["onnx"]["sha256"] = "0" * 64
    (package / "rdf.yaml").write_text(yaml.safe_dump(description))
    output = tmp_path / "out.tif"
    line = _refused(invoke_fairio("predict", package, image, output), package, output=output)
    assert (
        "[weights.onnx.sha256]" in line
        and f"sha256 of weights.onnx is {sha256_of(package / 'weights.onnx')}" in line
    )
    line = _refused(invoke_fairio("model-test", package), package)
    assert "[weights.onnx.sha256]" in line  # refused before bioimageio.core runs the weights


def test_image_with_wrong_channel_count_is_explained(tiny, tmp_path):
    rgb = tmp_path / "rgb.png"
    Image.fromarray(np.zeros((40, 48, 3), np.uint8)).save(rgb)
    output = tmp_path / "out.tif"
    line = _refused(invoke_fairio("predict", tiny, rgb, output), rgb, output=output)
    assert "3 channels" in line
    assert (
        "expects input 'image' with axes b,c,y,x (1 channel: intensity; y 16+n*8; x 16+n*8)" in line
    )


def test_3d_stack_for_2d_model_lists_what_the_model_expects(shared_data, tiny, tmp_path):
    stack = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    output = tmp_path / "out.tif"
    line = _refused(invoke_fairio("predict", tiny, stack, output), stack, output=output)
    assert "its z axis (size 10) has no place" in line and "axes b,c,y,x" in line


class _Unpickled:
    """Creates a marker file when unpickled: proves a state dict was (or was not) loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _with_state_dict(tiny: Path, target: Path, marker: Path, keep_onnx: bool) -> Path:
    shutil.copytree(tiny, target)
    (target / "weights.pt").write_bytes(pickle.dumps({"w": _Unpickled(marker)}))
    (target / "net.py").write_text("class Net:\n    pass\n")
    description = yaml.safe_load((target / "rdf.yaml").read_text())
    description["weights"]["pytorch_state_dict"] = {
        "source": "weights.pt",
        "sha256": sha256_of(target / "weights.pt"),
        "architecture": {
            "source": "net.py",
            "sha256": sha256_of(target / "net.py"),
            "callable": "Net",
        },
        "pytorch_version": "2.5",
    }
    if keep_onnx:
        description["weights"]["onnx"]["parent"] = "pytorch_state_dict"
    else:
        del description["weights"]["onnx"]
        (target / "weights.onnx").unlink()
    (target / "rdf.yaml").write_text(yaml.safe_dump(description))
    return target


@pytest.mark.usefixtures("no_torch")
def test_state_dict_is_never_unpickled_without_torch(tiny, image, tmp_path):
    marker = tmp_path / "UNPICKLED"
    package = _with_state_dict(tiny, tmp_path / "package", marker, keep_onnx=True)
    output = tmp_path / "out.tif"
    result = invoke_fairio(
        "predict", package, image, output, "--weight-format", "pytorch_state_dict"
    )
    line = _refused(result, package, output=output)
    assert "pytorch_state_dict weights cannot run here: runs code" in line
    assert "--allow-model-code" in line
    assert not marker.exists()
    result = invoke_fairio(
        "predict", package, image, output, "--weight-format", "pytorch_state_dict",
        "--allow-model-code",
    )  # fmt: skip
    line = _refused(result, package, output=output)
    assert "running pytorch_state_dict weights needs the optional 'torch'" in line
    assert line.endswith("pip install 'fairio-tools[torch]'")
    assert not marker.exists()
    # without --weight-format the onnx weights are used, the pickle is never opened
    assert invoke_fairio("predict", package, image, output).returncode == 0
    assert output.exists() and not marker.exists()


@pytest.mark.usefixtures("no_torch")
def test_only_a_state_dict_and_no_torch_says_so(tiny, image, tmp_path):
    marker = tmp_path / "UNPICKLED"
    package = _with_state_dict(tiny, tmp_path / "package", marker, keep_onnx=False)
    output = tmp_path / "out.tif"
    line = _refused(invoke_fairio("predict", package, image, output), package, output=output)
    assert "no runnable weights in the package (pytorch_state_dict: runs code" in line
    assert "onnx and torchscript weights run without code" in line
    line = _refused(invoke_fairio("model-test", package), package)
    assert "nothing to test" in line and "--allow-model-code" in line
    result = invoke_fairio("predict", package, image, output, "--allow-model-code")
    line = _refused(result, package, output=output)
    assert "running pytorch_state_dict weights needs the optional 'torch'" in line
    assert line.endswith("pip install 'fairio-tools[torch]'")
    assert not marker.exists()


def test_remote_only_weights_are_named(shared_data, image, tmp_path):
    model = shared_data / "models" / "unet2d_nuclei_broad"
    output = tmp_path / "out.tif"
    result = invoke_fairio("predict", model, image, output, "--weight-format", "pytorch_state_dict")
    line = _refused(result, model, output=output)
    assert "weights are only remote (http://files.ilastik.org/" in line


def test_existing_output_is_kept(tiny, image, tmp_path):
    output = tmp_path / "out.tif"
    output.write_bytes(b"precious")
    line = _refused(invoke_fairio("predict", tiny, image, output), output)
    assert "already exists" in line
    assert output.read_bytes() == b"precious"
