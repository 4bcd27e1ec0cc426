"""``fairio convert`` against Bio-Formats' reference output and independent NGFF checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr

from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr
from fairio_tools.images.info import read_image_info
from fairio_tools.ngff.axes import NGFF_ORDER
from tests.conftest import ROOT, run_fairio
from tests.ngff_checks import (
    read_with_bioio,
    read_with_ome_zarr_py,
    stored_attributes,
    validate_schema,
    validate_with_models,
)

REFERENCE = ("camera.jpg", "coins.png", "xyz_8bit__mitotic_plate_calibrated.tiff")
MISC = (
    "he1_axes_cyx.tiff", "input1_tyx.tiff", "input_yxc.png", "input_yxt.tiff",
    "input_yxz.tiff", "multiseries.ome.tiff", "res.ome.tiff", "zcyx.tiff", "zyx_uint16.tiff",
)  # fmt: skip


def convert(source, output, **options) -> dict:
    """Convert in-process (the CLI itself is exercised by test_cli_convert_writes_report)."""
    return convert_to_ome_zarr(source, output, ConversionOptions(**options)).to_dict()


def multiscale(group_path) -> dict:
    attributes = stored_attributes(group_path)
    return attributes.get("ome", attributes)["multiscales"][0]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("name", REFERENCE)
def test_matches_bioformats2raw(shared_data, tmp_path, name, version):
    folder = shared_data / "images" / "bioformats2raw-reference"
    reference = folder / (name.rsplit(".", 1)[0] + ".ome.zarr")
    output = tmp_path / "out.ome.zarr"
    convert(folder / name, output, ngff_version=version)

    ours = zarr.open_group(str(output), mode="r")
    theirs = zarr.open_group(str(reference), mode="r")
    np.testing.assert_array_equal(ours["0/0"][...], theirs["0/0"][...])
    assert ours["0/0"].dtype == theirs["0/0"].dtype

    our_multiscale, their_multiscale = multiscale(output / "0"), multiscale(reference / "0")
    assert our_multiscale["axes"] == [
        {key: axis[key] for key in ("name", "type", "unit") if key in axis}
        for axis in their_multiscale["axes"]
    ]
    our_scale = our_multiscale["datasets"][0]["coordinateTransformations"][0]["scale"]
    their_scale = their_multiscale["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert our_scale == pytest.approx(their_scale, rel=1e-9)
    root = stored_attributes(output)
    assert root.get("ome", root)["bioformats2raw.layout"] == 3


@pytest.mark.parametrize("version", ["0.4", "0.5"])
@pytest.mark.parametrize("name", MISC)
def test_misc_files_open_and_validate(shared_data, tmp_path, name, version):
    source = shared_data / "images" / "misc" / name
    output = tmp_path / "out.ome.zarr"
    report = convert(source, output, ngff_version=version)
    info = read_image_info(source)
    root = stored_attributes(output)
    validate_schema(root, version, "bf2raw")
    assert [image["series"] for image in report["output"]["images"]] == list(
        range(len(info.series))
    )
    for series in info.series:
        group = output / str(series.index)
        validate_schema(stored_attributes(group), version, "image")
        validate_schema(stored_attributes(group), version, "strict_image")
        model = validate_with_models(group, version)
        attributes = getattr(model.attributes, "ome", model.attributes)
        assert len(attributes.multiscales[0].datasets) >= 1
        data = read_with_ome_zarr_py(group)
        sizes = dict(zip(series.axes, series.shape, strict=True))
        assert tuple(data.shape) == tuple(sizes.get(axis, 1) for axis in NGFF_ORDER)
        assert str(data.dtype) == series.dtype
        bioio_image = read_with_bioio(group)
        assert tuple(bioio_image.shape) == tuple(data.shape)
        assert str(bioio_image.dtype) == series.dtype
        if "x" in series.physical_sizes:
            pixel_width = series.physical_sizes["x"].value
            assert pytest.approx(pixel_width, rel=1e-9) == bioio_image.physical_pixel_sizes.X
        expected = tifffile.imread(source, series=series.index) if name.endswith("tiff") else None
        if expected is not None:
            order = [series.axes.index(a) for a in NGFF_ORDER if a in series.axes]
            np.testing.assert_array_equal(
                np.asarray(data).squeeze(), np.transpose(expected, order).squeeze()
            )
    if info.has_ome_xml:
        xml = (output / "OME" / "METADATA.ome.xml").read_text()
        assert xml.startswith("<?xml") and "<OME" in xml
        ome = stored_attributes(output / "OME")
        assert ome.get("ome", ome)["series"] == [str(s.index) for s in info.series]


def test_zarr_v3_layout_and_codecs(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "zcyx.tiff"
    output = tmp_path / "out.ome.zarr"
    convert(source, output, chunks=(2, 32, 16), compression="zstd", levels=2)
    array = json.loads((output / "0" / "0" / "zarr.json").read_text())
    assert array["zarr_format"] == 3
    assert array["dimension_names"] == list(NGFF_ORDER)
    assert array["chunk_grid"]["configuration"]["chunk_shape"] == [1, 1, 2, 32, 16]
    assert [c["name"] for c in array["codecs"]] == ["bytes", "zstd"]
    group = json.loads((output / "0" / "zarr.json").read_text())
    assert group["attributes"]["ome"]["version"] == "0.5"
    assert "version" not in group["attributes"]["ome"]["multiscales"][0]
    assert json.loads((output / "0" / "1" / "zarr.json").read_text())["shape"] == [1, 2, 25, 25, 25]


def test_zarr_v2_layout_and_codecs(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    output = tmp_path / "out.ome.zarr"
    convert(source, output, ngff_version="0.4", compression="blosc")
    array = json.loads((output / "0" / "0" / ".zarray").read_text())
    assert array["dimension_separator"] == "/"
    assert array["compressor"] == {
        "id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 1, "blocksize": 0,
    }  # fmt: skip
    attributes = json.loads((output / "0" / ".zattrs").read_text())
    assert attributes["multiscales"][0]["version"] == "0.4"
    assert not (output / "zarr.json").exists()


def test_pyramid_levels_and_scale(shared_data, tmp_path):
    source = shared_data / "images" / "bioformats2raw-reference" / "coins.png"
    output = tmp_path / "out.ome.zarr"
    report = convert(source, output, min_size=100, chunks=(1, 64, 64))
    levels = report["output"]["images"][0]["levels"]
    assert [level[-2:] for level in levels] == [[480, 640], [240, 320], [120, 160], [60, 80]]
    datasets = multiscale(output / "0")["datasets"]
    scales = [d["coordinateTransformations"][0]["scale"][-1] for d in datasets]
    assert scales == [1.0, 2.0, 4.0, 8.0]
    pixels = zarr.open_group(str(output), mode="r")["0"]

    def mean_half_up(level, height, width):  # exact 2 x 2 sum, rounded half up
        total = level[0, 0, 0].astype(int).reshape(height, 2, width, 2).sum(axis=(1, 3))
        return (total + 2) // 4

    np.testing.assert_array_equal(pixels["1"][0, 0, 0], mean_half_up(pixels["0"], 240, 320))
    np.testing.assert_array_equal(pixels["2"][0, 0, 0], mean_half_up(pixels["1"], 120, 160))


def test_levels_option_and_nearest(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "input1_tyx.tiff"
    output = tmp_path / "out.ome.zarr"
    convert(source, output, levels=3, downsample="nearest")
    pixels = zarr.open_group(str(output), mode="r")["0"]
    assert pixels["2"].shape == (5, 1, 1, 198 // 4, 356 // 4)
    np.testing.assert_array_equal(pixels["2"][...], pixels["0"][..., ::4, ::4][..., :49, :89])


def test_single_series_and_report(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "multiseries.ome.tiff"
    output = tmp_path / "out.ome.zarr"
    report = convert(source, output, series="2")
    assert sorted(p.name for p in output.iterdir()) == ["2", "OME", "zarr.json"]
    dropped = {item["item"]: item["reason"] for item in report["not_carried"]}
    assert {f"series {i}" for i in (0, 1, 3, 4, 5)} <= {k.split(" (")[0] for k in dropped}
    carried = {item["item"] for item in report["carried"]}
    assert "OME-XML" in carried and "series 2 physical size x" in carried
    np.testing.assert_array_equal(
        zarr.open_group(str(output), mode="r")["2/0"][0, :, 0],
        tifffile.imread(source, series=2),
    )


def test_report_lists_imagej_metadata_not_carried(shared_data, tmp_path):
    source = shared_data / "images" / "bioformats2raw-reference" / (REFERENCE[2])
    report = convert(source, tmp_path / "out.ome.zarr")
    dropped = {item["item"] for item in report["not_carried"]}
    with tifffile.TiffFile(source) as tif:
        keys = set(tif.imagej_metadata)
    mapped = {"ImageJ", "images", "slices", "unit", "spacing", "finterval", "loop"}
    assert {f"ImageJ metadata {key!r}" for key in keys - mapped} == dropped
    assert all(item["reason"] for item in report["not_carried"])


def test_channel_names_colours_and_pyramidal_ome_tiff_source(tmp_path):
    source = tmp_path / "named.ome.tiff"
    data = np.arange(2 * 3 * 64 * 96, dtype=np.uint16).reshape(2, 3, 64, 96)
    with tifffile.TiffWriter(source, ome=True) as tif:
        tif.write(
            data,
            subifds=1,
            metadata={
                "axes": "ZCYX",
                "PhysicalSizeX": 0.25,
                "PhysicalSizeY": 0.25,
                "PhysicalSizeZ": 1.5,
                "PhysicalSizeXUnit": "nm",
                "PhysicalSizeYUnit": "nm",
                "PhysicalSizeZUnit": "nm",
                "Channel": {"Name": ["DAPI", "GFP", "RFP"], "Color": [65535, -16776961, 16711935]},
            },
        )
        tif.write(data[..., ::2, ::2], subfiletype=1)
    output = tmp_path / "out.ome.zarr"
    report = convert(source, output)
    attributes = stored_attributes(output / "0")["ome"]
    channels = attributes["omero"]["channels"]
    assert [c["label"] for c in channels] == ["DAPI", "GFP", "RFP"]
    assert [c["color"] for c in channels] == ["0000FF", "FF0000", "00FF00"]
    axes = {a["name"]: a.get("unit") for a in attributes["multiscales"][0]["axes"]}
    assert axes == {"t": None, "c": None, "z": "nanometer", "y": "nanometer", "x": "nanometer"}
    assert any("sub-resolution" in item["item"] for item in report["not_carried"])


def test_label_image(shared_data, tmp_path):
    image = tmp_path / "image.tiff"
    labels = tmp_path / "labels.tiff"
    rng = np.random.default_rng(0)
    tifffile.imwrite(image, rng.integers(0, 255, (64, 64), dtype=np.uint8))
    label_data = np.zeros((64, 64), dtype=np.uint16)
    label_data[8:40, 8:40] = 7
    label_data[40:60, 30:62] = 3
    tifffile.imwrite(labels, label_data)
    output = tmp_path / "out.ome.zarr"
    convert(image, output, label_image=labels, levels=2, ngff_version="0.4")
    labels_group = json.loads((output / "0" / "labels" / ".zattrs").read_text())
    assert labels_group == {"labels": ["labels"]}
    label_attributes = json.loads((output / "0" / "labels" / "labels" / ".zattrs").read_text())
    assert label_attributes["image-label"]["source"] == {"image": "../../"}
    validate_schema(label_attributes, "0.4", "label")
    group = zarr.open_group(str(output), mode="r")
    np.testing.assert_array_equal(group["0/labels/labels/0"][0, 0, 0], label_data)
    assert set(np.unique(group["0/labels/labels/1"][...])) == {0, 3, 7}


def test_label_image_of_wrong_size_is_refused(shared_data, tmp_path):
    image = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    labels = tmp_path / "labels.tiff"
    tifffile.imwrite(labels, np.zeros((8, 4), dtype=np.uint8))
    result = run_fairio("convert", image, tmp_path / "out.zarr", "--label-image", labels)
    assert result.returncode == 2
    assert "does not match the image" in result.stderr
    assert not (tmp_path / "out.zarr").exists()


def test_overwrite_replaces_store(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    output = tmp_path / "out.ome.zarr"
    convert(source, output, ngff_version="0.4")
    convert(source, output, overwrite=True)
    assert (output / "zarr.json").is_file() and not (output / ".zgroup").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out.ome.zarr"]


def test_cli_convert_writes_report(shared_data, tmp_path):
    source = shared_data / "images" / "bioformats2raw-reference" / "coins.png"
    output, report = tmp_path / "coins.ome.zarr", tmp_path / "report.json"
    result = run_fairio("convert", source, output, "--ngff-version", "0.4", "--json", report)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    data = json.loads(report.read_text())
    assert data["output"]["ngff_version"] == "0.4"
    assert data["output"]["images"][0]["levels"] == [
        [1, 1, 1, 480, 640],
        [1, 1, 1, 240, 320],
        [1, 1, 1, 120, 160],
    ]
    assert (output / "0" / "2" / ".zarray").is_file()


def test_progress_is_reported_until_done(shared_data, tmp_path):
    calls = []
    source = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    convert_to_ome_zarr(source, tmp_path / "out.zarr", progress=lambda *a: calls.append(a))
    assert calls and calls[-1][0] == calls[-1][1] > 0
    assert [done for done, _ in calls] == list(range(1, len(calls) + 1))


def test_layout_image_writes_the_one_series_as_the_root_image(tmp_path):
    """Vizarr (Galaxy's viewer) opens only an image at the store's root: ``--layout image``
    writes one there, with the series' own pixels and the OME-XML beside it."""
    source = ROOT / "tools/convert_to_ome_zarr/test-data/multiseries.ome.tiff"
    refused = run_fairio("convert", source, tmp_path / "all.zarr", "--layout", "image")
    assert refused.returncode == 2 and "--series N" in refused.stderr
    assert not (tmp_path / "all.zarr").exists()

    output = tmp_path / "one.zarr"
    result = run_fairio("convert", source, output, "--layout", "image", "--series", "1")
    assert result.returncode == 0, result.stderr
    root = zarr.open_group(output, mode="r")
    attributes = root.attrs["ome"]
    assert "bioformats2raw.layout" not in attributes
    assert attributes["multiscales"][0]["datasets"][0]["path"] == "0"
    with tifffile.TiffFile(source) as tif:
        expected = tif.series[1].asarray()
    assert np.array_equal(np.asarray(root["0"][:]).squeeze(), expected.squeeze())
    assert (output / "OME" / "METADATA.ome.xml").is_file()
    assert run_fairio("validate-ngff", output).returncode == 0


def test_rendering_windows_are_read_one_stored_chunk_at_a_time(tmp_path):
    """With --levels 1 the window level is the full image: it is never read whole."""
    from fairio_tools.ngff.writer import channel_windows

    rng = np.random.default_rng(3)
    data = rng.integers(0, 60000, (1, 2, 3, 40, 24), dtype=np.uint16)
    stored = zarr.create_array(
        tmp_path / "a.zarr", shape=data.shape, chunks=(1, 1, 1, 16, 16), dtype=data.dtype
    )
    stored[...] = data
    read = []

    class Counting:
        shape, chunks = stored.shape, stored.chunks

        def __getitem__(self, region):
            block = stored[region]
            assert block.size <= 16 * 16, f"read {block.shape} at once"
            read.append(region)
            return block

    windows = channel_windows(Counting())
    expected = [(float(data[:, c].min()), float(data[:, c].max())) for c in range(2)]
    assert windows == expected
    assert len(read) == 2 * 3 * 3 * 2  # every stored chunk once


def test_a_local_conversion_never_imports_dask_distributed(tmp_path):
    """Dask imports distributed (about a tenth of a second, and its memory) whenever it looks
    for a client: choosing a rechunk method or reading a scheduler name. A conversion on
    this machine's threads gives both, so it never does."""
    import subprocess
    import sys

    tifffile.imwrite(
        tmp_path / "image.tif", np.arange(3 * 64 * 80, dtype=np.uint16).reshape(3, 64, 80)
    )
    script = (
        "import sys; from fairio_tools.convert.converter import ConversionOptions, "
        "convert_to_ome_zarr as convert; "
        f"convert({str(tmp_path / 'image.tif')!r}, {str(tmp_path / 'out.zarr')!r}, "
        "ConversionOptions(levels=3, chunks=(1, 16, 16))); "
        "print('distributed' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
    assert zarr.open_group(str(tmp_path / "out.zarr"), mode="r")["0/2"].shape[-2:] == (16, 20)
