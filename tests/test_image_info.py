"""``fairio image-info`` on real microscopy files, and its errors on bad ones."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from fairio_tools.images.info import ngff_axes_from_tiff, read_image_info
from tests.conftest import run_fairio


def _info(path):
    return json.loads(run_fairio("image-info", path, check=True).stdout)


def test_calibrated_tiff_matches_bioformats_reference(shared_data):
    reference = shared_data / "images" / "bioformats2raw-reference"
    info = _info(reference / "xyz_8bit__mitotic_plate_calibrated.tiff")
    (series,) = info["series"]
    assert series["axes"] == ["z", "y", "x"]
    assert series["shape"] == [6, 263, 263]
    assert series["dtype"] == "uint8"
    assert info["has_imagej_metadata"] is True and info["has_ome_xml"] is False

    zattrs = json.loads((reference / "xyz_8bit__mitotic_plate_calibrated.ome.zarr/0/.zattrs")
                        .read_text())  # fmt: skip
    multiscale = zattrs["multiscales"][0]
    bf_scale = multiscale["datasets"][0]["coordinateTransformations"][0]["scale"]
    bf_axes = {a["name"]: a for a in multiscale["axes"]}
    for axis, expected in zip("zyx", bf_scale[-3:], strict=True):
        size = series["physical_sizes"][axis]
        assert size["value"] == pytest.approx(expected, rel=1e-9)
        assert size["unit"] == bf_axes[axis]["unit"] == "micrometer"
    assert series["physical_sizes"]["z"]["value"] == 3.0
    assert series["physical_sizes"]["x"]["value"] == pytest.approx(0.08519643, rel=1e-8)


def test_multiseries_ome_tiff(shared_data):
    info = _info(shared_data / "images" / "misc" / "multiseries.ome.tiff")
    assert info["format"] == "ome-tiff" and info["has_ome_xml"] is True
    assert len(info["series"]) == 6
    for index, series in enumerate(info["series"]):
        assert series["index"] == index
        assert series["axes"] == ["c", "y", "x"] and series["shape"] == [4, 5, 5]
        # from the OME-XML (namespaced), not the TIFF resolution tags (6.5e-05 cm)
        assert series["physical_sizes"]["x"]["unit"] == "micrometer"
        assert series["physical_sizes"]["x"]["value"] == pytest.approx(0.65, rel=1e-6)
        assert series["channel_names"] == [f"Channel:{index}:{c}" for c in range(4)]


@pytest.mark.parametrize(
    ("name", "axes", "shape"),
    [
        ("zcyx.tiff", ["z", "c", "y", "x"], [25, 2, 50, 50]),
        ("input1_tyx.tiff", ["t", "y", "x"], [5, 198, 356]),
        ("he1_axes_cyx.tiff", ["c", "y", "x"], [3, 50, 50]),
        ("zyx_uint16.tiff", ["z", "y", "x"], [10, 8, 5]),
        ("input_yxc.png", ["y", "x", "c"], [530, 265, 4]),
    ],
)
def test_axes_of_misc_files(shared_data, name, axes, shape):
    (series,) = read_image_info(shared_data / "images" / "misc" / name).series
    assert series.axes == axes
    assert series.shape == shape


def test_imagej_hyperstack_calibration(shared_data):
    (series,) = read_image_info(shared_data / "images" / "misc" / "zcyx.tiff").series
    assert series.physical_sizes["x"].unit == "micrometer"
    assert series.physical_sizes["z"].value == pytest.approx(0.054455, rel=1e-4)


def test_png_and_content_sniffing(shared_data):
    reference = shared_data / "images" / "bioformats2raw-reference"
    coins = _info(reference / "coins.png")
    assert coins["format"] == "png"
    assert coins["series"][0]["shape"] == [480, 640]
    # camera.jpg is a PNG file with a .jpg name: the content decides
    assert _info(reference / "camera.jpg")["format"] == "png"


def test_jpeg(tmp_path):
    path = tmp_path / "rgb.jpg"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(path, quality=90)
    info = _info(path)
    assert info["format"] == "jpeg"
    assert info["series"][0]["axes"] == ["y", "x", "c"]
    assert info["series"][0]["shape"] == [20, 30, 3]


def test_tsv_and_json_files(shared_data, tmp_path):
    image = shared_data / "images/bioformats2raw-reference/xyz_8bit__mitotic_plate_calibrated.tiff"
    result = run_fairio(
        "image-info", image, "--json", tmp_path / "r.json", "--tsv", tmp_path / "r.tsv", check=True
    )
    assert result.stdout == ""
    assert json.loads((tmp_path / "r.json").read_text())["series"][0]["axes"] == ["z", "y", "x"]
    header, row = (tmp_path / "r.tsv").read_text().splitlines()
    fields = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert fields["axes"] == "zyx"
    assert fields["physical_size_z"] == "3 micrometer"
    assert fields["imagej_metadata"] == "yes"


def test_unlabelled_page_sequence_is_reported_as_z():
    axes, notes = ngff_axes_from_tiff("IYX")
    assert axes == ["z", "y", "x"]
    assert "Bio-Formats" in notes[0]
    axes, _ = ngff_axes_from_tiff("ZIYX")
    assert axes == ["z", "t", "y", "x"]


def _bad_inputs(tmp_path, shared_data):
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.tif"
    source = shared_data / "images/bioformats2raw-reference/xyz_8bit__mitotic_plate_calibrated.tiff"
    truncated.write_bytes(source.read_bytes()[:200_000])
    text = tmp_path / "notes.tif"
    text.write_text("this is not an image\n")
    png = tmp_path / "cut.png"
    png.write_bytes((shared_data / "images/bioformats2raw-reference/coins.png").read_bytes()[:5000])
    directory = tmp_path / "folder.tif"
    directory.mkdir()
    return {
        "empty": (empty, "empty"),
        "truncated": (truncated, "truncated"),
        "text": (text, "not a supported image"),
        "truncated-png": (png, "cannot be read as PNG"),
        "missing": (tmp_path / "missing.tif", "no such file"),
        "directory": (directory, "is a directory"),
    }


@pytest.mark.parametrize(
    "case", ["empty", "truncated", "text", "truncated-png", "missing", "directory"]
)
def test_bad_input_exits_2_with_one_line(tmp_path, shared_data, case):
    path, message = _bad_inputs(tmp_path, shared_data)[case]
    result = run_fairio("image-info", path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"fairio: error: {path}")
    assert message in lines[0]
    assert result.stdout == ""


def test_debug_shows_traceback(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    result = run_fairio("--debug", "image-info", empty)
    assert result.returncode == 2
    assert "Traceback" in result.stderr


def test_copy_keeps_working(shared_data, tmp_path):
    """The report depends on content, not on the file's name or folder."""
    target = tmp_path / "renamed.dat"
    shutil.copy(shared_data / "images/misc/multiseries.ome.tiff", target)
    assert len(read_image_info(target).series) == 6
