"""Round trip TIFF -> OME-Zarr -> OME-TIFF: identical pixels, pixel sizes and channel names."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr
from fairio_tools.convert.ome_tiff import export_ome_tiff
from fairio_tools.images.info import read_image_info
from tests.conftest import run_fairio


def _named_source(path):
    data = np.random.default_rng(1).integers(0, 4000, (3, 2, 300, 520), dtype=np.uint16)
    tifffile.imwrite(
        path,
        data,
        ome=True,
        metadata={
            "axes": "CZYX",
            "PhysicalSizeX": 0.325,
            "PhysicalSizeY": 0.325,
            "PhysicalSizeZ": 2.0,
            "Channel": {"Name": ["DAPI", "GFP", "mCherry"]},
        },
    )
    return data


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_round_trip_is_pixel_identical(tmp_path, version):
    source = tmp_path / "source.ome.tiff"
    data = _named_source(source)
    store = tmp_path / "image.ome.zarr"
    convert_to_ome_zarr(
        source, store, ConversionOptions(ngff_version=version, chunks=(1, 128, 128), min_size=64)
    )
    output = tmp_path / "back.ome.tiff"
    summary = export_ome_tiff(store, output)
    assert summary["levels"] == 5 and summary["axes"] == "TCZYX"

    with tifffile.TiffFile(output) as tif:
        assert tif.is_ome
        series = tif.series[0]
        np.testing.assert_array_equal(series.asarray().reshape(data.shape), data)
        assert len(series.levels) == 5  # sub-resolutions in SubIFDs
        assert series.levels[1].shape[-2:] == (150, 260)
        assert len(tif.pages.first.subifds) == 4
    before, after = read_image_info(source).series[0], read_image_info(output).series[0]
    assert after.channel_names == before.channel_names == ["DAPI", "GFP", "mCherry"]
    for axis in "zyx":
        assert after.physical_sizes[axis].value == pytest.approx(before.physical_sizes[axis].value)
        assert after.physical_sizes[axis].unit == before.physical_sizes[axis].unit


def test_round_trip_of_real_imagej_stack(shared_data, tmp_path):
    source = shared_data / "images" / "bioformats2raw-reference"
    source = source / "xyz_8bit__mitotic_plate_calibrated.tiff"
    store = tmp_path / "image.ome.zarr"
    convert_to_ome_zarr(source, store, ConversionOptions(ngff_version="0.4"))
    output = tmp_path / "back.ome.tiff"
    result = run_fairio("export-tiff", store, output, "--json", tmp_path / "summary.json")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["shape"] == [1, 1, 6, 263, 263]
    np.testing.assert_array_equal(tifffile.imread(output), tifffile.imread(source))
    exported = read_image_info(output).series[0]
    assert exported.physical_sizes["x"].value == pytest.approx(0.08519643016734027, rel=1e-9)
    assert exported.physical_sizes["z"].value == 3.0
    assert exported.physical_sizes["z"].unit == "micrometer"


def test_export_refuses_existing_output(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    store = tmp_path / "image.ome.zarr"
    convert_to_ome_zarr(source, store)
    output = tmp_path / "out.ome.tiff"
    output.write_bytes(b"keep me")
    result = run_fairio("export-tiff", store, output)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "already exists" in result.stderr
    assert output.read_bytes() == b"keep me"


def test_export_of_a_folder_that_is_not_a_store(tmp_path):
    (tmp_path / "empty.zarr").mkdir()
    result = run_fairio("export-tiff", tmp_path / "empty.zarr", tmp_path / "out.ome.tiff")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "empty.zarr" in result.stderr
    assert not (tmp_path / "out.ome.tiff").exists()


def test_float16_exports_as_float32_with_a_note(tmp_path):
    data = np.linspace(-3, 3, 40 * 30).astype(np.float16).reshape(40, 30)
    tifffile.imwrite(tmp_path / "half.tif", data)
    convert_to_ome_zarr(tmp_path / "half.tif", tmp_path / "half.zarr")
    summary = export_ome_tiff(tmp_path / "half.zarr", tmp_path / "half.ome.tif")
    assert summary["dtype"] == "float32"
    assert "float16" in summary["notes"][0]
    back = tifffile.imread(tmp_path / "half.ome.tif")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back.reshape(data.shape), data.astype(np.float32))
