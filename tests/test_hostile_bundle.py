"""Hostile inputs to ``fairio bundle create`` and ``inspect``: nothing outside is read."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import pytest

from tests.conftest import run_fairio

COINS = "images/bioformats2raw-reference/coins.ome.zarr"
CANARY = "CANARY-5e1f-outside-the-crate"


@pytest.fixture(scope="module")
def crate_folder(shared_data, tmp_path_factory):
    """A real crate folder, made by ``fairio bundle create`` from a real store."""
    crate = tmp_path_factory.mktemp("crate") / "crate"
    run_fairio("bundle", "create", crate, "--store", shared_data / COINS, check=True)
    return crate


def _one_line(result, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("fairio: error: ") and "internal error" not in line
    for word in words:
        assert word in line, line


def _canary_metadata(tmp_path, crate_folder):
    document = json.loads((crate_folder / "ro-crate-metadata.json").read_text())
    document["@graph"][1]["name"] = CANARY
    canary = tmp_path / "canary.json"
    canary.write_text(json.dumps(document))
    return canary


def test_inspect_does_not_follow_metadata_linked_out(crate_folder, tmp_path):
    crate = tmp_path / "crate"
    shutil.copytree(crate_folder, crate)
    (crate / "ro-crate-metadata.json").unlink()
    (crate / "ro-crate-metadata.json").symlink_to(_canary_metadata(tmp_path, crate_folder))
    result = run_fairio("bundle", "inspect", crate)
    _one_line(result, "crate", "leads outside")
    assert CANARY not in result.stdout + result.stderr


@pytest.mark.parametrize("kind", ["fifo", "link-out"])
def test_inspect_refuses_special_files_in_a_crate(crate_folder, tmp_path, kind):
    crate = tmp_path / "crate"
    shutil.copytree(crate_folder, crate)
    if kind == "fifo":
        os.mkfifo(crate / "pipe")
    else:
        (crate / "secret").symlink_to(_canary_metadata(tmp_path, crate_folder))
    _one_line(run_fairio("bundle", "inspect", crate), "crate")


def test_inspect_refuses_an_inflated_metadata_member(tmp_path):
    crate = tmp_path / "bomb.zip"
    with zipfile.ZipFile(crate, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ro-crate-metadata.json", b" " * (65 << 20))
    _one_line(run_fairio("bundle", "inspect", crate), "bomb.zip", "implausibly large")


@pytest.mark.parametrize("kind", ["fifo", "link-out"])
def test_create_refuses_a_store_holding_special_files(shared_data, tmp_path, kind):
    store = tmp_path / "hostile.ome.zarr"
    shutil.copytree(shared_data / COINS, store)
    (tmp_path / "canary").write_text(CANARY)
    if kind == "fifo":
        os.mkfifo(store / "0" / "pipe")
    else:
        (store / "0" / "secret").symlink_to(tmp_path / "canary")
    crate = tmp_path / "out" / "crate.zip"
    crate.parent.mkdir()
    result = run_fairio("bundle", "create", crate, "--store", store, "--allow-invalid")
    _one_line(result, "hostile.ome.zarr")
    assert list(crate.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "as_metadata"),
    [
        ("[" * 100_000 + "]" * 100_000, "not image metadata"),  # too deep to be recognised
        ('{"a": NaN}', "not JSON"),  # recognised as a JSON document, then refused
    ],
)
def test_json_documents_that_are_not_json(shared_data, tmp_path, content, as_metadata):
    report = tmp_path / "report.json"
    report.write_text(content)
    crate = tmp_path / "out" / "crate.zip"
    crate.parent.mkdir()
    result = run_fairio(
        "bundle", "create", crate, "--store", shared_data / COINS, "--report", report
    )
    _one_line(result, "report.json", "not JSON")
    _one_line(run_fairio("to-rdf", report), "report.json", as_metadata)
    summary = run_fairio("summarize-validation", "--report", "a", report, "--tsv", tmp_path / "t")
    _one_line(summary, "report.json", "not JSON")
