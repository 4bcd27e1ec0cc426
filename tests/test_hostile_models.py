"""Hostile bioimage.io model packages (issue 11): crafted code, YAML and zip bombs, corrupt
files. Each is refused with exit 2 and one line naming it, quickly, in bounded memory,
without running the package's code and without leaving anything behind.

Mutants are made here from the real packages in ../shared/data/models and the Galaxy test
zip, or from the tiny mean filter the tests build. Bombs run as a separate ``fairio`` process
under an address-space limit, with its own TMPDIR so leftovers can be seen.
"""

from __future__ import annotations

import json
import pickle
import resource
import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from fairio_tools.models.package import sha256_of
from tests.conftest import ROOT, run_measured
from tests.model_fixtures import (
    build_mean_filter_package,
    invoke_fairio,
    no_torch,  # noqa: F401  (fixture)
    offline,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("offline")

ADDRESS_SPACE = 3 * 2**30
"""The bombs run under this RLIMIT_AS (python, numpy and onnx need ~1 GiB of it)."""
PEAK_RSS = 2**30
"""A refusal may use at most this much resident memory."""
GALAXY_ZIP = ROOT / "tools" / "model_info" / "test-data" / "unet2d_nuclei_broad.zip"
ZEROS = 63 * 2**20


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_mean_filter_package(tmp_path_factory.mktemp("tiny") / "package")


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("image") / "image.npy"
    np.save(path, np.zeros((40, 48), np.float32))
    return path


@pytest.fixture(scope="module")
def deflated_zeros() -> bytes:
    """63 MiB of zeros, raw deflate (about 290 KB): one bomb member."""
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    return packer.compress(bytes(ZEROS)) + packer.flush()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The temporary folder this process unpacks zips into (checked for leftovers)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _refused(result, path: Path, *words: str, tmp: Path | None = None) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"fairio: error: {path}"), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    if tmp is not None:
        assert list(tmp.iterdir()) == [], "leftovers in the temporary folder"
    return lines[0]


def _all_commands(model: Path, image: Path, out: Path) -> dict[str, list]:
    return {
        "model-info": ["model-info", model],
        "model-test": ["model-test", model],
        "predict": ["predict", model, image, out / "prediction.tif"],
    }


class _NoAliases(yaml.SafeDumper):
    """Writes shared objects out in full, as the original descriptions do."""

    def ignore_aliases(self, data) -> bool:
        return True


def _mutant(source: Path, target: Path, edit=None, description: str = "rdf.yaml") -> Path:
    """A copy of package folder ``source`` whose description ``edit`` changes."""
    shutil.copytree(source, target)
    for path in target.iterdir():
        path.chmod(0o644)
    found = next(p for p in target.iterdir() if p.name.endswith(("rdf.yaml", "bioimageio.yaml")))
    content = yaml.safe_load(found.read_text())
    found.unlink()
    if edit is not None:
        edit(target, content)
    (target / description).write_text(yaml.dump(content, Dumper=_NoAliases, sort_keys=False))
    return target


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.iterdir()):
            bundle.write(path, path.name)
    return target


def _raw_zip(target: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip whose members (name, deflated data, declared size, crc) are written as given:
    the headers may lie."""
    local, central = bytearray(), bytearray()
    for name, data, size, crc in members:
        raw = name.encode()
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 33, crc, len(data), size,
            len(raw), 0, 0, 0, 0, 0, len(local),
        ) + raw  # fmt: skip
        local += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 33, crc, len(data), size, len(raw), 0
        ) + raw + data  # fmt: skip
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0
    )
    target.write_bytes(bytes(local + central + end))
    return target


def _run_bounded(tmp: Path, *args: object, **env: str) -> subprocess.CompletedProcess:
    """``fairio ARGS`` as its own process: RLIMIT_AS, its own TMPDIR, a 60 s timeout."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    result, peak = run_measured(*map(str, args), env={"TMPDIR": str(tmp), **env}, preexec_fn=limit)
    assert peak < PEAK_RSS, f"a fairio process used {peak} bytes"
    return result


# --- the package's code runs only with explicit consent -------------------------------------


def _canary_code(canary: Path) -> str:
    return f"open({str(canary)!r}, 'w').write('package code ran')\n"


def _architecture_mutant(shared_data: Path, target: Path, canary: Path) -> Path:
    """The real multi-tensor U-Net (pytorch_state_dict and torchscript), its architecture
    file writing a canary when imported."""

    def edit(folder: Path, content: dict) -> None:
        source = folder / "multi_tensor_unet.py"
        source.write_text(_canary_code(canary) + source.read_text())
        content["weights"]["pytorch_state_dict"]["architecture"]["sha256"] = sha256_of(source)

    real = shared_data / "models" / "spec-examples" / "unet2d_multi_tensor"
    return _zip(_mutant(real, target.with_suffix(""), edit), target)


@pytest.mark.usefixtures("no_torch")
def test_architecture_code_never_runs_without_opt_in(shared_data, image, tmp_path, private_tmp):
    canary = tmp_path / "CANARY"
    model = _architecture_mutant(shared_data, tmp_path / "unet.zip", canary)
    for name, args in _all_commands(model, image, tmp_path).items():
        result = invoke_fairio(*args)
        if name == "model-info":
            assert result.returncode == 0, result.stderr
            weights = {w["format"]: w for w in json.loads(result.stdout)["weights"]}
            assert weights["pytorch_state_dict"]["runnable_here"] is False
            assert weights["pytorch_state_dict"]["runs_package_code"] == (
                "multi_tensor_unet.py, callable MultiTensorUNet"
            )
            assert weights["torchscript"]["runs_package_code"] is None
            continue
        line = _refused(result, model, tmp=private_tmp)
        # the torchscript weights would run without code: installing torch is what helps
        assert "running torchscript weights needs the optional 'torch'" in line
        forced = invoke_fairio(*args, "--weight-format", "pytorch_state_dict")
        line = _refused(forced, model, "[weights.pytorch_state_dict]", "--allow-model-code")
        assert "runs code from the package (multi_tensor_unet.py" in line
        assert "onnx and torchscript weights run without code" in line
        assert "FAIRIO_ALLOW_MODEL_CODE=1" in line
    assert not canary.exists()
    assert not (tmp_path / "prediction.tif").exists()


def test_library_callable_with_package_arguments_is_code_too(tiny, image, tmp_path):
    canary = tmp_path / "CANARY"

    def edit(folder: Path, content: dict) -> None:
        (folder / "weights.pt").write_bytes(b"not a state dict")
        content["weights"] = {
            "pytorch_state_dict": {
                "source": "weights.pt",
                "sha256": sha256_of(folder / "weights.pt"),
                "architecture": {
                    "import_from": "subprocess",
                    "callable": "run",
                    "kwargs": {"args": ["touch", str(canary)]},
                },
                "pytorch_version": "2.5",
            }
        }

    model = _mutant(tiny, tmp_path / "package", edit)
    line = _refused(invoke_fairio("predict", model, image, tmp_path / "out.tif"), model)
    assert "(subprocess.run with the package's arguments)" in line
    line = _refused(invoke_fairio("model-test", model), model, "nothing to test")
    assert not canary.exists()


def _custom_processing_mutant(tiny: Path, target: Path, canary: Path) -> Path:
    """The mean filter with a ``custom`` postprocessing step whose .py writes a canary."""

    def edit(folder: Path, content: dict) -> None:
        step = folder / "identity.py"
        step.write_text(
            _canary_code(canary) + "def identity():\n    return lambda *arrays: arrays[0]\n"
        )
        content["outputs"][0]["postprocessing"] = [
            {"id": "custom", "callable": "identity", "source": step.name,
             "sha256": sha256_of(step)}
        ]  # fmt: skip

    return _mutant(tiny, target, edit)


def test_custom_processing_runs_only_with_opt_in(tiny, image, tmp_path, monkeypatch):
    canary = tmp_path / "CANARY"
    model = _custom_processing_mutant(tiny, tmp_path / "package", canary)
    out = tmp_path / "out.tif"
    for args in (["predict", model, image, out], ["model-test", model]):
        line = _refused(invoke_fairio(*args), model, "custom processing", "(identity.py)")
        assert "--allow-model-code" in line
    report = json.loads(invoke_fairio("model-info", model).stdout)
    assert report["outputs"][0]["postprocessing"][0]["runs_package_code"] == (
        "identity.py, callable identity"
    )
    assert not canary.exists() and not out.exists()
    # an admin's opt-in reaches the code: it runs (so the refusal above is what stopped it)
    monkeypatch.setenv("FAIRIO_ALLOW_MODEL_CODE", "1")
    result = invoke_fairio("predict", model, image, out)
    assert result.returncode == 0, result.stderr
    assert canary.read_text() == "package code ran" and out.exists()


# --- YAML bombs in the description ----------------------------------------------------------

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("bomb", "words"),
    [
        (LAUGHS, ["rdf.yaml: ", "aliases counted in full"]),
        ("x: " + "[" * 5000 + "]" * 5000, ["nest"]),
    ],
    ids=["billion-laughs", "deep-nesting"],
)
def test_yaml_bomb_in_description_is_refused(tiny, image, tmp_path, monkeypatch, bomb, words):
    folder = tmp_path / "package"
    shutil.copytree(tiny, folder)
    (folder / "rdf.yaml").write_text(bomb)
    model = _zip(folder, tmp_path / "bomb.zip")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _refused(_run_bounded(tmp, "model-test", model), model, *words, tmp=tmp)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    for args in (["model-info", model], ["predict", model, image, tmp_path / "out.tif"]):
        _refused(invoke_fairio(*args), model, *words, tmp=tmp)


# --- zip bombs -------------------------------------------------------------------------------


def test_zip_of_16_members_of_63_mib_is_refused_unread(tmp_path, deflated_zeros):
    crc = zlib.crc32(bytes(ZEROS))
    members = [(f"part{i}.bin", deflated_zeros, ZEROS, crc) for i in range(16)]
    model = _raw_zip(tmp_path / "bomb.zip", members)
    assert model.stat().st_size < 5 * 2**20  # 1 GiB unpacked from under 5 MB
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _refused(_run_bounded(tmp, "model-info", model), model, "refused as a zip bomb", tmp=tmp)


def test_member_that_inflates_beyond_its_header_is_refused(tmp_path, deflated_zeros):
    model = _raw_zip(tmp_path / "liar.zip", [("bioimageio.yaml", deflated_zeros, 1024, 0)])
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _refused(_run_bounded(tmp, "model-test", model), model, "damaged zip archive", tmp=tmp)


def test_zip_with_too_many_members_is_refused_before_parsing(tmp_path):
    empty = zlib.compressobj(1, zlib.DEFLATED, -15).flush()
    model = _raw_zip(tmp_path / "many.zip", [(f"m{i}", empty, 0, 0) for i in range(20_000)])
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _refused(_run_bounded(tmp, "model-info", model), model, "20000 members", tmp=tmp)


def test_admin_can_lower_the_unpacked_size_limit(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = _run_bounded(tmp, "model-info", GALAXY_ZIP, FAIRIO_MAX_MODEL_BYTES="1000000")
    _refused(result, GALAXY_ZIP, "would unpack to 4145750 bytes (limit 1000000)", tmp=tmp)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../../escaped.txt", ["climbs out", "zip slip"]),
        ("/tmp/absolute.txt", ["is absolute", "zip slip"]),
        ("link", ["symbolic link"]),
        ("bioimageio.yaml", ["appears twice"]),
    ],
    ids=["dotdot", "absolute", "symlink", "duplicate"],
)
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_unsafe_member_is_refused(tmp_path, private_tmp, name, words):
    model = tmp_path / "model.zip"
    shutil.copy(GALAXY_ZIP, model)
    with zipfile.ZipFile(model, "a") as bundle:
        member = zipfile.ZipInfo(name)
        if name == "link":
            member.external_attr = 0o120777 << 16
        bundle.writestr(member, "/etc/passwd")
    _refused(invoke_fairio("model-info", model), model, *words, tmp=private_tmp)
    assert not Path("/tmp/absolute.txt").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()


# --- corrupt or unsupported packages ---------------------------------------------------------


def _corrupt_zips(folder: Path) -> dict[str, tuple[Path, list[str]]]:
    data = GALAXY_ZIP.read_bytes()
    truncated = folder / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = folder / "garbage.zip"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    bad_crc = folder / "bad_crc.zip"
    with zipfile.ZipFile(GALAXY_ZIP) as bundle:
        member = bundle.getinfo("bioimageio.yaml")
        start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    flipped = bytearray(data)
    flipped[start + 100] ^= 0xFF
    bad_crc.write_bytes(bytes(flipped))
    no_description = folder / "no_description.zip"
    with (
        zipfile.ZipFile(GALAXY_ZIP) as source,
        zipfile.ZipFile(no_description, "w") as target,
    ):
        for info in source.infolist():
            if info.filename != "bioimageio.yaml":
                target.writestr(info, source.read(info))
    return {
        "truncated": (truncated, ["not a model package"]),
        "garbage": (garbage, ["not a model package"]),
        "bad-crc": (bad_crc, ["damaged zip archive"]),
        "no-description": (no_description, ["holds no bioimage.io description"]),
    }


def test_corrupt_zips_are_refused_by_every_command(image, tmp_path, private_tmp):
    for model, words in _corrupt_zips(tmp_path).values():
        for args in _all_commands(model, image, tmp_path).values():
            _refused(invoke_fairio(*args), model, *words, tmp=private_tmp)
    assert not (tmp_path / "prediction.tif").exists()


def _bad_descriptions(shared_data: Path, folder: Path) -> dict[str, tuple[Path, list[str]]]:
    real = shared_data / "models" / "unet2d_nuclei_broad"
    keep = ("README.md", "weights.onnx", "test_input.npy", "test_output.npy", "cover0.png")

    def copy(name: str, text: str) -> Path:
        target = folder / name
        target.mkdir()
        for file in keep:
            shutil.copy(real / file, target / file)
        (target / "bioimageio.yaml").write_text(text)
        return target

    content = yaml.safe_load((real / "bioimageio.yaml").read_text())
    del content["inputs"]
    return {
        "invalid": (copy("invalid", yaml.safe_dump(content)), ["inputs: Field required"]),
        "a-list": (copy("a-list", "- 1\n- 2\n"), ["not a YAML mapping"]),
        "not-yaml": (copy("not-yaml", "inputs: [unclosed\n"), ["invalid YAML"]),
        "binary": (copy("binary", "\xff\xfe"), []),
    }


def test_invalid_descriptions_are_refused_by_every_command(shared_data, image, tmp_path):
    for model, words in _bad_descriptions(shared_data, tmp_path).values():
        for args in _all_commands(model, image, tmp_path).values():
            _refused(invoke_fairio(*args), model, *words)


def test_corrupt_weights_are_refused_by_model_test_and_predict(tiny, image, tmp_path):
    def edit(folder: Path, content: dict) -> None:
        (folder / "weights.onnx").write_bytes(np.random.default_rng(1).bytes(5000))
        content["weights"]["onnx"]["sha256"] = sha256_of(folder / "weights.onnx")

    model = _mutant(tiny, tmp_path / "package", edit)
    for args in (["model-test", model], ["predict", model, image, tmp_path / "out.tif"]):
        _refused(invoke_fairio(*args), model, "[weights.onnx]", "cannot load the onnx weights")
    assert not (tmp_path / "out.tif").exists()


def test_wrong_sha256_is_refused_before_the_weights_are_used(tiny, image, tmp_path):
    def edit(folder: Path, content: dict) -> None:
        content["weights"]["onnx"]["sha256"] = "1" * 64

    model = _mutant(tiny, tmp_path / "package", edit)
    for args in (["model-test", model], ["predict", model, image, tmp_path / "out.tif"]):
        _refused(invoke_fairio(*args), model, "[weights.onnx.sha256]", "but the description")
    (weights,) = json.loads(invoke_fairio("model-info", model).stdout)["weights"]
    assert weights["sha256_matches"] is False  # model-info reports it, as its job is


class _Unpickled:
    """Writes a canary file when unpickled."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self):
        return (open, (str(self.canary), "w"))


def _npy_mutants(tiny: Path, folder: Path, canary: Path) -> dict[str, tuple[Path, list[str]]]:
    def pickled(target: Path, content: dict) -> None:
        with (target / "test_input.npy").open("wb") as stream:
            np.save(stream, np.array([_Unpickled(canary)], dtype=object), allow_pickle=True)

    def huge(target: Path, content: dict) -> None:
        from numpy.lib import format as npy

        with (target / "test_output.npy").open("wb") as stream:
            header = {"descr": "<f4", "fortran_order": False, "shape": (2**20, 2**20)}
            npy.write_array_header_1_0(stream, header)
            stream.write(bytes(64))

    def not_npy(target: Path, content: dict) -> None:
        (target / "test_input.npy").write_bytes(pickle.dumps([1, 2, 3]))

    return {
        "pickle": (_mutant(tiny, folder / "pickle", pickled), ["test_input.npy", "pickles"]),
        "huge": (_mutant(tiny, folder / "huge", huge), ["(1048576, 1048576)", "holds only 64"]),
        "not-npy": (_mutant(tiny, folder / "not-npy", not_npy), ["not a valid .npy"]),
    }


def test_hostile_test_tensors_are_refused_by_every_command(tiny, image, tmp_path):
    canary = tmp_path / "CANARY"
    for model, words in _npy_mutants(tiny, tmp_path, canary).values():
        for args in _all_commands(model, image, tmp_path).values():
            _refused(invoke_fairio(*args), model, *words)
    assert not canary.exists()


def test_huge_test_tensor_is_refused_in_bounded_memory(tiny, tmp_path):
    model = _zip(_npy_mutants(tiny, tmp_path, tmp_path / "CANARY")["huge"][0], tmp_path / "m.zip")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _refused(_run_bounded(tmp, "model-test", model), model, "holds only 64", tmp=tmp)
