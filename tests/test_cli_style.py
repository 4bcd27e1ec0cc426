"""One CLI style: shared option spellings (old ones still work, hidden, with a warning),
Galaxy's Zarr dataset paths, and the naming and sniffing that used to live in tool XML."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from fairio_tools.names import file_name, safe_name, store_name
from tests.conftest import ROOT, run_fairio

REFERENCE = "images/bioformats2raw-reference"
SUMMARIES = ROOT / "tools" / "summarize_ngff_validation" / "test-data"
RDF_DATA = ROOT / "tools" / "to_rdf" / "test-data"


@pytest.fixture
def galaxy_store(shared_data: Path, tmp_path: Path) -> Path:
    """A store filling a Galaxy dataset's folder, as an upload of a directory leaves it."""
    folder = tmp_path / "dataset_7_files"
    shutil.copytree(shared_data / REFERENCE / "camera.ome.zarr", folder)
    return folder


def _deprecated(result, old: str, new: str) -> None:
    assert f"fairio: warning: {old} is deprecated" in result.stderr
    assert f"use {new}" in result.stderr


def test_validate_report_spellings_old_and_new(shared_data, tmp_path):
    store = shared_data / REFERENCE / "coins.ome.zarr"
    new = run_fairio("validate-ngff", store, "--json", tmp_path / "a.json",
                     "--markdown", tmp_path / "a.md", check=True)  # fmt: skip
    assert "deprecated" not in new.stderr
    old = run_fairio("validate-ngff", store, "--report-json", tmp_path / "b.json",
                     "--report-md", tmp_path / "b.md", check=True)  # fmt: skip
    _deprecated(old, "--report-json", "--json")
    _deprecated(old, "--report-md", "--markdown")
    assert json.loads((tmp_path / "b.json").read_text())["valid"] is True
    assert (tmp_path / "a.md").read_text() == (tmp_path / "b.md").read_text()
    help_text = run_fairio("validate-ngff", "--help", check=True).stdout
    assert "--json" in help_text and "--report-json" not in help_text


def test_convert_report_alias(shared_data, tmp_path):
    image = shared_data / REFERENCE / "coins.png"
    result = run_fairio("convert", image, tmp_path / "c.zarr", "--report", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    _deprecated(result, "--report", "--json")
    assert json.loads((tmp_path / "r.json").read_text())["source"]["format"] == "png"


def test_links_report_out_alias(tmp_path):
    args = ["links", "report", "--catalogue", ROOT / "portal" / "catalogue",
            "--state", tmp_path / "none.jsonl"]  # fmt: skip
    run_fairio(*args, "-o", tmp_path / "new.md", check=True)
    old = run_fairio(*args, "--out", tmp_path / "old.md", check=True)
    _deprecated(old, "--out", "--output")
    assert (tmp_path / "old.md").read_text() == (tmp_path / "new.md").read_text()


def test_every_report_option_is_spelled_alike():
    from fairio_tools.cli.app import main

    def commands(group, prefix=()):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from commands(command, (*prefix, name))
            else:
                yield (*prefix, name), command

    for name, command in commands(main):
        visible = {o for p in command.params if not getattr(p, "hidden", False) for o in p.opts}
        assert not visible & {"--report-json", "--report-md", "--out"}, name
        if "--report" in visible:  # only ever an input: a report the command reads
            assert name in {("bundle", "create"), ("summarize-validation",)}, name


def test_store_path_of_a_galaxy_dataset_without_store_root(galaxy_store, tmp_path):
    # Galaxy renders an unset store_root as 'None': FOLDER/None is the store FOLDER
    for path in (f"{galaxy_store}/None", f"{galaxy_store}/"):
        result = run_fairio("validate-ngff", path, "--json", tmp_path / "r.json")
        assert result.returncode == 0, result.stderr
        assert json.loads((tmp_path / "r.json").read_text())["kind"] == "bioformats2raw"


def test_safe_names():
    assert safe_name("my image (1).png", "x") == "my_image_1_.png"
    assert safe_name("../..", "x") == "_.."  # no hidden file, no parent folder
    assert safe_name("...", "fallback") == "fallback"
    assert store_name(Path("/g/dataset_7_files"), "camera.zarr") == "camera.zarr"
    assert store_name(Path("/g/dataset_7_files"), "Convert on data 1") == "Convert_on_data_1.zarr"
    assert store_name(Path("/g/image.ome.zarr"), "other name") == "image.ome.zarr"
    # Galaxy names outputs after their input ("cells.tif: findings (JSON)"): that dot is no
    # suffix of the file's own, so the bundled file still says what it holds
    assert file_name("cells.tif: findings (JSON)", "json", "x") == "cells.tif_findings_JSON_.json"
    assert file_name("results.csv", "tabular", "x") == "results.csv"
    assert file_name("notes", "txt", "x") == "notes.txt"


def test_label_into_names_the_copy_after_the_dataset(galaxy_store, tmp_path):
    out = tmp_path / "labelled_files"
    result = run_fairio("label", f"{galaxy_store}/None", "--into", out,
                        "--name-from", "camera (1).zarr", "-j", "1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (out / "camera_1_.zarr" / "0" / "labels" / "threshold" / ".zattrs").is_file()
    assert [p.name for p in out.iterdir()] == ["camera_1_.zarr"]


def test_label_into_keeps_a_zarr_folder_name(shared_data, tmp_path):
    store = shared_data / REFERENCE / "coins.ome.zarr"
    result = run_fairio("label", store, "--into", tmp_path / "o", "--name-from", "ignored")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o" / "coins.ome.zarr" / "0" / "labels").is_dir()
    refused = run_fairio("label", store, tmp_path / "x.zarr", "--into", tmp_path / "o")
    assert refused.returncode == 2 and "--into" in refused.stderr


def test_bundle_names_datasets_readably(galaxy_store, tmp_path):
    report = tmp_path / "dataset_3.dat"
    report.write_text(json.dumps({"valid": True}))
    table = tmp_path / "dataset_4.dat"
    table.write_text("a\tb\n")
    crate = tmp_path / "crate.zip"
    result = run_fairio(
        "bundle", "create", crate, "--store", f"{galaxy_store}/None",
        "--name-as", f"{galaxy_store}/None", "Camera image", "zarr",
        "--report", report, "--name-as", report, "NGFF report (camera)", "json",
        "--result", table, "--name-as", table, "summary.tsv", "tabular",
        "--produced-by", f"{galaxy_store}/None", "bioformats2raw", "0.7.0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = zipfile.ZipFile(crate).namelist()
    assert "Camera_image.zarr/0/0/.zarray" in names
    assert "reports/NGFF_report_camera_.json" in names
    assert "outputs/summary.tsv" in names
    assert "validation/Camera_image.zarr.ngff-check.json" in names
    metadata = json.loads(zipfile.ZipFile(crate).read("ro-crate-metadata.json"))
    ids = {e["@id"]: e for e in metadata["@graph"]}
    assert ids["Camera_image.zarr/"]["name"] == "Camera_image.zarr"
    old = run_fairio("bundle", "create", tmp_path / "old.zip", "--store", galaxy_store,
                     "--output", table)  # fmt: skip
    _deprecated(old, "--output", "--result")
    assert "outputs/dataset_4.dat" in zipfile.ZipFile(tmp_path / "old.zip").namelist()
    stray = run_fairio("bundle", "create", tmp_path / "s.zip", "--store", galaxy_store,
                       "--name-as", tmp_path / "elsewhere", "x", "")  # fmt: skip
    assert stray.returncode == 2 and "--name-as names a path that is not bundled" in stray.stderr


def test_summary_names_are_made_safe(tmp_path):
    table = tmp_path / "t.tsv"
    run_fairio("summarize-validation", "--report", "coins\tfrom\nGalaxy",
               SUMMARIES / "coins.ngff.json", "--tsv", table, check=True)  # fmt: skip
    assert table.read_text().splitlines()[1].split("\t")[0] == "coins_from_Galaxy"


def test_to_rdf_tells_study_from_images_by_content(tmp_path):
    # Galaxy's file names say nothing: dataset_N.dat
    info, study = tmp_path / "dataset_1.dat", tmp_path / "dataset_2.dat"
    shutil.copy(RDF_DATA / "image-info.json", info)
    shutil.copy(RDF_DATA / "rembi-complete.yaml", study)
    result = run_fairio("to-rdf", study, info, "--format", "turtle", check=True)
    assert "Chromosome alignment in dividing Drosophila S2 cells" in result.stdout
    assert "xyz_8bit__mitotic_plate_calibrated.tiff" in result.stdout
    shutil.copy(study, tmp_path / "dataset_3.dat")
    two = run_fairio("to-rdf", study, tmp_path / "dataset_3.dat", info)
    assert two.returncode == 2 and "one graph describes one study" in two.stderr
