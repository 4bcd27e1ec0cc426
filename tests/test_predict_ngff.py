"""``fairio predict`` writes OME-Zarr as ``convert`` does: NGFF 0.5 (Zarr v3) by default,
0.4 with ``--ngff-version 0.4``, the model's axes in NGFF order, the input's scale carried."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr

from fairio_tools.models.image_io import ngff_order, write_ome_zarr
from fairio_tools.ngff.reader import open_images
from tests.model_fixtures import (
    build_mean_filter_package,
    invoke_fairio,
    mean_filter,
    offline,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("offline")

SCALE = {"y": (0.25, "micrometer"), "x": (0.5, "micrometer")}


@pytest.fixture(scope="module")
def tiny_zip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-ngff")
    return build_mean_filter_package(folder / "package", folder / "mean_filter.zip")


@pytest.fixture(scope="module")
def calibrated_input(tmp_path_factory):
    """A 40 x 48 image (one valid tile of the mean filter, no padding) with 0.25 x 0.5 um
    pixels, stored as an OME-TIFF."""
    image = np.random.default_rng(7).random((40, 48)).astype(np.float32)
    path = tmp_path_factory.mktemp("input") / "image.ome.tif"
    tifffile.imwrite(
        path,
        image,
        ome=True,
        metadata={"axes": "YX", "PhysicalSizeY": 0.25, "PhysicalSizeX": 0.5,
                  "PhysicalSizeYUnit": "µm", "PhysicalSizeXUnit": "µm"},
    )  # fmt: skip
    return image, path


def _validate(store, tmp_path) -> dict:
    report_path = tmp_path / f"{store.name}.validation.json"
    result = invoke_fairio("validate-ngff", store, "--deep", "--json", report_path)
    report = json.loads(report_path.read_text())
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["valid"] is True and report["errors"] == 0, report["findings"]
    return report


@pytest.mark.parametrize(
    ("flag", "version", "metadata", "absent"),
    [
        ([], "0.5", "zarr.json", ".zattrs"),
        (["--ngff-version", "0.5"], "0.5", "zarr.json", ".zattrs"),
        (["--ngff-version", "0.4"], "0.4", ".zattrs", "zarr.json"),
    ],
    ids=["default", "0.5", "0.4"],
)
def test_prediction_store_has_the_ngff_version_asked_for(
    tiny_zip, calibrated_input, tmp_path, flag, version, metadata, absent
):
    image, source = calibrated_input
    store = tmp_path / "smoothed.ome.zarr"
    tiff = tmp_path / "smoothed.tif"
    result = invoke_fairio("predict", tiny_zip, source, store, *flag)
    assert result.returncode == 0, result.stderr
    result = invoke_fairio("predict", tiny_zip, source, tiff)
    assert result.returncode == 0, result.stderr

    assert (store / metadata).is_file() and not (store / absent).exists()
    stored = json.loads((store / metadata).read_text())
    if version == "0.5":
        assert stored["zarr_format"] == 3 and stored["node_type"] == "group"
        ome = stored["attributes"]["ome"]
        assert ome["version"] == "0.5"
        (multiscale,) = ome["multiscales"]
        record = stored["attributes"]["fairio_prediction"]
        array = json.loads((store / "0" / "zarr.json").read_text())
        assert array["dimension_names"] == ["c", "y", "x"]
    else:
        (multiscale,) = stored["multiscales"]
        assert multiscale["version"] == "0.4"
        record = stored["fairio_prediction"]
        assert json.loads((store / "0" / ".zarray").read_text())["zarr_format"] == 2
    assert record["model_name"] == "Tiny mean filter" and record["output_id"] == "smoothed"
    assert (store / "provenance.jsonld").is_file()

    (opened,) = open_images(str(store))
    assert opened.fmt.version == version
    assert opened.axis_names == ["c", "y", "x"]  # b of the model's b,c,y,x is not an axis
    assert opened.scales == [[1.0, 0.25, 0.5]]
    assert [opened.unit(a) for a in ("c", "y", "x")] == [None, "micrometer", "micrometer"]
    pixels = np.asarray(opened.levels[0])
    assert pixels.shape == (1, 40, 48) and pixels.dtype == np.float32
    np.testing.assert_array_equal(pixels[0], tifffile.imread(tiff).reshape(40, 48))
    assert np.abs(pixels[0] - mean_filter(image)).max() <= 1e-5

    report = _validate(store, tmp_path)
    assert report["ngff_version"] == version


def test_predict_refuses_an_ngff_version_it_does_not_write(tiny_zip, calibrated_input, tmp_path):
    _, source = calibrated_input
    store = tmp_path / "smoothed.ome.zarr"
    result = invoke_fairio("predict", tiny_zip, source, store, "--ngff-version", "0.6")
    assert result.returncode == 2
    assert "--ngff-version" in result.stderr and not store.exists()


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_model_axes_are_written_in_ngff_order_without_the_batch(version, tmp_path):
    """A model's b,y,x,c output: the batch axis dropped, channel before y and x."""
    from fairio_tools.ngff.format import FORMATS

    data = np.arange(1 * 5 * 6 * 2, dtype=np.float32).reshape(1, 5, 6, 2)
    store = tmp_path / "yxc.ome.zarr"
    write_ome_zarr(data, ["b", "y", "x", "c"], SCALE, store, {}, None, FORMATS[version])
    (opened,) = open_images(str(store))
    assert opened.axis_names == ["c", "y", "x"]
    assert opened.scales == [[1.0, 0.25, 0.5]]
    np.testing.assert_array_equal(np.asarray(opened.levels[0]), data[0].transpose(2, 0, 1))
    _validate(store, tmp_path)


def test_ngff_order_keeps_the_axes_it_is_given():
    data = np.zeros((3, 4, 2, 5), np.uint8)  # x, y, c, z: no axis added, none lost
    ordered, axes = ngff_order(data, ["x", "y", "c", "z"])
    assert axes == ["c", "z", "y", "x"] and ordered.shape == (2, 5, 4, 3)
    ordered, axes = ngff_order(np.zeros((2, 7, 8)), ["t", "y", "x"])
    assert axes == ["t", "y", "x"] and ordered.shape == (2, 7, 8)


def test_a_batch_of_several_images_is_refused(tmp_path):
    from fairio_tools.errors import OutputError

    with pytest.raises(OutputError, match="batch of 2"):
        write_ome_zarr(np.zeros((2, 1, 8, 8)), ["b", "c", "y", "x"], {}, tmp_path / "b.zarr", {})
    assert not (tmp_path / "b.zarr").exists()


def test_default_store_opens_as_zarr_v3(tiny_zip, calibrated_input, tmp_path):
    _, source = calibrated_input
    store = tmp_path / "smoothed.ome.zarr"
    assert invoke_fairio("predict", tiny_zip, source, store).returncode == 0
    group = zarr.open_group(str(store), mode="r")
    assert group.metadata.zarr_format == 3
    assert group.attrs["ome"]["version"] == "0.5"


def test_preview_is_the_prediction_scaled_to_its_range_and_refused_for_a_tiff(
    tiny_zip, calibrated_input, tmp_path
):
    from PIL import Image

    image, source = calibrated_input
    store, preview = tmp_path / "smoothed.ome.zarr", tmp_path / "preview.png"
    result = invoke_fairio("predict", tiny_zip, source, store, "--preview", preview)
    assert result.returncode == 0, result.stderr
    png = np.asarray(Image.open(preview))
    assert png.shape == (*image.shape, 3)  # one channel: grey
    predicted = np.asarray(zarr.open_group(str(store), mode="r")["0"])[0]
    low, high = predicted.min(), predicted.max()
    expected = np.round((predicted - low) / (high - low) * 255)
    assert np.abs(png[..., 0].astype(float) - expected).max() <= 1
    assert (png[..., 0] == png[..., 2]).all()

    refused = invoke_fairio("predict", tiny_zip, source, tmp_path / "s.tif", "--preview", preview)
    assert refused.returncode == 2 and "--preview" in refused.stderr
