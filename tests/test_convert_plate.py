"""``fairio convert`` of high-content screens: OME-XML plates to NGFF plates.

Expected wells and fields are read from the OME-XML here with the standard library, pixels
with tifffile, and the stores are checked by our validator, ome-zarr-py and ome-zarr-models.
"""

from __future__ import annotations

import json
import string
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import tifffile
import zarr

from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr
from fairio_tools.errors import InputError
from fairio_tools.ngff.validate import validate_ngff
from tests.conftest import run_fairio
from tests.ngff_checks import stored_attributes

SAMPLE = "images/ome-samples/6x4y1z1t1c8b-swatch-2s2p4w2ws.ome-v2010-06.ome.tiff"
OME_2016 = "http://www.openmicroscopy.org/Schemas/OME/2016-06"


def ome_of(group_path) -> dict:
    attributes = stored_attributes(group_path)
    return attributes.get("ome", attributes)


def expected_fields(xml: str, plate: int) -> dict[str, list[int]]:
    """Well path -> the images (series) of its fields, straight from the OME-XML."""
    root = ET.fromstring(xml)
    element = [e for e in root if e.tag.endswith("}Plate")][plate]
    ids = [e.get("ID") for e in root if e.tag.endswith("}Image")]
    wells = {}
    for well in (e for e in element if e.tag.endswith("}Well")):
        path = f"{string.ascii_uppercase[int(well.get('Row'))]}/{int(well.get('Column')) + 1}"
        fields = []
        for sample in (e for e in well if e.tag.endswith("}WellSample")):
            refs = [e for e in sample if e.tag.endswith("}ImageRef")]
            fields.append(ids.index(refs[0].get("ID")) if refs else int(sample.get("Index")))
        wells[path] = fields
    return wells


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_sample_plate_becomes_ngff_plate(shared_data, tmp_path, version):
    source = shared_data / SAMPLE
    output = tmp_path / "plate.ome.zarr"
    report = convert_to_ome_zarr(source, output, ConversionOptions(ngff_version=version))

    with tifffile.TiffFile(source) as tif:
        xml = tif.ome_metadata
        pixels = [series.asarray() for series in tif.series]
    wells = expected_fields(xml, 0)
    assert len(wells) == 4
    plate = ome_of(output)["plate"]
    assert [w["path"] for w in plate["wells"]] == list(wells)
    assert plate["field_count"] == max(len(f) for f in wells.values())
    rows, columns = [r["name"] for r in plate["rows"]], [c["name"] for c in plate["columns"]]
    for well in plate["wells"]:
        assert f"{rows[well['rowIndex']]}/{columns[well['columnIndex']]}" == well["path"]
    assert "acquisitions" not in plate  # 2 acquisitions, but no field names one
    stored = zarr.open_group(str(output), mode="r")
    for path, series in wells.items():
        images = ome_of(output / path)["well"]["images"]
        assert [image["path"] for image in images] == [str(i) for i in range(len(series))]
        for field, index in enumerate(series):
            np.testing.assert_array_equal(stored[f"{path}/{field}/0"][0, 0, 0], pixels[index])
    if version == "0.4":
        assert plate["version"] == "0.4"
    assert (output / "OME/METADATA.ome.xml").read_text() == xml
    assert "series" not in ome_of(output / "OME")

    findings = validate_ngff(output, deep=True)
    assert findings.valid, findings.to_dict()
    dropped = [entry["item"] for entry in report.not_carried]
    assert any("Plate:2" in item for item in dropped)
    assert ("Screen" in xml) == any(item.startswith("Screen") for item in dropped)
    fields = {i for series in wells.values() for i in series}
    assert sum("not a field of the plate" in e["reason"] for e in report.not_carried) == (
        len(pixels) - len(fields)
    )


def test_plate_read_by_ome_zarr_py_and_models(shared_data, tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Plate, Reader
    from ome_zarr_models.v04.hcs import HCS

    output = tmp_path / "plate.ome.zarr"
    convert_to_ome_zarr(shared_data / SAMPLE, output, ConversionOptions(ngff_version="0.4"))
    node = next(iter(Reader(parse_url(str(output)))()))
    assert node.load(Plate) is not None
    hcs = HCS.from_zarr(zarr.open_group(str(output), mode="r"))
    assert len(hcs.attributes.plate.wells) == 4


def test_second_plate_and_series_layout(shared_data, tmp_path):
    source = shared_data / SAMPLE
    second = tmp_path / "second.ome.zarr"
    convert_to_ome_zarr(source, second, ConversionOptions(plate=1))
    with tifffile.TiffFile(source) as tif:
        xml, count = tif.ome_metadata, len(tif.series)
    assert [w["path"] for w in ome_of(second)["plate"]["wells"]] == list(expected_fields(xml, 1))
    assert ome_of(second)["plate"]["name"] == "Plate:2"

    loose = tmp_path / "loose.ome.zarr"
    convert_to_ome_zarr(source, loose, ConversionOptions(layout="series"))
    assert "plate" not in ome_of(loose)
    assert ome_of(loose / "OME")["series"] == [str(i) for i in range(count)]

    with pytest.raises(InputError, match="has no plate 2"):
        convert_to_ome_zarr(source, tmp_path / "x.zarr", ConversionOptions(plate=2))
    with pytest.raises(InputError, match="--layout series"):
        convert_to_ome_zarr(source, tmp_path / "x.zarr", ConversionOptions(series="1"))


def write_screen(
    path, wells: str, acquisitions: str = "", images: int = 3, planes: list | None = None
) -> list[np.ndarray]:
    """A 2016-06 OME-TIFF of ``images`` uint16 planes (8x8 random ones unless ``planes``)
    whose plate holds ``wells``."""
    rng = np.random.default_rng(7)
    if planes is None:
        planes = [rng.integers(0, 60000, (8, 8), dtype=np.uint16) for _ in range(images)]
    height, width = planes[0].shape
    image_xml = "".join(
        f'<Image ID="Image:{i}"><Pixels ID="Pixels:{i}" DimensionOrder="XYCZT" Type="uint16" '
        f'SizeX="{width}" SizeY="{height}" SizeZ="1" SizeC="1" SizeT="1">'
        f'<Channel ID="Channel:{i}:0"/><TiffData IFD="{i}" PlaneCount="1"/></Pixels></Image>'
        for i in range(len(planes))
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><OME xmlns="{OME_2016}">'
        f'<Plate ID="Plate:0" Name="screen A" Rows="8" Columns="12">{wells}{acquisitions}</Plate>'
        f"{image_xml}</OME>"
    )
    with tifffile.TiffWriter(path) as tif:
        for index, plane in enumerate(planes):
            tif.write(plane, description=xml if index == 0 else None, metadata=None)
    return planes


def sample(sample_id: str, image: int, position: str = "") -> str:
    ref = f'<ImageRef ID="Image:{image}"/>'
    return f'<WellSample ID="{sample_id}" Index="{image}"{position}>{ref}</WellSample>'


def test_acquisitions_and_image_refs(tmp_path):
    source = tmp_path / "screen.ome.tiff"
    placed = sample("WS:0", 2, ' PositionX="1.5"')
    wells = (
        f'<Well ID="Well:0" Row="0" Column="11">{placed}'
        f"{sample('WS:1', 0)}</Well>"
        f'<Well ID="Well:1" Row="7" Column="0">{sample("WS:2", 1)}</Well>'
    )
    acquisitions = (
        '<PlateAcquisition ID="PA:0" Name="first" MaximumFieldCount="2">'
        '<WellSampleRef ID="WS:0"/><WellSampleRef ID="WS:1"/></PlateAcquisition>'
        '<PlateAcquisition ID="PA:1" Name="second"><WellSampleRef ID="WS:2"/></PlateAcquisition>'
    )
    planes = write_screen(source, wells, acquisitions)
    output = tmp_path / "screen.ome.zarr"
    report = convert_to_ome_zarr(source, output, ConversionOptions())

    plate = ome_of(output)["plate"]
    assert [r["name"] for r in plate["rows"]] == list("ABCDEFGH")
    assert [c["name"] for c in plate["columns"]] == [str(c) for c in range(1, 13)]
    assert [w["path"] for w in plate["wells"]] == ["A/12", "H/1"]
    assert plate["acquisitions"] == [
        {"id": 0, "name": "first", "maximumfieldcount": 2},
        {"id": 1, "name": "second"},
    ]
    assert ome_of(output / "A/12")["well"]["images"] == [
        {"acquisition": 0, "path": "0"},
        {"acquisition": 0, "path": "1"},
    ]
    assert ome_of(output / "H/1")["well"]["images"] == [{"acquisition": 1, "path": "0"}]
    stored = zarr.open_group(str(output), mode="r")
    for path, index in (("A/12/0", 2), ("A/12/1", 0), ("H/1/0", 1)):
        np.testing.assert_array_equal(stored[f"{path}/0"][0, 0, 0], planes[index])
    assert validate_ngff(output, deep=True).valid
    assert report.output["layout"].endswith("plate")
    dropped = {entry["item"] for entry in report.not_carried}
    assert "WellSample PositionX" in dropped and not any("Screen" in d for d in dropped)


@pytest.mark.parametrize(
    ("wells", "message"),
    [
        ('<Well ID="W" Row="-1" Column="0">' + sample("S", 0) + "</Well>", "Row='-1'"),
        ('<Well ID="W" Row="0" Column="99999">' + sample("S", 0) + "</Well>", "Column='99999'"),
        (
            '<Well ID="W" Row="0" Column="0">' + sample("S", 0) + "</Well>"
            '<Well ID="V" Row="0" Column="0">' + sample("T", 1) + "</Well>",
            "two wells at A/1",
        ),
        (
            '<Well ID="W" Row="0" Column="0">' + sample("S", 0) + sample("T", 0) + "</Well>",
            "image 0 is a field of both A/1/0 and A/1/1",
        ),
    ],
)
def test_hostile_plates_refused(tmp_path, wells, message):
    source = tmp_path / "screen.ome.tiff"
    write_screen(source, wells)
    with pytest.raises(InputError, match=message) as refused:
        convert_to_ome_zarr(source, tmp_path / "out.zarr", ConversionOptions())
    assert refused.value.path == str(source)
    assert not (tmp_path / "out.zarr").exists()


def test_cli_layout_options(tmp_path):
    source = tmp_path / "screen.ome.tiff"
    write_screen(source, '<Well ID="W" Row="A" Column="0">' + sample("S", 0) + "</Well>")
    result = run_fairio("convert", source, tmp_path / "out.zarr", "--plate", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(source) in result.stderr
    loose = tmp_path / "loose.zarr"
    result = run_fairio("convert", source, loose, "--layout", "series", "--json", "-")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["output"]["layout"] == "bioformats2raw.layout 3"
    assert ome_of(loose / "OME")["series"] == ["0", "1", "2"]


def test_well_sample_without_image_is_noted(tmp_path):
    source = tmp_path / "screen.ome.tiff"
    wells = (
        f'<Well ID="W" Row="1" Column="1">{sample("S", 0)}'
        '<WellSample ID="Lost" Index="0"><ImageRef ID="Image:9"/></WellSample></Well>'
    )
    write_screen(source, wells)
    report = convert_to_ome_zarr(source, tmp_path / "out.zarr", ConversionOptions())
    assert ome_of(tmp_path / "out.zarr/B/2")["well"]["images"] == [{"path": "0"}]
    assert any("Lost refers to image 'Image:9'" in note for note in report.notes)
