"""``fairio validate-ngff`` on hostile OME-Zarr stores: mutants of real stores (the Bio-Formats
reference Zarr, NGFF 0.4, and a ``fairio convert`` output, NGFF 0.5) whose metadata or chunks
are links out of the store, devices, FIFOs, sockets or directories, whose numbers are not
finite, whose lists are huge, or whose writer was killed.

Each is an INVALID store with a named finding (exit 1), found fast (a FIFO opened for reading
would block forever: every run has a timeout), and nothing outside the store is read: canaries
outside hold metadata and chunks that would validate, and must never show up in a report.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fairio_tools.atomic import INCOMPLETE_MARKER
from fairio_tools.ngff.validate import MAX_LISTED

CANARY = "CANARY-5d1e0b7c"
TIMEOUT = 60
REFERENCE = "images/bioformats2raw-reference"
FIRST_CHUNK_V2 = "0/0/0/0/0/0/0"  # level 0 of coins.ome.zarr: "/"-separated 5-D keys
FIRST_CHUNK_V3 = "0/0/c/0/0/0/0/0"  # level 0 of the converted PNG
BIOFORMATS2RAW_SHOULD = {"multiscale-incomplete"}
"""What the reference stores break: bioformats2raw writes no multiscale "type" (a SHOULD)."""


@pytest.fixture(scope="module", autouse=True)
def _warm(shared_data, converted) -> None:
    """Both real stores are valid, deep; validating them here first also imports the codecs and
    compiles the schemas once, for every forked child to inherit."""
    from fairio_tools.ngff.validate import validate_ngff

    for store, warnings in ((shared_data / REFERENCE / "coins.ome.zarr", BIOFORMATS2RAW_SHOULD),
                            (converted, set())):  # fmt: skip
        report = validate_ngff(store, deep=True, workers=1)
        assert report.valid and report.codes() == warnings, report.findings


@pytest.fixture
def v2(shared_data, tmp_path) -> Path:
    """A copy of the Bio-Formats reference store of coins.png (NGFF 0.4, Zarr v2)."""
    store = tmp_path / "coins.ome.zarr"
    shutil.copytree(shared_data / REFERENCE / "coins.ome.zarr", store)
    return store


@pytest.fixture(scope="module")
def converted(shared_data, tmp_path_factory) -> Path:
    """``fairio convert`` of a real PNG to NGFF 0.5 (Zarr v3), written once."""
    from click.testing import CliRunner

    from fairio_tools.cli.app import main

    store = tmp_path_factory.mktemp("converted") / "png.ome.zarr"
    source = shared_data / "images" / "misc" / "input_yxc.png"
    result = CliRunner().invoke(main, ["convert", str(source), str(store), "--ngff-version", "0.5"])
    assert result.exit_code == 0, result.output
    return store


@pytest.fixture
def v3(converted, tmp_path) -> Path:
    store = tmp_path / converted.name
    shutil.copytree(converted, store)
    return store


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder beside the store, for the targets of links out of it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def _fairio(*args) -> subprocess.CompletedProcess:
    fairio = Path(sys.executable).parent / "fairio"
    return subprocess.run(
        [str(fairio), *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT
    )


def _validate_cli(store: Path, *options: str) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the CLI (killed after TIMEOUT seconds); its result and its JSON report."""
    report = store.parent / "report.json"
    result = _fairio("validate-ngff", store, *options, "--json", report)
    assert "Traceback" not in result.stdout + result.stderr
    assert CANARY not in result.stdout + result.stderr
    data = json.loads(report.read_text())
    assert CANARY not in json.dumps(data)
    return result, data


def _validate_in_child(store: Path, deep: bool, queue) -> None:
    from fairio_tools.ngff.validate import validate_ngff

    queue.put(validate_ngff(store, deep=deep, workers=1).to_dict())


def _validate(store: Path, deep: bool = False) -> dict:
    """The report of ``store`` as a dict, validated in a forked child killed after TIMEOUT s
    (faster than the CLI, and a hang fails the test instead of blocking it)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_validate_in_child, args=(store, deep, queue))
    child.start()
    try:
        report = queue.get(timeout=TIMEOUT)
    finally:
        child.join(5)
        if child.is_alive():
            child.kill()
    assert CANARY not in json.dumps(report)
    return report


def _errors(report: dict) -> dict[str, dict]:
    return {f["code"]: f for f in report["findings"] if f["severity"] == "error"}


def _invalid(report: dict, code: str, path: str | None = None) -> dict:
    """Assert the report is INVALID with an error ``code`` (about ``path``); that finding."""
    errors = _errors(report)
    assert report["valid"] is False and code in errors, report["findings"]
    if path is not None:
        assert errors[code]["path"] == path, errors[code]
    return errors[code]


def _canary_attrs(store: Path, rel: str, outside: Path) -> Path:
    """A copy of a real metadata document outside the store, marked with the canary."""
    doc = json.loads((store / rel).read_text())
    if "multiscales" in doc:
        doc["multiscales"][0]["name"] = CANARY
    else:
        doc[CANARY] = CANARY
    target = outside / Path(rel).name
    target.write_text(json.dumps(doc))
    return target


def _replace(path: Path, make) -> None:
    """Replace the file at ``path`` by what ``make(path)`` creates."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    make(path)


# -- metadata documents that are no regular file inside the store ---------------------------


@pytest.mark.parametrize("rel", ["0/.zattrs", "0/0/.zarray", ".zattrs"])
def test_metadata_symlink_out_is_not_read(v2, outside, rel):
    canary = _canary_attrs(v2, rel, outside)
    _replace(v2 / rel, lambda p: p.symlink_to(canary))
    finding = _invalid(_validate(v2), "symlink-escape", rel)
    assert "outside the store" in finding["message"]


def test_metadata_symlink_inside_the_store_is_an_error(v2):
    """A metadata document is a regular file, even where a link would stay inside the store."""
    shutil.copy(v2 / "0" / ".zattrs", v2 / "copy-of-zattrs")
    _replace(v2 / "0" / ".zattrs", lambda p: p.symlink_to("../copy-of-zattrs"))
    finding = _invalid(_validate(v2), "metadata-symlink", "0/.zattrs")
    assert "symbolic link" in finding["message"]


def test_metadata_linked_to_dev_zero_is_refused_at_once(v2):
    _replace(v2 / "0" / ".zattrs", lambda p: p.symlink_to("/dev/zero"))
    result, report = _validate_cli(v2)
    assert result.returncode == 1
    assert "INVALID" in result.stdout and "symlink-escape" in result.stdout
    _invalid(report, "symlink-escape", "0/.zattrs")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "0").write_text("{}")


def _char_device(path: Path) -> None:
    os.mknod(path, 0o600 | 0o020000, os.makedev(1, 5))  # what /dev/zero is


def _can_mknod(tmp: Path) -> bool:
    try:
        _char_device(tmp / "probe")
    except OSError:
        return False
    (tmp / "probe").unlink()
    return True


@pytest.mark.parametrize(
    ("kind", "make", "word"),
    [("fifo", _fifo, "FIFO"), ("socket", _socket, "socket"), ("directory", _directory,
     "directory"), ("device", _char_device, "device")],
    ids=["fifo", "socket", "directory", "device"],
)  # fmt: skip
@pytest.mark.parametrize("rel", ["0/.zattrs", "0/0/.zarray", ".zattrs"])
def test_metadata_that_is_no_file_is_an_error(v2, tmp_path, rel, kind, make, word):
    if kind == "device" and not _can_mknod(tmp_path):
        pytest.skip("creating a device file needs CAP_MKNOD")
    _replace(v2 / rel, make)
    finding = _invalid(_validate(v2), "metadata-not-a-file", rel)
    assert word in finding["message"]


def test_v3_root_metadata_fifo_is_exit_1_and_does_not_block(v3):
    _replace(v3 / "zarr.json", _fifo)
    result, report = _validate_cli(v3)
    assert result.returncode == 1, result.stderr
    assert "metadata-not-a-file" in result.stdout
    _invalid(report, "metadata-not-a-file", "zarr.json")


@pytest.mark.parametrize("rel", ["0/zarr.json", "0/0/zarr.json"])
def test_v3_metadata_fifo_is_an_error_and_does_not_block(v3, rel):
    _replace(v3 / rel, _fifo)
    _invalid(_validate(v3), "metadata-not-a-file", rel)


def test_v3_metadata_symlink_out_is_not_read(v3, outside):
    canary = _canary_attrs(v3, "0/0/zarr.json", outside)
    _replace(v3 / "0" / "0" / "zarr.json", lambda p: p.symlink_to(canary))
    _invalid(_validate(v3), "symlink-escape", "0/0/zarr.json")


# -- chunks that are no regular file inside the store ----------------------------------------


@pytest.mark.parametrize("deep", [False, True], ids=["sample", "deep"])
def test_chunk_that_is_a_directory_is_an_error(v2, deep):
    _replace(v2 / FIRST_CHUNK_V2, _directory)
    finding = _invalid(_validate(v2, deep), "chunk-not-a-file", "0/0")
    assert "directory" in finding["message"]


@pytest.mark.parametrize("deep", [False, True], ids=["sample", "deep"])
def test_chunk_fifo_is_an_error_and_does_not_block(v2, deep):
    _replace(v2 / FIRST_CHUNK_V2, _fifo)
    finding = _invalid(_validate(v2, deep), "chunk-not-a-file", "0/0")
    assert "FIFO" in finding["message"]


@pytest.mark.parametrize(
    ("store", "chunk"), [("v2", FIRST_CHUNK_V2), ("v3", FIRST_CHUNK_V3)], ids=["v2", "v3"]
)
@pytest.mark.parametrize("deep", [False, True], ids=["sample", "deep"])
def test_chunk_symlink_out_is_not_read(request, outside, store, chunk, deep):
    """The link leads to a chunk that decodes (copied from the same store): still refused, and
    not counted as read; a link to an outside FIFO proves it is never opened (it would block)."""
    store = request.getfixturevalue(store)
    clean = _validate(store, deep)
    assert clean["valid"], clean["findings"]
    shutil.copy(store / chunk, outside / "canary-chunk")
    _replace(store / chunk, lambda p: p.symlink_to(outside / "canary-chunk"))
    report = _validate(store, deep)
    finding = _invalid(report, "symlink-escape", "0/0")
    assert "outside the store" in finding["message"]
    assert report["chunks_read"] == clean["chunks_read"] - 1
    os.mkfifo(outside / "fifo")
    _replace(store / chunk, lambda p: p.symlink_to(outside / "fifo"))
    _invalid(_validate(store, deep), "symlink-escape")


def test_chunk_linked_to_dev_zero_with_deep_is_refused_at_once(v3):
    _replace(v3 / FIRST_CHUNK_V3, lambda p: p.symlink_to("/dev/zero"))
    result, report = _validate_cli(v3, "--deep")
    assert result.returncode == 1
    assert "INVALID" in result.stdout and "symlink-escape" in result.stdout
    _invalid(report, "symlink-escape", "0/0")


def test_chunk_far_larger_than_a_chunk_is_not_read(v2):
    """A chunk of 96 x 96 uint8 holds at most about 1 MiB encoded; 64 MiB are refused unread."""
    with open(v2 / FIRST_CHUNK_V2, "r+b") as chunk:
        chunk.truncate(64 * 1024**2)
    finding = _invalid(_validate(v2, deep=True), "chunk-not-a-file", "0/0")
    assert "limit" in finding["message"]


@pytest.mark.parametrize(("store", "chunk"), [("v2", FIRST_CHUNK_V2), ("v3", FIRST_CHUNK_V3)],
                         ids=["v2", "v3"])  # fmt: skip
def test_blosc_bomb_is_not_decompressed(request, store, chunk):
    """A 125 KB Blosc frame that claims 30 MiB, where a chunk decodes to a few KB."""
    import numcodecs
    import numpy as np

    store = request.getfixturevalue(store)
    bomb = numcodecs.Blosc(cname="lz4").encode(np.zeros(30 * 1024**2, np.uint8))
    (store / chunk).write_bytes(bomb)
    finding = _invalid(_validate(store), "chunk-unreadable", "0/0")
    assert "Blosc header declares 31,457,280 decoded bytes" in finding["message"]


# -- numbers that are not finite, scales that are not positive ------------------------------

SCALE_OF_X = "/multiscales/0/datasets/1/coordinateTransformations/0/scale/4"


@pytest.mark.parametrize(
    ("literal", "code"),
    [("NaN", "invalid-json"), ("Infinity", "invalid-json"), ("-Infinity", "invalid-json"),
     ("1e999", "scale-not-finite"), ("-1.0", "scale-not-positive"),
     ("0.0", "scale-not-positive")],
)  # fmt: skip
def test_scale_not_finite_or_not_positive_is_an_error(v2, literal, code):
    attrs = v2 / "0" / ".zattrs"
    text = attrs.read_text()
    assert text.count("2.0, 2.0 ]") == 1  # level 1's y and x scale, as Bio-Formats wrote it
    attrs.write_text(text.replace("2.0, 2.0 ]", f"2.0, {literal} ]"))
    finding = _invalid(_validate(v2), code, "0/.zattrs")
    assert finding["pointer"] == SCALE_OF_X
    assert set(_errors(_validate(v2))) == {code}


@pytest.mark.parametrize("value", [0, -0.5, "Infinity"])
def test_v3_scale_not_positive_or_not_finite_is_an_error(v3, value):
    file = v3 / "0" / "zarr.json"
    doc = json.loads(file.read_text())
    scale = doc["attributes"]["ome"]["multiscales"][0]["datasets"][0][
        "coordinateTransformations"][0]["scale"]  # fmt: skip
    scale[3] = float("inf") if value == "Infinity" else value
    file.write_text(json.dumps(doc))  # writes inf as the literal Infinity
    code = "invalid-json" if value == "Infinity" else "scale-not-positive"
    finding = _invalid(_validate(v3), code, "0/zarr.json")
    pointer = "/attributes/ome/multiscales/0/datasets/0/coordinateTransformations/0/scale/3"
    assert finding["pointer"] == pointer


def test_translation_not_finite_is_an_error(v2):
    file = v2 / "0" / ".zattrs"
    doc = json.loads(file.read_text())
    transforms = doc["multiscales"][0]["datasets"][0]["coordinateTransformations"]
    transforms.append({"type": "translation", "translation": [0, 0, 0, 0, 1e308 * 10]})
    file.write_text(json.dumps(doc).replace("Infinity", "1e999"))
    _invalid(_validate(v2), "translation-not-finite", "0/.zattrs")


# -- huge lists, huge shapes ------------------------------------------------------------------


def test_200000_datasets_are_refused_not_walked(v2):
    file = v2 / "0" / ".zattrs"
    doc = json.loads(file.read_text())
    datasets = doc["multiscales"][0]["datasets"]
    doc["multiscales"][0]["datasets"] = [{"path": d["path"]} for d in datasets] * 70_000
    file.write_text(json.dumps(doc, separators=(",", ":")))  # 3 MB, below the size bound
    result, report = _validate_cli(v2)
    assert result.returncode == 1
    finding = _invalid(report, "too-many-entries", "0/.zattrs")
    assert finding["pointer"] == "/multiscales/0/datasets" and "210,000" in finding["message"]
    assert report["arrays_checked"] == 0


def test_lists_up_to_the_bound_are_walked(v2, monkeypatch):
    """At the bound the walk completes (6 levels here, the bound lowered to 6), one more is
    refused. The real bound (1,000 levels) is walked in seconds too."""
    monkeypatch.setitem(MAX_LISTED, "datasets", 6)  # inherited by the forked child
    file = v2 / "0" / ".zattrs"
    doc = json.loads(file.read_text())
    datasets = doc["multiscales"][0]["datasets"]
    doc["multiscales"][0]["datasets"] = datasets + [
        {**d, "path": f"copy{d['path']}"} for d in datasets
    ]
    for level in ("0", "1", "2"):
        shutil.copytree(v2 / "0" / level, v2 / "0" / f"copy{level}")
    file.write_text(json.dumps(doc))
    report = _validate(v2)
    assert "too-many-entries" not in _errors(report) and report["arrays_checked"] == 6
    doc["multiscales"][0]["datasets"].append(datasets[0])
    file.write_text(json.dumps(doc))
    _invalid(_validate(v2), "too-many-entries", "0/.zattrs")


def test_any_ngff_list_longer_than_the_bound_is_refused(v2):
    """10,001 channels: not schema-checked (jsonschema would take minutes), one error."""
    from fairio_tools.ngff.validate import MAX_LIST_ENTRIES

    file = v2 / "0" / ".zattrs"
    doc = json.loads(file.read_text())
    doc["omero"]["channels"] *= MAX_LIST_ENTRIES + 1
    file.write_text(json.dumps(doc))
    finding = _invalid(_validate(v2), "too-many-entries", "0/.zattrs")
    assert finding["pointer"] == "/omero/channels"


def test_findings_of_one_code_are_listed_a_bounded_number_of_times(v2):
    from fairio_tools.ngff.validate import MAX_FINDINGS_PER_CODE

    file = v2 / "0" / ".zattrs"
    doc = json.loads(file.read_text())
    doc["multiscales"][0]["axes"] *= 1_000  # 4,999 duplicate axis names
    file.write_text(json.dumps(doc))
    report = _validate(v2)
    codes = [f["code"] for f in report["findings"]]
    assert codes.count("duplicate-axis-name") == MAX_FINDINGS_PER_CODE
    assert "findings-truncated" in codes


def test_huge_metadata_document_is_refused(v2):
    from fairio_tools.ngff.zarr_metadata import MAX_METADATA_BYTES

    file = v2 / "0" / ".zattrs"
    doc = json.loads(file.read_text())
    doc["padding"] = "x" * MAX_METADATA_BYTES
    file.write_text(json.dumps(doc))
    _invalid(_validate(v2), "metadata-too-large", "0/.zattrs")


def test_shape_of_1e18_pixels_with_deep_costs_what_is_stored(v2):
    """10^18 declared pixels: a warning, found by reading the chunks that exist, fast."""
    file = v2 / "0" / "0" / ".zarray"
    doc = json.loads(file.read_text())
    doc["shape"][-2:] = [10**9, 10**9]
    file.write_text(json.dumps(doc))
    report = _validate(v2, deep=True)
    assert report["valid"], report["findings"]
    warnings = {f["code"] for f in report["findings"]}
    assert {"huge-shape", "chunks-missing"} <= warnings
    assert report["chunks_read"] > 0


def test_chunk_decoding_to_more_than_the_limit_is_not_read(v2):
    from fairio_tools.ngff.chunks import MAX_DECODED_CHUNK_BYTES

    file = v2 / "0" / "0" / ".zarray"
    doc = json.loads(file.read_text())
    doc["shape"][-2:] = [10**6, 10**6]
    doc["chunks"][-2:] = [10**5, 10**5]
    assert MAX_DECODED_CHUNK_BYTES < 10**10
    file.write_text(json.dumps(doc))
    _invalid(_validate(v2, deep=True), "chunk-too-large", "0/0/.zarray")


# -- interrupted writes -----------------------------------------------------------------------


def test_store_with_the_incomplete_marker_is_invalid(v2):
    (v2 / INCOMPLETE_MARKER).write_text("")
    finding = _invalid(_validate(v2), "incomplete", INCOMPLETE_MARKER)
    assert "interrupted" in finding["message"]


def test_partial_named_store_without_the_marker_is_valid(v2):
    partial = v2.rename(v2.parent / f".{v2.name}.partial-3f9a1c")
    report = _validate(partial)
    assert report["valid"] and {f["code"] for f in report["findings"]} == BIOFORMATS2RAW_SHOULD


def test_not_a_store_is_exit_2_with_one_line(tmp_path):
    fifo = tmp_path / "store.ome.zarr"
    os.mkfifo(fifo)
    result = _fairio("validate-ngff", fifo)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(fifo) in lines[0]
