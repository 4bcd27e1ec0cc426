"""Zeiss CZI and Leica LIF files through the one image reader: image-info, convert, label.

Pixels are compared with independent readers (aicspylibczi for CZI, readlif for LIF: GPL,
used in tests only, never by the package); sizes with the files' own XML, parsed here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import zarr

from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr
from fairio_tools.images.info import read_image_info
from fairio_tools.labels.images import read_pixels
from tests.conftest import run_fairio


@pytest.fixture(scope="module")
def vendor(shared_data):
    return shared_data / "images" / "vendor"


def _czi_xml_sizes(path) -> dict[str, float]:
    import czifile

    with czifile.CziFile(str(path), multifile=False) as czi:
        root = ET.fromstring(czi.metadata())
    return {
        d.get("Id").lower(): float(d.find("Value").text) * 1e6
        for d in root.iter("Distance")
        if d.get("Id") in ("X", "Y", "Z")
    }


def _level0(store, series=0):
    return zarr.open_group(str(store), mode="r")[f"{series}/0"][...]


@pytest.mark.parametrize("name", ["s_1_t_1_c_1_z_1.czi", "RGB-8bit.czi"])
def test_czi_converts_with_pixels_of_an_independent_reader(vendor, tmp_path, name):
    import aicspylibczi  # the dev extra's independent (GPL) reference

    path = vendor / name
    report = convert_to_ome_zarr(path, tmp_path / "out.zarr", ConversionOptions(levels=1))
    theirs, dims = aicspylibczi.CziFile(str(path)).read_image()
    sizes = dict(dims)
    ours = _level0(tmp_path / "out.zarr")  # t, c, z, y, x
    if "A" in sizes:  # Bgr24: libCZI gives the samples as stored (B, G, R); we write R, G, B
        expected = np.moveaxis(theirs.reshape(sizes["Y"], sizes["X"], sizes["A"]), -1, 0)[::-1]
    else:
        expected = theirs.reshape(1, sizes["Y"], sizes["X"])
    np.testing.assert_array_equal(ours[0, :, 0], expected)

    info = read_image_info(path).series[0]
    for axis, size in _czi_xml_sizes(path).items():
        if axis in info.axes:
            assert info.physical_sizes[axis].value == pytest.approx(size)
            assert info.physical_sizes[axis].unit == "micrometer"
    scale = zarr.open_group(str(tmp_path / "out.zarr"), mode="r")["0"].attrs["ome"]
    transform = scale["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]
    assert transform["scale"][-1] == pytest.approx(_czi_xml_sizes(path)["x"])
    ome = (tmp_path / "out.zarr" / "OME" / "METADATA.ome.xml").read_text()
    assert "PhysicalSizeX" in ome
    assert any("CZI" in item["item"] for item in report.not_carried)


def test_czi_rgb_channels_are_in_the_order_of_the_files_own_thumbnail(vendor, tmp_path):
    """The colour order is the one ZEN rendered into the file's JPEG thumbnail (RGB by
    definition): here blue is brighter than red on average, as in the thumbnail."""
    import io

    import czifile
    from PIL import Image

    path = vendor / "RGB-8bit.czi"
    with czifile.CziFile(path) as czi:
        (jpeg,) = [a.data(raw=True) for a in czi.attachments()
                   if "JPG" in str(a.attachment_entry.content_file_type)]  # fmt: skip
    thumbnail = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=float)
    red, _, blue = thumbnail.reshape(-1, 3).mean(axis=0)
    convert_to_ome_zarr(path, tmp_path / "out.zarr", ConversionOptions(levels=1))
    channels = _level0(tmp_path / "out.zarr")[0, :, 0].reshape(3, -1).mean(axis=1)
    assert (channels[2] > channels[0]) == (blue > red) and abs(blue - red) > 0.5


def _lif_xml_images(path) -> list[dict]:
    """Per image element of the LIF XML: dimension sizes and lengths, channel count."""
    import liffile

    with liffile.LifFile(path) as lif:
        root = ET.fromstring(lif.xml_header())
    images = []
    for element in root.iter("Element"):
        data = element.find("Data/Image")
        if data is None:
            continue
        dims = {
            d.get("DimID"): (int(d.get("NumberOfElements")), float(d.get("Length")))
            for d in data.iter("DimensionDescription")
        }
        images.append({"dims": dims, "channels": len(list(data.iter("ChannelDescription")))})
    return images


def test_lif_converts_every_image_with_pixels_of_an_independent_reader(vendor, tmp_path):
    import readlif.reader as readlif  # the dev extra's independent (GPL) reference

    path = vendor / "testdata_2channel_xz.lif"
    convert_to_ome_zarr(path, tmp_path / "out.zarr", ConversionOptions(levels=1))
    described = _lif_xml_images(path)
    info = read_image_info(path)
    assert len(info.series) == len(described) == 3
    theirs = readlif.LifFile(str(path))
    for index, (series, xml) in enumerate(zip(info.series, described, strict=True)):
        ours = _level0(tmp_path / "out.zarr", index)  # t, c, z, y, x
        image = theirs.get_image(index)
        assert ours.shape[1] == xml["channels"] == image.channels
        count, length = xml["dims"]["1"]
        assert ours.shape[-1] == count
        assert series.physical_sizes["x"].value == pytest.approx(length / (count - 1) * 1e6)
        if "4" in xml["dims"]:
            frames, span = xml["dims"]["4"]
            assert series.time_interval.value == pytest.approx(span / (frames - 1))
        # readlif's planes: its dims_n numbers the dimensions as the LIF does (1=X, 2=Y, ...)
        dims_n = image.dims_n
        if 2 not in dims_n:  # an XZ scan: Bio-Formats (and we) read its z lines as y
            z_count, z_length = xml["dims"]["3"]
            assert series.physical_sizes["y"].value == pytest.approx(z_length / (z_count - 1) * 1e6)
        for c in range(image.channels):
            for t in range(dims_n.get(4, 1)):
                for y in range(dims_n.get(2, 1) if 3 in dims_n else 1):
                    plane = np.asarray(image.get_plane(c=c, requested_dims={4: t, 2: y}))
                    if 2 in dims_n and 3 in dims_n:  # an x-z plane at each y
                        np.testing.assert_array_equal(ours[t, c, :, y, :], plane)
                    else:  # an x-z scan: readlif's plane is ours at z = 0
                        np.testing.assert_array_equal(ours[t, c, 0], plane)


def test_image_info_and_label_read_vendor_files(vendor, tmp_path):
    result = run_fairio("image-info", vendor / "s_1_t_1_c_1_z_1.czi", check=True)
    assert '"format": "czi"' in result.stdout
    data, axes = read_pixels(vendor / "testdata_2channel_xz.lif", channel=1)
    assert axes == ["t", "y", "x"]  # an XZ scan: its z lines are y
    whole = _lif_whole(vendor / "testdata_2channel_xz.lif")
    np.testing.assert_array_equal(data, whole[:, 1])


def _lif_whole(path):
    import liffile

    with liffile.LifFile(path) as lif:
        return lif.images[0].asarray()  # T, C, Z, X: the first image is series 0


def _two_scene_czi(path):
    """Scene 0: two tiles of 4 rows, the second truncated; scene 1: one good tile."""
    from tests.czi_synthetic import Tile, write_czi

    top = np.arange(24, dtype=np.uint8).reshape(4, 6)
    other = (top + 50).astype(np.uint8)
    tiles = [Tile(0, 0, top), Tile(0, 4, top + 100, truncated=True), Tile(1, 0, other)]
    write_czi(path, tiles)
    return top, other


def test_czi_scene_converts_without_decoding_the_other_scene(tmp_path):
    path = tmp_path / "scenes.czi"
    _, other = _two_scene_czi(path)
    convert_to_ome_zarr(path, tmp_path / "out.zarr", ConversionOptions(levels=1, series="1"))
    expected = np.zeros((8, 6), np.uint8)
    expected[:4] = other  # a CZI's plane is zero where no tile lies
    np.testing.assert_array_equal(_level0(tmp_path / "out.zarr", 1)[0, 0, 0], expected)
    # scene 0 holds the corrupt tile: converting it is an input error naming the file
    result = run_fairio("convert", path, tmp_path / "zero.zarr", "--series", "0")
    assert result.returncode == 2, result.stderr
    assert "scenes.czi" in result.stderr and "cannot be read as CZI" in result.stderr


def test_czi_region_read_decodes_only_the_tiles_it_covers(tmp_path):
    from fairio_tools.errors import InputError
    from fairio_tools.images.pixels import lazy_pixels

    path = tmp_path / "tiles.czi"
    top, _ = _two_scene_czi(path)
    series = read_image_info(path).series[0]
    assert series.axes == ["c", "y", "x"] and series.shape == [1, 8, 6]
    pixels = lazy_pixels(path, 0, series.shape, series.dtype, chunks=(1, 4, 6))
    np.testing.assert_array_equal(pixels[0, :4].compute(), top)  # the good tile alone
    with pytest.raises(InputError, match="cannot be read as CZI"):
        pixels[0, 4:].compute()  # the truncated tile is decoded only when asked for


def test_lif_channel_read_decodes_only_that_channels_frames(vendor, monkeypatch):
    import liffile

    decoded = []
    frame = liffile.LifImage.frame

    def counting(self, **indices):
        decoded.append(indices)
        return frame(self, **indices)

    def whole(self, *args, **kwargs):
        raise AssertionError("the whole image was decoded for one channel")

    monkeypatch.setattr(liffile.LifImage, "frame", counting)
    monkeypatch.setattr(liffile.LifImage, "asarray", whole)
    data, axes = read_pixels(vendor / "testdata_2channel_xz.lif", channel=1)
    assert axes == ["t", "y", "x"] and data.shape[0] == 20
    assert len(decoded) == 20 and all(indices["C"] == 1 for indices in decoded)


def test_lif_channel_names_and_colours_are_its_luts(vendor):
    import readlif.reader as readlif  # reads the LIF's XML header itself

    path = vendor / "testdata_2channel_xz.lif"
    root = readlif.LifFile(str(path)).xml_root
    images = [e.find("Data/Image") for e in root.iter("Element")]
    luts = [
        [d.get("LUTName") for d in image.iter("ChannelDescription")]
        for image in images
        if image is not None
    ]
    rgb = {"Green": "00FF00", "Red": "FF0000"}
    info = read_image_info(path)
    assert [s.channel_names for s in info.series] == luts
    assert all(names == ["Green", "Red"] for names in luts)  # what this file records
    assert [s.channel_colors for s in info.series] == [[rgb[n] for n in names] for names in luts]


def test_czi_of_tiles_placed_far_apart_is_refused_before_any_decoding(tmp_path):
    from tests.czi_synthetic import Tile, write_czi

    path = tmp_path / "sparse.czi"
    tile = np.ones((4, 6), np.uint8)
    write_czi(path, [Tile(0, 0, tile), Tile(0, 10_000_000, tile)])  # 48 bytes spanning 60 MB
    result = run_fairio("image-info", path)
    assert result.returncode == 2, result.stderr
    assert "sparse.czi" in result.stderr and "subblocks cover 48 bytes" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _stack_czi(path, **metadata):
    """Two time points of two channels of three planes, random pixels: the truth (t, c, z,
    y, x) as written."""
    from tests.czi_synthetic import Tile, write_czi

    truth = np.random.default_rng(5).integers(0, 256, (2, 2, 3, 5, 6), dtype=np.uint8)
    tiles = [
        Tile(0, 0, truth[t, c, z], c=c, z=z, t=t)
        for t in range(2)
        for c in range(2)
        for z in range(3)
    ]
    write_czi(path, tiles, channels=["DAPI", "GFP"], z_step_m=5e-7, **metadata)
    return truth


def test_czi_channel_z_time_stack_converts_with_its_spacing_interval_and_channels(tmp_path):
    path = tmp_path / "stack.czi"
    truth = _stack_czi(path, colors=["#FF0000FF", "#FF00FF00"], time_stamps_s=[0.25, 2.75])
    convert_to_ome_zarr(path, tmp_path / "out.zarr", ConversionOptions(levels=1))
    np.testing.assert_array_equal(_level0(tmp_path / "out.zarr"), truth)
    attrs = zarr.open_group(str(tmp_path / "out.zarr/0"), mode="r").attrs["ome"]  # NGFF 0.5
    multiscale = attrs["multiscales"][0]
    scale = multiscale["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale == pytest.approx([2.5, 1, 0.5, 0.1, 0.1])  # 2.75 s - 0.25 s between t
    units = {a["name"]: a.get("unit") for a in multiscale["axes"]}
    assert (units["t"], units["z"], units["x"]) == ("second", "micrometer", "micrometer")
    channels = attrs["omero"]["channels"]
    assert [(c["label"], c["color"]) for c in channels] == [("DAPI", "0000FF"), ("GFP", "00FF00")]


def test_czi_time_interval_is_zens_increment_when_it_records_one(tmp_path):
    path = tmp_path / "interval.czi"
    _stack_czi(path, time_increment_s=1.5)
    series = read_image_info(path).series[0]
    assert (series.time_interval.value, series.time_interval.unit) == (1.5, "second")
    assert series.channel_colors == [None, None]  # no display setting: no colour invented


def test_czi_mosaic_tiles_are_placed_at_their_stage_positions(tmp_path):
    """Four tiles of a 2 x 2 mosaic (M 0-3), overlapping by one column; a later tile is
    drawn over an earlier one, as czifile composes them."""
    from tests.czi_synthetic import Tile, write_czi

    rng = np.random.default_rng(9)
    corners = [(0, 0), (0, 5), (4, 0), (4, 5)]
    pieces = [rng.integers(1, 256, (4, 6), dtype=np.uint8) for _ in corners]
    tiles = [
        Tile(0, top, piece, left=left, m=m)
        for m, ((top, left), piece) in enumerate(zip(corners, pieces, strict=True))
    ]
    write_czi(tmp_path / "mosaic.czi", tiles)
    expected = np.zeros((8, 11), np.uint8)
    for (top, left), piece in zip(corners, pieces, strict=True):
        expected[top : top + 4, left : left + 6] = piece
    report = convert_to_ome_zarr(
        tmp_path / "mosaic.czi", tmp_path / "out.zarr", ConversionOptions(levels=1)
    )
    np.testing.assert_array_equal(_level0(tmp_path / "out.zarr")[0, 0, 0], expected)
    assert any("mosaic tiles placed" in note for note in report.to_dict()["notes"])


def _lif_images():
    """A λ sweep of 4 emission bands without channels of its own; a z stack scanned
    downwards of two channels at two time points; a mosaic of two positions."""
    from tests.lif_synthetic import Dimension, Image

    rng = np.random.default_rng(11)
    x, y = Dimension(1, 6, 5e-7), Dimension(2, 5, 4e-7)  # 0.1 µm: length over 5 steps
    sweep = rng.integers(0, 256, (4, 1, 5, 6), dtype=np.uint8)  # λ, c, y, x
    stack = rng.integers(0, 256, (2, 3, 2, 5, 6), dtype=np.uint8)  # t, z, c, y, x
    mosaic = rng.integers(0, 256, (2, 1, 5, 6), dtype=np.uint8)  # m, c, y, x
    return [
        Image("sweep", sweep, x, y, [Dimension(5, 4, 1.5e-7, 5e-7)], ["Gray"]),
        Image(
            "stack", stack, x, y, [Dimension(3, 3, -2e-6), Dimension(4, 2, 3.0, 0, "s")],
            ["Green", "Red"],
        ),
        Image("tiles", mosaic, x, y, [Dimension(10, 2)], ["Gray"]),
    ]  # fmt: skip


def test_lif_sweep_stack_and_mosaic_convert_with_their_wavelengths_spacing_and_positions(
    tmp_path,
):
    from tests.lif_synthetic import write_lif

    images = _lif_images()
    write_lif(tmp_path / "cases.lif", images)
    info = read_image_info(tmp_path / "cases.lif")
    assert [s.name for s in info.series] == [
        "sweep",
        "stack",
        "tiles position 0",
        "tiles position 1",
    ]
    sweep, stack = info.series[:2]
    assert sweep.channel_names == ["500 nm", "550 nm", "600 nm", "650 nm"]  # 500 + k * 150 / 3
    assert stack.physical_sizes["z"].value == pytest.approx(1.0)  # |-2 µm| over 2 steps
    assert (stack.time_interval.value, stack.time_interval.unit) == (3.0, "second")
    assert stack.channel_names == ["Green", "Red"]

    convert_to_ome_zarr(tmp_path / "cases.lif", tmp_path / "out.zarr", ConversionOptions(levels=1))
    out = tmp_path / "out.zarr"
    expected = [
        images[0].pixels[:, 0][None, :, None],  # λ is the channel axis
        images[1].pixels.transpose(0, 2, 1, 3, 4),  # t, z, c -> t, c, z
        images[2].pixels[0][None, :, None],
        images[2].pixels[1][None, :, None],
    ]
    for series, pixels in enumerate(expected):
        np.testing.assert_array_equal(_level0(out, series), pixels)
    scale = zarr.open_group(str(out / "1"), mode="r").attrs["ome"]["multiscales"][0]
    assert scale["datasets"][0]["coordinateTransformations"][0]["scale"] == pytest.approx(
        [3.0, 1, 1.0, 0.1, 0.1]
    )


def _ome_xml_of_store(store):
    return (store / "OME" / "METADATA.ome.xml").read_text()


@pytest.mark.parametrize(
    "name", ["s_1_t_1_c_1_z_1.czi", "RGB-8bit.czi", "testdata_2channel_xz.lif"]
)
def test_vendor_metadata_are_written_as_schema_valid_ome_xml_of_every_series(
    vendor, tmp_path, name
):
    """OME/METADATA.ome.xml validates against the OME 2016-06 schema (ome-types' copy) and
    describes each series as written: one Image per series, its sizes and pixel type."""
    from ome_types import from_xml, validate_xml

    convert_to_ome_zarr(vendor / name, tmp_path / "out.zarr", ConversionOptions(levels=1))
    text = _ome_xml_of_store(tmp_path / "out.zarr")
    validate_xml(text)
    images = from_xml(text).images
    series = read_image_info(vendor / name).series
    assert len(images) == len(series)
    for image, each in zip(images, series, strict=True):
        sizes = dict(zip(each.axes, each.shape, strict=True))
        pixels = image.pixels
        assert (pixels.size_x, pixels.size_y) == (sizes["x"], sizes["y"])
        assert (pixels.size_c, pixels.size_z, pixels.size_t) == tuple(
            sizes.get(axis, 1) for axis in "czt"
        )
        assert pixels.type.value == {"uint8": "uint8", "uint16": "uint16"}[each.dtype]


def test_synthetic_scenes_sweeps_and_mosaics_give_valid_ome_xml(tmp_path):
    from ome_types import from_xml, validate_xml

    from tests.czi_synthetic import Tile, write_czi
    from tests.lif_synthetic import write_lif

    plane = np.arange(24, dtype=np.uint8).reshape(4, 6)
    write_czi(tmp_path / "scenes.czi", [Tile(0, 0, plane), Tile(1, 0, plane + 1)])
    write_lif(tmp_path / "cases.lif", _lif_images())
    for name, count in (("scenes.czi", 2), ("cases.lif", 4)):
        convert_to_ome_zarr(tmp_path / name, tmp_path / f"{name}.zarr", ConversionOptions(levels=1))
        text = _ome_xml_of_store(tmp_path / f"{name}.zarr")
        validate_xml(text)
        assert len(from_xml(text).images) == count
    sweep = from_xml(_ome_xml_of_store(tmp_path / "cases.lif.zarr")).images[0]
    assert [c.emission_wavelength for c in sweep.pixels.channels] == [500, 550, 600, 650]


def test_czi_time_stamps_that_claim_more_than_they_hold_are_read_as_held(tmp_path):
    """A crafted TimeStamps attachment declaring 2^31 - 1 stamps but holding two: only the
    bytes inside the attachment are read, and the interval comes from them."""
    import struct

    path = tmp_path / "crafted.czi"
    _stack_czi(path, time_stamps_s=[0.0, 4.0])
    stamps = np.asarray([0.0, 4.0], "<f8").tobytes()
    honest = struct.pack("<ii", 8 + len(stamps), 2) + stamps
    data = path.read_bytes()
    assert data.count(honest) == 1
    path.write_bytes(data.replace(honest, struct.pack("<ii", 8 + len(stamps), 2**31 - 1) + stamps))
    series = read_image_info(path).series[0]
    assert series.time_interval.value == 4.0


def test_czi_light_sources_of_kinds_ome_lacks_still_give_valid_ome_xml():
    """A CZI may name a light source kind OME does not have, or give an arc a wavelength
    (OME gives only lasers one): the mapped document is still schema-valid."""
    from types import SimpleNamespace
    from xml.etree.ElementTree import Element, fromstring, tostring

    from ome_types import validate_xml

    from fairio_tools.images.ome_fit import fit_to_schema
    from fairio_tools.images.vendor_ome import OME_NS, _czi

    root = fromstring(
        "<ImageDocument><Metadata><Information><Instrument><LightSources>"
        '<LightSource Id="LightSource:1"><LightSourceType><Arc><Wavelength>480</Wavelength>'
        "</Arc></LightSourceType></LightSource>"
        '<LightSource Id="LightSource:2"><LightSourceType><Plasma/></LightSourceType>'
        '</LightSource><LightSource Id="LightSource:3"><LightSourceType><Laser>'
        "<Wavelength>488</Wavelength></Laser></LightSourceType></LightSource>"
        "</LightSources></Instrument><Image><SizeX>6</SizeX><SizeY>4</SizeY></Image>"
        "</Information></Metadata></ImageDocument>"
    )
    ome = Element("OME", xmlns=OME_NS)
    _czi(root, ome, None)
    fit_to_schema(
        ome, [SimpleNamespace(source=0, name=None, axes=["y", "x"], shape=[4, 6], dtype="uint8")]
    )
    text = tostring(ome, encoding="unicode")
    validate_xml(text)
    kinds = [(e.tag, e.get("Wavelength")) for e in ome.find("Instrument")]
    assert kinds == [("Laser", "488"), ("Arc", None), ("GenericExcitationSource", None)]
