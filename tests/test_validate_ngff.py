"""``fairio validate-ngff`` on real stores, on stores written by ome-zarr, and on a corpus of
stores that each break one rule of the NGFF specification."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from fairio_tools.findings import Severity
from fairio_tools.ngff.validate import validate_ngff
from tests.conftest import run_fairio
from tests.ngff_corpus import (
    DEFECTS,
    edit_array,
    edit_ome,
    in_bioformats2raw_root,
    write_image_store,
    write_plate_store,
)

REFERENCE_STORES = {  # store: resolution levels bioformats2raw wrote
    "camera.ome.zarr": 3,
    "coins.ome.zarr": 3,
    "xyz_8bit__mitotic_plate_calibrated.ome.zarr": 2,
}


@pytest.fixture(scope="session")
def valid_stores(tmp_path_factory) -> dict[tuple[str, str], object]:
    """Valid image and plate stores for NGFF 0.4 (Zarr v2) and 0.5 (Zarr v3)."""
    folder = tmp_path_factory.mktemp("valid")
    stores = {}
    for version in ("0.4", "0.5"):
        stores["image", version] = write_image_store(folder / f"image-{version}.ome.zarr", version)
        stores["plate", version] = write_plate_store(folder / f"plate-{version}.ome.zarr", version)
    return stores


def _copy(store, tmp_path):
    target = tmp_path / store.name
    shutil.copytree(store, target, symlinks=True)
    return target


@pytest.mark.parametrize(("name", "levels"), REFERENCE_STORES.items())
def test_bioformats2raw_reference_stores_are_valid(shared_data, name, levels):
    store = shared_data / "images" / "bioformats2raw-reference" / name
    report = validate_ngff(store, deep=True)
    assert report.valid, report.findings
    multiscale = json.loads((store / "0" / ".zattrs").read_text())["multiscales"][0]
    assert "type" not in multiscale  # bioformats2raw writes none: a SHOULD of the spec
    assert report.codes() == {"multiscale-incomplete"}, report.findings
    assert report.facts["kind"] == "bioformats2raw"
    assert report.facts["ngff_version"] == "0.4"
    assert report.facts["arrays_checked"] == levels
    assert report.facts["chunks_read"] > 0


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("kind", ["image", "plate"])
def test_stores_written_by_ome_zarr_are_valid(valid_stores, kind, version):
    report = validate_ngff(valid_stores[kind, version], deep=True)
    assert report.findings == [], report.findings
    assert report.facts["ngff_version"] == version
    assert report.facts["zarr_format"] == {"0.4": 2, "0.5": 3}[version]
    assert report.facts["kind"] == kind
    # image: 2 levels + 2 label levels; plate: 2 wells x 1 field x 1 level
    assert report.facts["arrays_checked"] == {"image": 4, "plate": 2}[kind]
    expected_chunks = {"image": 16 + 4 + 8 + 2, "plate": 2}[kind]
    assert report.facts["chunks_read"] == expected_chunks


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_custom_axis_type_is_allowed(valid_stores, tmp_path, version):
    store = _copy(valid_stores["image", version], tmp_path)

    def lifetime_axis(ome):
        ome["multiscales"][0]["axes"][0] = {"name": "tau", "type": "lifetime"}
        del ome["omero"]  # omero describes channels; this image has none

    edit_ome(store, "", lifetime_axis)
    if version == "0.5":  # Zarr v3 levels name their dimensions after the axes
        for level in ("s0", "s1"):
            edit_array(store, level, lambda doc: doc["dimension_names"].__setitem__(0, "tau"))
    report = validate_ngff(store)
    assert report.findings == []


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_plate_in_a_bioformats2raw_root_is_checked_as_a_plate(valid_stores, tmp_path, version):
    """The plate key takes precedence: its wells are the images, not OME/series."""
    store = in_bioformats2raw_root(_copy(valid_stores["plate", version], tmp_path))
    report = validate_ngff(store, deep=True)
    assert report.findings == [], report.findings
    assert report.facts["kind"] == "plate"
    assert report.facts["arrays_checked"] == 2  # one level of each well's field


CASES = [
    pytest.param(defect, version, id=f"{defect.name}-{version}")
    for defect in DEFECTS
    for version in defect.versions
]


def test_corpus_is_large_enough():
    assert len(DEFECTS) >= 25
    assert sum(d.severity == "error" for d in DEFECTS) >= 25


@pytest.mark.parametrize(("defect", "version"), CASES)
def test_each_defect_is_named(valid_stores, tmp_path, defect, version):
    store = _copy(valid_stores[defect.store, version], tmp_path)
    defect.apply(store)
    started = time.monotonic()
    report = validate_ngff(store, deep=defect.deep)
    assert time.monotonic() - started < 20, "validation must not hang"
    errors = report.codes(Severity.ERROR)
    if defect.severity == "error":
        assert defect.code in errors, report.findings
        assert errors <= {defect.code, *defect.also}, report.findings
        assert not report.valid
    else:
        assert errors == set(), report.findings
        assert defect.code in report.codes(Severity.WARNING), report.findings
        assert report.valid
    for finding in report.findings:
        assert finding.message and finding.path, finding


@pytest.mark.parametrize("defect", [d for d in DEFECTS if d.severity == "error"][:6],
                         ids=lambda d: d.name)  # fmt: skip
def test_cli_exit_1_and_reports_for_invalid_store(valid_stores, tmp_path, defect):
    store = _copy(valid_stores[defect.store, "0.4"], tmp_path)
    defect.apply(store)
    report_json, report_md = tmp_path / "report.json", tmp_path / "report.md"
    result = run_fairio("validate-ngff", store, "--json", report_json,
                        "--markdown", report_md)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "INVALID" in result.stdout and defect.code in result.stdout
    data = json.loads(report_json.read_text())
    assert data["valid"] is False and data["errors"] >= 1
    assert defect.code in {f["code"] for f in data["findings"]}
    assert f"`{defect.code}`" in report_md.read_text()


def test_cli_exit_0_for_valid_store(shared_data, tmp_path):
    store = shared_data / "images" / "bioformats2raw-reference" / "coins.ome.zarr"
    report_json = tmp_path / "report.json"
    result = run_fairio("validate-ngff", store, "--deep", "--json", report_json)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid (0 error(s), 1 warning(s))" in result.stdout  # no multiscale "type"
    data = json.loads(report_json.read_text())
    assert data["valid"] is True and data["kind"] == "bioformats2raw"
    assert data["mode"] == "deep (every chunk read)"


def _made(path, text=None):
    if text is None:
        path.mkdir()
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nothing-here", "no such file or directory"),
        (lambda p: _made(p / "file.zarr", "x"), "not a directory"),
        (lambda p: _made(p / "empty.zarr"), "not a Zarr store"),
    ],
    ids=["missing", "file", "folder-without-zarr"],
)
def test_cli_exit_2_when_no_store(tmp_path, make, message):
    target = make(tmp_path)
    report_json = tmp_path / "report.json"
    result = run_fairio("validate-ngff", target, "--json", report_json)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(target) in lines[0]
    assert not report_json.exists()


def test_deep_read_in_worker_processes_finds_a_broken_chunk(valid_stores, tmp_path, monkeypatch):
    from fairio_tools.ngff import chunks

    monkeypatch.setattr(chunks, "PROCESS_POOL_MIN_CHUNKS", 1)  # small store, process pool
    store = _copy(valid_stores["image", "0.4"], tmp_path)
    broken = store / "s0" / "0" / "1" / "0" / "1"  # neither the first nor the last chunk
    broken.write_bytes(b"garbage")
    assert validate_ngff(store).valid  # the default sample misses it ...
    report = validate_ngff(store, deep=True, workers=2)  # ... every chunk does not
    assert report.codes(Severity.ERROR) == {"chunk-unreadable"}
    assert report.facts["chunks_read"] == 30
    (finding,) = report.findings
    assert str(broken.relative_to(store / "s0")) in finding.message


CONVERTED = [
    "bioformats2raw-reference/xyz_8bit__mitotic_plate_calibrated.tiff",
    "misc/multiseries.ome.tiff",
    "misc/zcyx.tiff",
    "misc/input_yxc.png",
]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("source", CONVERTED, ids=lambda s: s.split("/")[-1])
def test_stores_written_by_fairio_convert_are_valid(shared_data, tmp_path, source, version):
    """What the converter writes passes the validator, deep, with no finding at all."""
    store = tmp_path / "converted.ome.zarr"
    args = ["--ngff-version", version, "--series", "all"]
    run_fairio("convert", shared_data / "images" / source, store, *args, check=True)
    result = run_fairio("validate-ngff", store, "--deep", "--json", tmp_path / "report.json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["valid"] and report["findings"] == []
    assert report["kind"] == "bioformats2raw"
    assert report["ngff_version"] == version
    assert report["mode"] == "deep (every chunk read)" and report["chunks_read"] > 0


@pytest.mark.parametrize(
    "items",
    [[1, 1.0], [True, 1], [{"a": [1, 2]}, {"a": [1, 2.0]}], [{"a": 1}, {"a": 1, "b": 2}],
     [[0, False]], [None, 0], ["1", 1], [{"name": "A"}, {"name": "B"}]],
)  # fmt: skip
def test_schema_unique_items_matches_jsonschema(items):
    """The linear-time uniqueItems says what jsonschema's pairwise one says."""
    from jsonschema._utils import uniq

    from fairio_tools.ngff.schemas import _hashable

    keys = [_hashable(item) for item in items]
    assert (len(set(keys)) == len(keys)) == uniq(items)
