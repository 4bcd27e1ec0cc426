"""Multi-file OME-TIFF: a set converts with every plane; a lone member says what is missing;
no reference leaves the set's folder."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
import tifffile
import zarr

from fairio_tools.convert.converter import convert_to_ome_zarr
from fairio_tools.images.info import read_image_info
from tests.conftest import run_fairio

NS = "{http://www.openmicroscopy.org/Schemas/OME/2016-06}"


@pytest.fixture
def multifile(shared_data, tmp_path):
    folder = tmp_path / "set"
    shutil.copytree(shared_data / "images" / "ome-samples" / "multifile", folder)
    return folder


def _expected_planes(folder) -> np.ndarray:
    """The z stack as the companion file lays it out, each plane read by tifffile alone."""
    root = ET.parse(folder / "multifile.companion.ome").getroot()
    pixels = root.find(f"{NS}Image/{NS}Pixels")
    planes = {}
    for tiff_data in pixels.findall(f"{NS}TiffData"):
        name = tiff_data.find(f"{NS}UUID").get("FileName")
        with tifffile.TiffFile(folder / name, _multifile=False) as tif:
            planes[int(tiff_data.get("FirstZ"))] = tif.pages[int(tiff_data.get("IFD"))].asarray()
    return np.stack([planes[z] for z in range(int(pixels.get("SizeZ")))])


@pytest.mark.parametrize("given", ["", "multifile.companion.ome", "multifile-Z2.ome.tiff"])
def test_set_converts_with_every_plane(multifile, tmp_path, given):
    expected = _expected_planes(multifile)
    assert expected.shape[0] == 5
    convert_to_ome_zarr(multifile / given if given else multifile, tmp_path / "out.zarr")
    ours = zarr.open_group(str(tmp_path / "out.zarr"), mode="r")["0/0"][...]
    np.testing.assert_array_equal(ours[0, 0], expected)
    ome = (tmp_path / "out.zarr" / "OME" / "METADATA.ome.xml").read_text()
    assert ome == (multifile / "multifile.companion.ome").read_text()


def test_zip_of_a_set_converts_with_every_plane(multifile, tmp_path):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(multifile.iterdir()):
            zipped.write(path, f"inner/{path.name}")
    result = run_fairio("convert", archive, tmp_path / "out.zarr", check=True)
    ours = zarr.open_group(str(tmp_path / "out.zarr"), mode="r")["0/0"][...]
    np.testing.assert_array_equal(ours[0, 0], _expected_planes(multifile))
    assert result.returncode == 0


def test_lone_member_converts_its_planes_and_says_how_many_are_missing(multifile, tmp_path):
    for name in ("multifile-Z1.ome.tiff", "multifile-Z4.ome.tiff"):
        (multifile / name).unlink()
    result = run_fairio("convert", multifile / "multifile-Z2.ome.tiff", tmp_path / "o.zarr")
    assert result.returncode == 0
    ours = zarr.open_group(str(tmp_path / "o.zarr"), mode="r")["0/0"]
    assert ours.shape[2] == 1
    assert "2 of the set's 5 planes are missing" in result.stderr
    notes = read_image_info(multifile / "multifile-Z2.ome.tiff").notes
    assert any("multifile-Z1.ome.tiff" in note for note in notes)


@pytest.mark.parametrize("name", ["../outside.ome.tiff", "/etc/passwd", "link.ome.tiff"])
def test_references_never_leave_the_folder(multifile, tmp_path, name):
    outside = tmp_path / "outside.ome.tiff"
    shutil.copy(multifile / "multifile-Z1.ome.tiff", outside)
    (multifile / "link.ome.tiff").symlink_to(outside)
    companion = multifile / "multifile.companion.ome"
    companion.write_text(
        companion.read_text().replace('FileName="multifile-Z1.ome.tiff"', f'FileName="{name}"')
    )
    result = run_fairio("convert", multifile, tmp_path / "out.zarr")
    assert result.returncode == 2, result.stderr
    assert not (tmp_path / "out.zarr").exists()
