"""The PNG preview of an OME-Zarr image: maximum projection of the lowest level, in colour."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr
from fairio_tools.errors import InputError
from fairio_tools.ngff import preview


def _store(tmp_path, data: np.ndarray, levels: int) -> str:
    source = tmp_path / "zcyx.tif"
    tifffile.imwrite(source, data, imagej=True, metadata={"axes": "ZCYX"})
    store = tmp_path / "image.ome.zarr"
    convert_to_ome_zarr(source, store, ConversionOptions(levels=levels))
    return str(store)


def test_preview_projects_z_and_draws_each_channel_in_its_colour(tmp_path):
    data = np.zeros((5, 2, 40, 60), dtype=np.uint8)
    data[3, 0, 10, 20] = 200  # a red spot deep in the stack
    data[1, 1, 30, 50] = 100  # a green one on another plane
    store = _store(tmp_path, data, levels=1)
    target = tmp_path / "preview.png"
    preview.write_preview(store, target)

    png = np.array(Image.open(target))
    assert png.shape == (40, 60, 3)
    assert tuple(png[10, 20]) == (255, 0, 0) and tuple(png[30, 50]) == (0, 255, 0)
    png[10, 20] = png[30, 50] = 0
    assert not png.any()  # nothing but the two spots


def test_preview_is_the_lowest_level_bounded_to_its_largest_side(tmp_path, monkeypatch):
    data = np.full((1, 1, 64, 96), 7, dtype=np.uint16)
    data[0, 0, :, :48] = 1000
    store = _store(tmp_path, data, levels=2)
    preview.write_preview(store, tmp_path / "low.png")
    assert Image.open(tmp_path / "low.png").size == (48, 32)  # level 1: half of 96 x 64
    monkeypatch.setattr(preview, "MAX_SIDE", 16)
    preview.write_preview(store, tmp_path / "small.png")
    small = np.asarray(Image.open(tmp_path / "small.png"))
    assert small.shape == (11, 16, 3)  # every 3rd pixel of 32 x 48
    assert small[:, :8].min() == 255 and small[:, 8:].max() == 0  # grey: one channel, white


def test_preview_refuses_a_level_over_the_decoded_limit(tmp_path, monkeypatch):
    store = _store(tmp_path, np.ones((1, 1, 32, 32), dtype=np.uint8), levels=1)
    monkeypatch.setitem(preview.limits._VALUES, "FAIRIO_MAX_DECODED_BYTES", 100)
    with pytest.raises(InputError, match="bytes read for the preview"):
        preview.write_preview(store, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def test_plate_preview_is_its_grid_of_wells_scaled_over_the_whole_plate(tmp_path, monkeypatch):
    from tests.test_convert_plate import sample, write_screen

    even = np.full((8, 8), 200, dtype=np.uint16)
    halves = np.full((8, 8), 100, dtype=np.uint16)
    halves[:, 4:] = 300
    wells = (
        f'<Well ID="W:0" Row="0" Column="0">{sample("WS:0", 0)}</Well>'
        f'<Well ID="W:1" Row="1" Column="2">{sample("WS:1", 1)}{sample("WS:2", 2)}</Well>'
    )
    source = tmp_path / "screen.ome.tiff"
    write_screen(source, wells, planes=[even, halves, np.zeros_like(even)])
    store = tmp_path / "plate.ome.zarr"
    convert_to_ome_zarr(source, store, ConversionOptions(levels=1))
    monkeypatch.setattr(preview, "MAX_SIDE", 12 * 19)  # cells of 19 pixels: fields twice as big
    preview.write_preview(str(store), tmp_path / "plate.png")

    png = np.asarray(Image.open(tmp_path / "plate.png"))[..., 0].astype(int)
    assert png.shape == (8 * 19, 12 * 19)  # the OME-XML's 8 x 12 plate
    a1, b3 = png[1:17, 1:17], png[19 + 1 : 19 + 17, 2 * 19 + 1 : 2 * 19 + 17]
    assert (a1 == 128).all()  # 200 between the plate's 100 and 300
    assert (b3[:, :8] == 0).all() and (b3[:, 8:] == 255).all()  # first field only
    png[1:17, 1:17] = png[19 + 1 : 19 + 17, 2 * 19 + 1 : 2 * 19 + 17] = 0
    assert not png.any()  # every other well, and every margin, is black


def _fairio(*args) -> object:
    from click.testing import CliRunner

    from fairio_tools.cli.app import main

    return CliRunner().invoke(main, [str(a) for a in args])


def test_convert_writes_the_preview_and_names_the_source_as_given(tmp_path):
    source = tmp_path / "dataset_17.dat"
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8) * 4, (32, 1))).save(source, "PNG")
    report = tmp_path / "report.json"
    result = _fairio(
        "convert", source, tmp_path / "out.ome.zarr", "--preview", tmp_path / "p.png",
        "--source-name", "cells.png", "--json", report,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"path": "cells.png"' in report.read_text() and "dataset_17" not in report.read_text()
    png = np.asarray(Image.open(tmp_path / "p.png"))
    assert png.shape == (32, 64, 3) and png[0, 0].max() == 0 and png[0, -1].min() == 255


def test_label_writes_the_preview_of_its_store_and_refuses_one_for_a_tiff(tmp_path):
    data = np.zeros((1, 1, 32, 32), dtype=np.uint8)
    data[0, 0, 8:16, 8:16] = 200
    store = _store(tmp_path, data, levels=1)
    result = _fairio(
        "label", store, tmp_path / "labelled.ome.zarr", "--preview", tmp_path / "l.png",
        "--json", tmp_path / "r.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert np.asarray(Image.open(tmp_path / "l.png"))[12, 12].min() == 255
    refused = _fairio("label", tmp_path / "zcyx.tif", tmp_path / "l.tif", "--preview", "p.png")
    assert refused.exit_code == 2 and "--preview" in refused.output
