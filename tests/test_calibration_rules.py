"""The TIFF, ImageJ and SCIFIO calibration rules (docs/image-reading.md) on synthetic files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from fairio_tools.images.info import read_image_info
from tests.conftest import run_fairio

STACK = np.arange(3 * 8 * 6, dtype=np.uint16).reshape(3, 8, 6)


def test_scifio_imagej_tiff_takes_its_scales_not_its_centimetre_resolution(tmp_path):
    x_um, z_um = 0.15, 0.235
    per_cm = 1e4 / x_um  # SCIFIO: X/YResolution in pixels per ResolutionUnit (cm)
    description = f"ImageJ=1.43d\nimages=3\nslices=3\nunit=micron\nscales={x_um},{x_um},{z_um}\n"
    path = tmp_path / "scifio.tif"
    tifffile.imwrite(
        path, STACK, description=description, metadata=None, photometric="minisblack",
        resolution=(per_cm, per_cm), resolutionunit=3,
    )  # fmt: skip
    series = read_image_info(path).series[0]
    assert series.axes == ["z", "y", "x"]
    for axis, size in (("x", x_um), ("y", x_um), ("z", z_um)):
        assert series.physical_sizes[axis].value == pytest.approx(size)
        assert series.physical_sizes[axis].unit == "micrometer"


def test_imagej_tiff_without_scales_reads_resolution_per_unit(tmp_path):
    path = tmp_path / "imagej.tif"
    tifffile.imwrite(path, STACK, imagej=True, resolution=(4.0, 4.0),
                     metadata={"unit": "um", "spacing": 2.0, "axes": "ZYX"})  # fmt: skip
    series = read_image_info(path).series[0]
    assert series.physical_sizes["x"].value == pytest.approx(0.25)
    assert series.physical_sizes["z"].value == pytest.approx(2.0)


@pytest.mark.parametrize(("code", "unit"), [(2, "inch"), (3, "centimeter")])
def test_plain_tiff_resolution_is_noted_as_a_likely_dpi_default(tmp_path, code, unit):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, STACK[0], resolution=(300.0, 300.0), resolutionunit=code)
    series = read_image_info(path).series[0]
    assert series.physical_sizes["x"].unit == unit
    assert series.physical_sizes["x"].value == pytest.approx(1 / 300)
    assert any("often a DPI default" in note for note in series.notes)


def test_implausible_sizes_are_noted(tmp_path):
    path = tmp_path / "tiny.ome.tif"
    tifffile.imwrite(path, STACK[0], metadata={"PhysicalSizeX": 1e-12, "PhysicalSizeY": 0.5})
    series = read_image_info(path).series[0]
    assert series.physical_sizes["x"].value == pytest.approx(1e-12)
    notes = [note for note in series.notes if "implausible" in note]
    assert len(notes) == 1 and "physical size x" in notes[0]


def test_modulo_lifetime_axis_is_refused_with_its_reason(tmp_path):
    data = np.arange(2 * 8 * 6 * 5, dtype=np.uint16).reshape(2, 8, 6, 5)
    path = tmp_path / "flim.ome.tif"  # tifffile writes H as a ModuloAlongC "lifetime"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "CHYX"})
    series = read_image_info(path).series[0]
    assert series.shape[series.axes.index("c")] == 2  # the OME-XML's SizeC is 16
    assert len(series.channel_names) == 2  # the channel list agrees with the c axis
    result = run_fairio("convert", path, tmp_path / "out.zarr")
    assert result.returncode == 2
    assert "a lifetime axis 'h' of size 8" in result.stderr
