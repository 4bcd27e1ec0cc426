"""``fairio label``: Otsu / fixed thresholds, connected components, NGFF label images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from tests.conftest import run_fairio


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> Path:
    return shared_data / "images" / "bioformats2raw-reference"


def _report(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _otsu_uint8(pixels: np.ndarray) -> int:
    """Otsu's threshold written out: the t that maximises the between-class variance of
    pixels <= t and > t (the definition, not scikit-image's implementation)."""
    counts = np.bincount(pixels.ravel(), minlength=256).astype(float)
    values = np.arange(256)
    best, best_t = -1.0, 0
    for t in range(255):
        w0, w1 = counts[: t + 1].sum(), counts[t + 1 :].sum()
        if w0 and w1:
            m0 = (counts[: t + 1] * values[: t + 1]).sum() / w0
            m1 = (counts[t + 1 :] * values[t + 1 :]).sum() / w1
            if (variance := w0 * w1 * (m0 - m1) ** 2) > best:
                best, best_t = variance, t
    return best_t


def test_coins_store_gets_labels_in_a_new_store(tmp_path: Path, reference: Path) -> None:
    source = reference / "coins.ome.zarr"
    output = tmp_path / "coins.ome.zarr"
    report = _report(run_fairio("label", source, output, "--min-size", "400"))
    threshold = _otsu_uint8(np.asarray(zarr.open_group(str(source / "0"), mode="r")["0"]))
    assert (report["method"], report["threshold"]) == ("otsu", float(threshold))
    assert report["objects"] == 23
    assert report["labels"] == "0/labels/threshold"
    image = zarr.open_group(str(output / "0"), mode="r")
    assert dict(image["labels"].attrs) == {"labels": ["threshold"]}
    label_group = image["labels/threshold"]
    attrs = dict(label_group.attrs)
    assert attrs["image-label"]["source"] == {"image": "../../"}
    parent = dict(image.attrs)["multiscales"][0]
    multiscales = attrs["multiscales"][0]
    assert [a["name"] for a in multiscales["axes"]] == ["t", "c", "z", "y", "x"]
    assert [d["coordinateTransformations"] for d in multiscales["datasets"]] == [
        d["coordinateTransformations"] for d in parent["datasets"]
    ]
    full = np.asarray(label_group[multiscales["datasets"][0]["path"]])
    assert full.shape == (1, 1, 1, 480, 640) and full.dtype == np.uint16
    assert sorted(np.unique(full)) == list(range(24))
    assert np.asarray(label_group[multiscales["datasets"][2]["path"]]).shape == (1, 1, 1, 120, 160)
    # labels follow the coins: every labelled pixel is brighter than the threshold
    pixels = np.asarray(image["0"])
    assert pixels[full > 0].min() > threshold
    assert not (source / "0" / "labels").exists()  # the source store is left as it was


def test_given_threshold_and_in_place(tmp_path: Path, reference: Path) -> None:
    store = tmp_path / "camera.ome.zarr"
    shutil.copytree(reference / "camera.ome.zarr", store)
    report = _report(
        run_fairio("label", store, "--in-place", "--threshold", "200", "--name", "bright")
    )
    assert (report["method"], report["threshold"], report["output"]) == ("given", 200.0, str(store))
    labels = np.asarray(zarr.open_group(str(store / "0" / "labels" / "bright"))["s0"])
    pixels = np.asarray(zarr.open_group(str(store / "0"))["0"])
    assert ((labels > 0) == (pixels > 200)).all()
    assert labels.max() == report["objects"] > 0


def test_tiff_z_stack_gives_a_3d_tiff_label_image(tmp_path: Path, reference: Path) -> None:
    output = tmp_path / "labels.tiff"
    source = reference / "xyz_8bit__mitotic_plate_calibrated.tiff"
    report = _report(run_fairio("label", source, output, "--connectivity", "3"))
    assert report["axes"] == ["z", "y", "x"]
    labels = tifffile.imread(output)
    assert labels.shape == (6, 263, 263)
    assert labels.max() == report["objects"] > 0
    assert (labels > 0).sum() == (tifffile.imread(source) > report["threshold"]).sum()


def test_png_labels_are_attached_to_a_matching_store(tmp_path: Path, reference: Path) -> None:
    output = tmp_path / "coins.ome.zarr"
    report = _report(
        run_fairio(
            "label", reference / "coins.png", output,
            "--image", reference / "coins.ome.zarr", "--min-size", "400",
        )
    )  # fmt: skip
    assert report["objects"] == 23
    labels = zarr.open_group(str(output / "0" / "labels" / "threshold"), mode="r")["s0"]
    assert labels.shape == (1, 1, 1, 480, 640)


def test_zarr_v3_store_written_by_ome_zarr_py(tmp_path: Path) -> None:
    from ome_zarr.writer import write_image

    store = tmp_path / "blobs.ome.zarr"
    data = np.zeros((2, 40, 40), dtype=np.uint8)
    data[1, 5:10, 5:10] = data[1, 20:30, 22:35] = 200
    write_image(data, zarr.open_group(str(store), mode="w"), axes="cyx")
    report = _report(run_fairio("label", store, "--in-place", "--channel", "1"))
    assert (report["objects"], report["shape"]) == (2, [1, 40, 40])
    meta = json.loads((store / "labels" / "threshold" / "zarr.json").read_text())
    assert meta["attributes"]["ome"]["image-label"]["source"] == {"image": "../../"}


def _assert_refused(result, tmp_path: Path, *needles: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
    assert [p.name for p in tmp_path.iterdir()] == []


def test_missing_source_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ome.zarr"
    result = run_fairio("label", missing, tmp_path / "out.ome.zarr")
    assert result.returncode == 2
    assert result.stderr.strip() == f"fairio: error: {missing}: does not exist"
    assert not list(tmp_path.iterdir())


def test_labels_of_another_size_are_refused(tmp_path: Path, reference: Path) -> None:
    result = run_fairio(
        "label", reference / "xyz_8bit__mitotic_plate_calibrated.tiff", tmp_path / "o.ome.zarr",
        "--image", reference / "coins.ome.zarr",
    )  # fmt: skip
    _assert_refused(
        result, tmp_path, "coins.ome.zarr", "labels are 6 pixels along 'z' but the image is 1"
    )


def test_constant_image_needs_a_threshold(tmp_path: Path) -> None:
    flat = tmp_path / "flat.tiff"
    tifffile.imwrite(flat, np.full((8, 8), 7, dtype=np.uint8))
    result = run_fairio("label", flat, tmp_path / "labels.tiff")
    assert result.returncode == 2
    assert "image is constant" in result.stderr and "--threshold" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["flat.tiff"]


def test_existing_label_name_is_refused(tmp_path: Path, reference: Path) -> None:
    store = tmp_path / "coins.ome.zarr"
    shutil.copytree(reference / "coins.ome.zarr", store)
    run_fairio("label", store, "--in-place", check=True)
    result = run_fairio("label", store, "--in-place")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"fairio: error: {store} [--name]: already has a label image 'threshold'"
    )


def test_png_labels_into_a_copy_of_a_zarr_v3_store(shared_data, tmp_path):
    """A Zarr v3 store lists every folder entry as a child; the copy being written holds the
    incomplete marker (a file), which must read as "no node there", not as an error."""
    coins = shared_data / "images" / "bioformats2raw-reference" / "coins.png"
    store = tmp_path / "coins.ome.zarr"
    run_fairio("convert", coins, store, "--ngff-version", "0.5", check=True)
    out = tmp_path / "labelled.ome.zarr"
    result = run_fairio("label", coins, out, "--image", store, "--name", "nuclei")
    assert result.returncode == 0, result.stderr
    assert (out / "0" / "labels" / "nuclei" / "zarr.json").is_file()
    assert not (out / ".fairio-incomplete").exists()


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_second_label_image_is_listed_and_read_by_independent_tools(
    shared_data: Path, tmp_path: Path, version: str
) -> None:
    """Labels are written by our own NGFF writer: each label image is accepted by the NGFF
    schemas and ome-zarr-models, and a second one is added to the ``labels`` list."""
    from tests.ngff_checks import stored_attributes, validate_schema

    coins = shared_data / "images" / "bioformats2raw-reference" / "coins.png"
    store = tmp_path / "coins.ome.zarr"
    run_fairio("convert", coins, store, "--ngff-version", version, check=True)
    run_fairio("label", store, "--in-place", check=True)
    run_fairio("label", store, "--in-place", "--name", "bright", "--threshold", "200", check=True)
    labels = store / "0" / "labels"
    listed = stored_attributes(labels)
    assert (listed.get("ome", listed))["labels"] == ["threshold", "bright"]
    if version == "0.4":
        from ome_zarr_models.v04.image_label import ImageLabel
    else:
        from ome_zarr_models.v05.image_label import ImageLabel
    for name in ("threshold", "bright"):
        attributes = stored_attributes(labels / name)
        validate_schema(attributes, version, "label")
        ImageLabel.from_zarr(zarr.open_group(str(labels / name), mode="r"))  # raises if invalid
        datasets = attributes.get("ome", attributes)["multiscales"][0]["datasets"]
        assert [d["path"] for d in datasets] == ["s0", "s1", "s2"]
    result = run_fairio("validate-ngff", store)
    assert result.returncode == 0, result.stdout + result.stderr
