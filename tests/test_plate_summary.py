"""``fairio plate-summary``: objects and intensities per well of an NGFF plate, and a heat-map.

Plates are made by ``fairio convert`` from synthetic screens whose fields hold a known number
of separate squares of known brightness on a dark background, so every count and mean is known
from the construction.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr
from fairio_tools.errors import InputError
from fairio_tools.labels.plate_summary import summarize_plate
from tests.conftest import run_fairio
from tests.test_convert_plate import sample, write_screen

FIELDS = {"A/1": [(2, 900), (3, 900)], "A/2": [(5, 2000)], "B/1": [(1, 300), (0, 0)]}
"""Well -> its fields as (squares, brightness of the squares)."""


def field_plane(squares: int, brightness: int) -> np.ndarray:
    plane = np.full((32, 32), 10, dtype=np.uint16)
    for index in range(squares):
        row, column = divmod(index, 3)
        plane[2 + 10 * row : 6 + 10 * row, 2 + 10 * column : 6 + 10 * column] = brightness
    if squares == 0:
        plane[0, 0] = 11  # not constant: Otsu's threshold exists, but only noise lies above it
    return plane


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plate")
    planes, wells, image = [], "", 0
    for well, fields in FIELDS.items():
        row, column = "ABCDEFGH".index(well[0]), int(well[2:]) - 1
        samples = ""
        for squares, brightness in fields:
            planes.append(field_plane(squares, brightness))
            samples += sample(f"WS:{image}", image)
            image += 1
        wells += f'<Well ID="W:{well}" Row="{row}" Column="{column}">{samples}</Well>'
    source = folder / "screen.ome.tiff"
    write_screen(source, wells, planes=planes)
    store = folder / "plate.ome.zarr"
    convert_to_ome_zarr(source, store, ConversionOptions(levels=1))
    return store


def test_counts_and_intensities_per_well(plate):
    summary = summarize_plate(str(plate))
    rows = {row["well"]: row for row in summary.table()}
    assert list(rows) == list(FIELDS)
    assert (summary.rows, summary.columns) == (list("ABCDEFGH"), [str(c) for c in range(1, 13)])
    for well, fields in FIELDS.items():
        objects = sum(squares for squares, _ in fields)
        assert rows[well]["fields"] == len(fields)
        assert rows[well]["objects"] == objects + sum(1 for s, _ in fields if s == 0)
    assert rows["A/1"]["mean_intensity"] == 900
    assert rows["A/1"]["mean_object_area_px"] == 16
    assert rows["A/2"]["objects_per_field"] == 5
    assert rows["A/2"]["mean_intensity"] == 2000
    # B/1: one square of 300 and, in the blank field, the one brighter noise pixel of 11
    assert rows["B/1"]["mean_intensity"] == pytest.approx((16 * 300 + 11) / 17)

    given = {r["well"]: r for r in summarize_plate(str(plate), threshold=500).table()}
    assert [given[w]["objects"] for w in FIELDS] == [5, 5, 0]
    assert given["B/1"]["mean_intensity"] == ""


def test_cli_writes_table_heatmap_and_report(plate, tmp_path):
    table, heatmap, report = tmp_path / "wells.tsv", tmp_path / "plate.png", tmp_path / "r.json"
    result = run_fairio(
        "plate-summary", plate, "--table", table, "--heatmap", heatmap, "--json", report,
        "--threshold", "500", "--metric", "objects",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = table.read_text().splitlines()
    assert lines[0].split("\t")[:5] == ["well", "row", "column", "fields", "objects"]
    assert [line.split("\t")[4] for line in lines[1:]] == ["5", "5", "0"]
    fields = json.loads(report.read_text())["fields"]
    assert [f["path"] for f in fields] == ["A/1/0", "A/1/1", "A/2/0", "B/1/0", "B/1/1"]

    picture = np.asarray(Image.open(heatmap).convert("RGB"))
    background = picture[picture.shape[0] - 1, 0]
    colours = {tuple(c) for c in picture.reshape(-1, 3)} - {tuple(background)}
    assert (253, 231, 37) in colours and (68, 1, 84) in colours  # viridis ends: max, min
    assert (220, 220, 220) in colours  # the 93 wells without fields


def test_store_without_plate_refused(tmp_path):
    image = tmp_path / "image.png"
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(image)
    store = tmp_path / "image.ome.zarr"
    convert_to_ome_zarr(image, store, ConversionOptions())
    with pytest.raises(InputError, match="holds no plate"):
        summarize_plate(str(store))


def test_hostile_well_path_refused(plate, tmp_path):
    import shutil

    copy = tmp_path / "copy.ome.zarr"
    shutil.copytree(plate, copy)
    metadata = copy / "zarr.json"
    document = json.loads(metadata.read_text())
    document["attributes"]["ome"]["plate"]["wells"][0]["path"] = "../../etc"
    metadata.write_text(json.dumps(document))
    with pytest.raises(InputError, match="climbs out"):
        summarize_plate(str(copy))
    document["attributes"]["ome"]["plate"]["wells"][0] = {"path": "A/1", "rowIndex": 99,
                                                          "columnIndex": 0}  # fmt: skip
    metadata.write_text(json.dumps(document))
    with pytest.raises(InputError, match="outside the plate"):
        summarize_plate(str(copy))


def test_image_tools_name_a_plate_and_take_its_fields(plate, tmp_path):
    from fairio_tools.ngff.reader import open_images

    with pytest.raises(InputError, match="holds a plate") as refused:
        open_images(str(plate))
    assert "fairio plate-summary" in (refused.value.hint or "")
    (field,) = open_images(str(plate / "A/1/1"))
    np.testing.assert_array_equal(field.levels[0][0, 0, 0], field_plane(3, 900))
