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
