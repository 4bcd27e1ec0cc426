"""``fairio convert`` on a Dask distributed cluster and into S3 (moto's server on loopback)."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest
import tifffile
import zarr

from tests.conftest import run_fairio


def test_distributed_scheduler(shared_data, tmp_path):
    from distributed import LocalCluster

    source = shared_data / "images" / "misc" / "zcyx.tiff"
    output = tmp_path / "out.ome.zarr"
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        result = run_fairio(
            "convert", source, output, "--scheduler", cluster.scheduler_address,
            "--chunks", "5,16,16", "--levels", "2", "--json", tmp_path / "report.json",
        )  # fmt: skip
        # the cluster itself ran the store tasks (not a local fallback)
        ran = {p: dict(tp.all_durations) for p, tp in cluster.scheduler.task_prefixes.items()}
    assert result.returncode == 0, result.stderr
    stored = [prefix for prefix in ran if prefix.startswith("store")]
    assert stored, sorted(ran)
    assert all(ran[prefix].get("compute", 0) > 0 for prefix in stored), ran
    group = zarr.open_group(str(output), mode="r")
    expected = np.moveaxis(tifffile.imread(source), 1, 0)  # zcyx -> czyx
    np.testing.assert_array_equal(group["0/0"][0], expected)
    assert group["0/1"].shape == (1, 2, 25, 25, 25)
    assert json.loads((tmp_path / "report.json").read_text())["output"]["images"][0]["series"] == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch):
    """A moto S3 server on loopback, with the AWS environment pointing at it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    yield endpoint
    server.stop()


def test_s3_output(shared_data, tmp_path, s3_endpoint):
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint)
    fs.mkdir("bucket")
    source = shared_data / "images" / "misc" / "res.ome.tiff"  # OME-XML, RGBA, one chunk
    url = "s3://bucket/images/res.ome.zarr"
    result = run_fairio("convert", source, url, "--json", tmp_path / "report.json")
    assert result.returncode == 0, result.stderr

    assert fs.ls("bucket/images", refresh=True) == ["bucket/images/res.ome.zarr"]
    assert fs.cat(f"{url}/OME/METADATA.ome.xml").startswith(b"<?xml")
    group = zarr.open_group(url, mode="r", storage_options={"endpoint_url": s3_endpoint})
    assert group.attrs["ome"]["bioformats2raw.layout"] == 3
    expected = np.moveaxis(tifffile.imread(source), -1, 0)  # yxc -> cyx
    np.testing.assert_array_equal(group["0/0"][0, :, 0], expected)

    again = run_fairio("convert", source, url)
    assert again.returncode == 2 and "already exists" in again.stderr
