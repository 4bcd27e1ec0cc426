"""The package: ``python -m build`` gives an sdist and a wheel that ``twine check`` accepts; the
wheel alone, with only its runtime dependencies in a clean virtualenv, runs every Galaxy
tool's command on real files; the extras stay out of it, and a command that needs one says
which to install."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from fairio_tools import extras

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

NOT_IN_RUNTIME = (
    "mkdocs",
    "material",
    "pymdownx",
    "docutils",
    "galaxy.tool_util",
    "aiohttp",
    "dalia_dif",
    "rapidfuzz",
    "distributed",
    "s3fs",
    "torch",
    "tensorflow",
    "keras",
    "ome_zarr",
    "pytest",
)
"""Modules of the extras (and of the tests) that a tool job must not get."""


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


# --- extras: one line naming what to install ---------------------------------------------


@pytest.mark.parametrize(
    ("extra", "args"),
    [
        ("portal", ["portal", "build"]),
        ("links", ["links", "check"]),
        ("links", ["links", "report"]),
        ("catalogue", ["catalogue", "check"]),
        ("catalogue", ["catalogue", "export", "--format", "dalia", "out.csv"]),
        ("galaxy", ["galaxy", "lint"]),
        ("distributed", ["convert", "in.png", "out.ome.zarr", "--scheduler", "tcp://h:8786"]),
        ("s3", ["convert", "in.png", "s3://bucket/out.ome.zarr"]),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(monkeypatch, tmp_path, extra, args) -> None:
    """Each command that needs an extra checks for it before it imports anything from it."""
    from fairio_tools.cli.app import main

    monkeypatch.setitem(extras.MODULES, extra, ("fairio_tools_no_such_module",))
    monkeypatch.chdir(tmp_path)
    if args[0] == "convert":
        (tmp_path / "in.png").write_bytes((TOOLS / "image_info/test-data/coins.png").read_bytes())
    if args[0] == "catalogue" and args[1] == "export":
        args = [*args, "--catalogue", str(ROOT / "portal" / "catalogue")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fairio: error: ")
    assert lines[0].endswith(f"pip install 'fairio-tools[{extra}]'")
    assert "fairio_tools_no_such_module not installed" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == (["in.png"] if "in.png" in args else [])


def _extra_requirements(extra: str) -> set[str]:
    """Distribution names an extra installs, following ``fairio-tools[...]`` references."""
    names: set[str] = set()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        if _name(requirement) == "fairio-tools":
            inner = re.search(r"\[(.*)\]", requirement).group(1)
            for other in inner.split(","):
                names |= _extra_requirements(other.strip())
        else:
            names.add(_name(requirement))
    return names


def test_extras_in_pyproject_provide_the_modules_the_commands_check() -> None:
    from importlib.metadata import packages_distributions

    provided = packages_distributions()
    extras_table = PYPROJECT["project"]["optional-dependencies"]
    assert set(extras.MODULES) <= set(extras_table)
    for extra, modules in extras.MODULES.items():
        wanted = _extra_requirements(extra)
        for module in modules:
            if extra == "torch":  # torch is not in dev (gigabytes); its name is its module
                assert module == "torch" and "torch" in wanted
                continue
            distributions = {
                d.lower().replace("_", "-") for d in provided.get(module.split(".")[0], [])
            }
            assert distributions & wanted, (extra, module, distributions, wanted)


def test_dev_installs_every_extra_but_torch() -> None:
    table = PYPROJECT["project"]["optional-dependencies"]
    dev = _extra_requirements("dev")
    for extra in set(table) - {"dev", "torch"}:
        assert _extra_requirements(extra) <= dev, extra


def test_runtime_dependencies_are_ranges() -> None:
    """No ``==`` pins in the runtime: every requirement admits compatible releases."""
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert "==" not in requirement, requirement
        assert re.search(r">=|~=", requirement), f"{requirement}: give a lower bound"
    runtime = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    for extra in ("portal", "links", "catalogue", "distributed", "s3", "torch", "tensorflow"):
        assert not runtime & _extra_requirements(extra), extra


# --- the wheel in a clean virtualenv -------------------------------------------------------


@dataclass
class Lean:
    """A clean virtualenv holding only the wheel and its runtime dependencies."""

    venv: Path
    wheel: Path
    sdist: Path
    install_seconds: float
    installer: str

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR", "TERM")}
        return {**keep, "PATH": f"{self.venv / 'bin'}:/usr/bin:/bin"}

    def run(self, *args: str | Path, cwd: Path, timeout: float = 300):
        return subprocess.run(
            [str(self.venv / "bin" / "fairio"), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=self.env(),
        )

    def ok(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
        result = self.run(*args, cwd=cwd)
        assert result.returncode == 0, f"fairio {args}: {result.stdout}\n{result.stderr}"
        return result

    def python(self, code: str, cwd: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cwd,
            env=self.env(),
        )


def _installer() -> list[str] | None:
    """uv (from dev) when it is installed: it installs the runtime in seconds."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    return [find_uv_bin(), "pip", "install", "--quiet"]


@pytest.fixture(scope="module")
def lean(tmp_path_factory) -> Lean:
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, f"python -m build (from .[dev]) failed:\n{build.stderr[-3000:]}"
    (wheel,) = dist.glob("fairio_tools-*-py3-none-any.whl")
    (sdist,) = dist.glob("fairio_tools-*.tar.gz")
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert twine.returncode == 0, twine.stdout + twine.stderr
    venv = work / "venv"
    started = time.monotonic()
    uv = _installer()
    if uv:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        command = [*uv, "--python", str(venv / "bin" / "python"), str(wheel)]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        command += ["--prefer-binary", str(wheel)]
    config = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    installed = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    seconds = time.monotonic() - started
    print(f"\nwheel + runtime installed in {seconds:.1f} s ({'uv' if uv else 'pip'})")
    return Lean(venv, wheel, sdist, seconds, "uv" if uv else "pip")


def test_the_wheel_holds_the_package_data_and_no_tests(lean: Lean) -> None:
    package = ROOT / "src" / "fairio_tools"
    data = {
        "fairio_tools/" + p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    assert {"fairio_tools/rdf/context.jsonld", "fairio_tools/metadata/profiles.yaml"} <= data
    names = set(zipfile.ZipFile(lean.wheel).namelist())
    assert data <= names, sorted(data - names)
    assert not [n for n in names if n.startswith("tests/")]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = zipfile.ZipFile(lean.wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))
    )
    assert b"License-Expression: MIT" in metadata
    import tarfile

    recipe_file = "tools/image_info/test-data/multiseries.ome.tiff"  # the conda recipe's test
    with tarfile.open(lean.sdist) as sdist:
        assert any(name.endswith(recipe_file) for name in sdist.getnames())


def test_the_extras_are_not_installed(lean: Lean, tmp_path: Path) -> None:
    probe = (
        "import importlib.util, json, sys\n"
        "def found(m):\n"
        "    try:\n"
        "        return importlib.util.find_spec(m) is not None\n"
        "    except ImportError:\n"
        "        return False\n"
        f"print(json.dumps({{m: found(m) for m in {list(NOT_IN_RUNTIME)!r}}}))\n"
        "import fairio_tools; print(fairio_tools.__file__)\n"
    )
    result = lean.python(probe, tmp_path)
    assert result.returncode == 0, result.stderr
    found, location = result.stdout.splitlines()
    assert json.loads(found) == dict.fromkeys(NOT_IN_RUNTIME, False)
    assert location.startswith(str(lean.venv)), location  # the wheel, not the source tree


def test_help_starts_fast_and_lists_every_command(lean: Lean, tmp_path: Path) -> None:
    """``fairio --help`` under 0.5 s: judged on the CPU time the process itself used (user +
    system), which other jobs on a busy machine do not inflate; wall time is printed."""
    import resource

    walls, cpus = [], []
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        result = lean.ok("--help", cwd=tmp_path)
        walls.append(time.monotonic() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    print(
        f"\nfairio --help: wall {[round(t, 3) for t in walls]}, cpu {[round(t, 3) for t in cpus]}"
    )
    assert min(cpus) < 0.5, cpus
    for command in ("image-info", "convert", "export-tiff", "validate-ngff", "label", "bundle"):
        assert command in result.stdout


def test_image_info_convert_validate_export(lean: Lean, tmp_path: Path) -> None:
    data = TOOLS / "convert_to_ome_zarr" / "test-data"
    info = json.loads(lean.ok("image-info", data / "multiseries.ome.tiff", cwd=tmp_path).stdout)
    assert (info["format"], info["has_ome_xml"], len(info["series"])) == ("ome-tiff", True, 6)
    first = info["series"][0]
    assert (first["axes"], first["shape"], first["dtype"]) == (["c", "y", "x"], [4, 5, 5], "uint16")
    assert first["physical_sizes"]["x"]["unit"] == "micrometer"
    for version in ("0.4", "0.5"):
        store = tmp_path / f"coins-{version}.ome.zarr"
        lean.ok(
            "convert",
            data / "coins.png",
            store,
            "--ngff-version",
            version,
            "--report",
            tmp_path / f"convert-{version}.json",
            cwd=tmp_path,
        )
        report = tmp_path / f"validate-{version}.json"
        lean.ok(
            "validate-ngff", store, "--deep", "--jobs", "1", "--report-json", report, cwd=tmp_path
        )
        checked = json.loads(report.read_text())
        assert (checked["valid"], checked["ngff_version"]) == (True, version)
    tiff = tmp_path / "coins.ome.tiff"
    lean.ok("export-tiff", tmp_path / "coins-0.5.ome.zarr", tiff, cwd=tmp_path)
    exported = json.loads(lean.ok("image-info", tiff, cwd=tmp_path).stdout)
    assert exported["format"] == "ome-tiff"
    assert exported["series"][0]["shape"][-2:] == [480, 640]
    broken = lean.run(
        "validate-ngff", TOOLS / "validate_ngff/test-data/levels_swapped_v04.zarr", cwd=tmp_path
    )
    assert broken.returncode == 1, broken.stderr


def test_summarize_metadata_and_rdf(lean: Lean, tmp_path: Path) -> None:
    reports = TOOLS / "summarize_ngff_validation" / "test-data"
    lean.ok(
        "summarize-validation",
        "--report",
        "coins",
        reports / "coins.ngff.json",
        "--report",
        "broken",
        reports / "broken.ngff.json",
        "--tsv",
        tmp_path / "s.tsv",
        cwd=tmp_path,
    )
    rows = (tmp_path / "s.tsv").read_text().splitlines()
    assert [r.split("\t")[:2] for r in rows[1:]] == [["coins", "true"], ["broken", "false"]]
    lean.ok(
        "metadata-template",
        "--profile",
        "rembi",
        "--yaml",
        tmp_path / "t.yaml",
        "--xlsx",
        tmp_path / "t.xlsx",
        "--shapes",
        tmp_path / "t.ttl",
        cwd=tmp_path,
    )
    assert zipfile.is_zipfile(tmp_path / "t.xlsx")
    assert "sh:NodeShape" in (tmp_path / "t.ttl").read_text()
    metadata = TOOLS / "validate_metadata" / "test-data"
    lean.ok(
        "validate-metadata",
        metadata / "rembi-complete.yaml",
        "--profile",
        "rembi",
        "--shacl",
        "--report-json",
        tmp_path / "m.json",
        cwd=tmp_path,
    )
    assert json.loads((tmp_path / "m.json").read_text())["valid"] is True
    incomplete = lean.run(
        "validate-metadata",
        metadata / "minimal.yaml",
        "--profile",
        "rembi",
        "--shacl",
        cwd=tmp_path,
    )
    assert incomplete.returncode == 1, incomplete.stderr
    rdf = TOOLS / "to_rdf" / "test-data"
    lean.ok(
        "to-rdf",
        rdf / "cells_v05.zarr",
        rdf / "rembi-complete.yaml",
        "--format",
        "jsonld",
        "-o",
        tmp_path / "g.jsonld",
        cwd=tmp_path,
    )
    graph = json.loads((tmp_path / "g.jsonld").read_text())
    assert "@context" in graph and "ImageObject" in json.dumps(graph)


def test_models_label_and_bundle(lean: Lean, tmp_path: Path) -> None:
    model = TOOLS / "predict_with_model" / "test-data" / "unet2d_nuclei_broad.zip"
    info = json.loads(lean.ok("model-info", model, cwd=tmp_path).stdout)
    assert info["name"] == "UNet 2D Nuclei Broad"
    tested = json.loads(lean.ok("model-test", model, cwd=tmp_path).stdout)
    assert (tested["passed"], tested["tested_weight_formats"]) == (True, ["onnx"])
    predicted = tmp_path / "prediction.ome.zarr"
    image = TOOLS / "predict_with_model" / "test-data" / "nuclei_test_input.png"
    lean.ok("predict", model, image, predicted, cwd=tmp_path)
    lean.ok("validate-ngff", predicted, cwd=tmp_path)
    labelled = tmp_path / "coins.ome.zarr"
    report = json.loads(
        lean.ok(
            "label",
            TOOLS / "label_image/test-data/coins.zarr",
            labelled,
            "--min-size",
            "400",
            cwd=tmp_path,
        ).stdout
    )
    assert (report["objects"], report["labels"]) == (23, "0/labels/threshold")
    plate = TOOLS / "plate_summary/test-data/plate.ome.zarr"
    wells = tmp_path / "wells.tsv"
    lean.ok("plate-summary", plate, "--table", wells, "--heatmap", tmp_path / "p.png",
            cwd=tmp_path)  # fmt: skip
    assert [r.split("\t")[4] for r in wells.read_text().splitlines()[1:]] == ["2", "8"]
    check = tmp_path / "check.json"
    lean.ok("validate-ngff", labelled, "--report-json", check, cwd=tmp_path)
    crate = tmp_path / "crate.zip"
    lean.ok(
        "bundle",
        "create",
        crate,
        "--store",
        labelled,
        "--report",
        check,
        "--metadata",
        TOOLS / "bundle_fair_image_object/test-data/study.jsonld",
        cwd=tmp_path,
    )
    inspected = json.loads(lean.ok("bundle", "inspect", crate, cwd=tmp_path).stdout)
    assert inspected["valid"] is True
    assert "coins.ome.zarr/" in [entity["id"] for entity in inspected["entities"]]


def test_commands_of_missing_extras_name_them(lean: Lean, tmp_path: Path) -> None:
    for extra, args in [
        ("portal", ["portal", "build", "--config", ROOT / "mkdocs.yml"]),
        ("links", ["links", "check", "--catalogue", ROOT / "portal/catalogue"]),
        ("catalogue", ["catalogue", "check", "--catalogue", ROOT / "portal/catalogue"]),
        (
            "distributed",
            [
                "convert",
                TOOLS / "image_info/test-data/coins.png",
                tmp_path / "o",
                "--scheduler",
                "tcp://127.0.0.1:8786",
            ],
        ),
        ("s3", ["convert", TOOLS / "image_info/test-data/coins.png", "s3://bucket/o.ome.zarr"]),
    ]:
        result = lean.run(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.strip().endswith(f"pip install 'fairio-tools[{extra}]'")
    assert list(tmp_path.iterdir()) == []
