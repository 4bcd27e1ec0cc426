"""The conda recipe (recipe/meta.yaml, bioconda style) installs exactly pyproject.toml's runtime:
the same requirements, by their conda-forge names, with the same version ranges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

CONDA_NAMES: dict[str, str | None] = {
    # runtime: PyPI name -> conda-forge name (most are the same)
    "click": "click",
    "rich": "rich",
    "numpy": "numpy",
    "tifffile": "tifffile",
    "imagecodecs": "imagecodecs",
    "pillow": "pillow",
    "defusedxml": "defusedxml",
    "pyyaml": "pyyaml",
    "zarr": "zarr",
    "numcodecs": "numcodecs",
    "dask": "dask-core",  # dask[array]: conda-forge's `dask` also pulls distributed, bokeh...
    "fsspec": "fsspec",
    "jsonschema": "jsonschema",
    "referencing": "referencing",
    "rdflib": "rdflib",
    "pyshacl": "pyshacl",
    "openpyxl": "openpyxl",
    "scipy": "scipy",
    "scikit-image": "scikit-image",
    "rocrate": "rocrate",
    "bioimageio.core": "bioimageio.core",
    "bioimageio.spec": "bioimageio.spec",
    "loguru": "loguru",
    "pydantic": "pydantic",
    "onnxruntime": "onnxruntime",
    "czifile": "czifile",
    "liffile": "liffile",  # conda-forge name not verified offline: check when publishing
    # extras (not in the recipe; listed for the README's conda notes). None: on neither
    # conda-forge nor bioconda, so the extra that needs it stays pip-only.
    "mkdocs": "mkdocs",
    "mkdocs-material": "mkdocs-material",
    "pymdown-extensions": "pymdown-extensions",
    "docutils": "docutils",
    "lxml": "lxml",
    "galaxy-tool-util": "galaxy-tool-util",  # bioconda
    "aiohttp": "aiohttp",
    "rapidfuzz": "rapidfuzz",
    "dalia-dif": None,
    "requests": "requests",
    "distributed": "distributed",
    "s3fs": "s3fs",
    "torch": "pytorch",
}
"""The one PyPI -> conda-forge/bioconda name map of fairio-tools' dependencies."""


def _split(requirement: str) -> tuple[str, str]:
    """``name[extra]>=1,<2 ; marker`` -> (``name``, ``>=1,<2``)."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*([^;]*)", requirement)
    assert match, requirement
    return match.group(1).lower(), match.group(3).replace(" ", "")


def _recipe() -> dict:
    text = (ROOT / "recipe" / "meta.yaml").read_text()
    values = dict(re.findall(r'{%\s*set\s+(\w+)\s*=\s*"([^"]*)"\s*%}', text))
    text = re.sub(r"{%.*?%}", "", text)
    text = re.sub(r"{{\s*(\w+)(\|lower)?\s*}}", lambda m: values.get(m.group(1), m.group(1)), text)
    text = re.sub(r"{{.*?}}", "JINJA", text)
    return yaml.safe_load(text)


def test_recipe_run_requirements_equal_the_runtime_dependencies() -> None:
    recipe = _recipe()
    run = {}
    for line in recipe["requirements"]["run"]:
        name, _, spec = line.split("#")[0].strip().partition(" ")
        run[name] = spec.replace(" ", "")
    expected = {"python": PYPROJECT["project"]["requires-python"]}
    for requirement in PYPROJECT["project"]["dependencies"]:
        name, spec = _split(requirement)
        assert CONDA_NAMES.get(name), f"{name}: add its conda-forge name to CONDA_NAMES"
        expected[CONDA_NAMES[name]] = spec
    assert run == expected


def test_recipe_is_bioconda_style_and_tests_a_real_command() -> None:
    recipe = _recipe()
    assert recipe["package"] == {"name": "fairio-tools", "version": PYPROJECT["project"]["version"]}
    build = recipe["build"]
    assert build["noarch"] == "python"
    assert build["script"] == "PYTHON -m pip install . -vv --no-deps --no-build-isolation"
    assert build["entry_points"] == [f"fairio = {PYPROJECT['project']['scripts']['fairio']}"]
    assert recipe["source"]["url"].endswith(
        f"fairio_tools-{PYPROJECT['project']['version']}.tar.gz"
    )
    assert re.fullmatch(r"[0-9a-f]{64}", recipe["source"]["sha256"])
    commands = recipe["test"]["commands"]
    assert "fairio --help" in commands
    for source_file in recipe["test"]["source_files"]:
        assert (ROOT / source_file).is_file(), source_file
        assert any(source_file in command for command in commands)
    assert (ROOT / "MANIFEST.in").read_text().count("include " + recipe["test"]["source_files"][0])
    assert recipe["about"]["license"] == PYPROJECT["project"]["license"]
    assert (ROOT / recipe["about"]["license_file"]).is_file()


def test_every_dependency_has_a_conda_name_or_is_listed_in_the_readme() -> None:
    """Extras' requirements are mapped too; those conda cannot install are named in the
    README and belong to an extra, never to the runtime."""
    optional = PYPROJECT["project"]["optional-dependencies"]
    names = {
        _split(r)[0]
        for extra in ("portal", "links", "catalogue", "galaxy", "distributed", "s3", "torch")
        for r in optional[extra]
    } - {"fairio-tools"}
    assert names <= set(CONDA_NAMES), names - set(CONDA_NAMES)
    runtime = {_split(r)[0] for r in PYPROJECT["project"]["dependencies"]}
    readme = (ROOT / "README.md").read_text()
    for name, conda in CONDA_NAMES.items():
        if conda is None:
            assert name not in runtime, name
            assert f"`{name}`" in readme, f"README: say that {name} is not on conda-forge"
