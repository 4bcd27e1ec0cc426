"""``fairio zip-store``: an OME-Zarr store as one zip, the store again once unzipped."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from fairio_tools.atomic import INCOMPLETE_MARKER
from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr
from tests.conftest import run_fairio


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.fixture(params=["0.4", "0.5"])
def store(request, tmp_path: Path) -> Path:
    data = np.arange(2 * 3 * 40 * 50, dtype=np.uint16).reshape(2, 3, 40, 50)
    source = tmp_path / "zcyx.tif"
    tifffile.imwrite(source, data, imagej=True, metadata={"axes": "ZCYX"})
    target = tmp_path / "image.ome.zarr"
    options = ConversionOptions(levels=2, ngff_version=request.param, chunks=(1, 16, 16))
    convert_to_ome_zarr(source, target, options)
    return target


def test_unzipped_it_is_the_store_byte_for_byte_and_zarr_reads_it_as_it_is(store, tmp_path):
    archive = tmp_path / "image.zip"
    result = run_fairio("zip-store", store, archive, "--json", tmp_path / "s.json")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        zipped.extractall(tmp_path / "unzipped")
        chunks = [i for i in zipped.infolist() if Path(i.filename).name.isdigit()]
    assert _digests(tmp_path / "unzipped") == _digests(store)
    assert summary["files"] == len(names) == len(_digests(store))
    assert names[0] in ("zarr.json", ".zattrs", ".zgroup")  # the root's metadata first
    assert chunks and all(i.compress_type == zipfile.ZIP_STORED for i in chunks)

    expected = zarr.open_group(str(store), mode="r")["0/0"][...]
    with zarr.storage.ZipStore(archive, mode="r") as zip_store:
        assert np.array_equal(zarr.open_group(zip_store, mode="r")["0/0"][...], expected)


def test_refuses_what_is_no_complete_confined_ome_zarr(store, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("no zarr here")
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    (store / "0" / "leak.txt").symlink_to(outside)
    for candidate in (plain, store):
        result = run_fairio("zip-store", candidate, tmp_path / "out.zip")
        assert result.returncode == 2 and str(candidate) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out.zip").exists()
    (store / "0" / "leak.txt").unlink()
    (store / INCOMPLETE_MARKER).write_text("")
    result = run_fairio("zip-store", store, tmp_path / "out.zip")
    assert result.returncode == 2 and not (tmp_path / "out.zip").exists()
