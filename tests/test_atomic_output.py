"""The one output helper: exclusive final moves, special targets written into, no leftovers."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import tifffile

from fairio_tools.atomic import INCOMPLETE_MARKER, atomic_output
from fairio_tools.errors import OutputError
from tests.conftest import run_fairio

IMAGE = "images/bioformats2raw-reference/xyz_8bit__mitotic_plate_calibrated.tiff"


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_file_moves_into_place(tmp_path):
    target = tmp_path / "report.json"
    with atomic_output(target, overwrite=False) as location:
        assert not target.exists()
        Path(location).write_text("new")
    assert target.read_text() == "new"
    assert _names(tmp_path) == ["report.json"]


def test_target_that_appears_meanwhile_is_not_replaced(tmp_path):
    target = tmp_path / "out.ome.zarr"
    with (
        pytest.raises(OutputError, match="appeared while"),
        atomic_output(target, overwrite=False, folder=True) as location,
    ):
        (Path(location) / "zarr.json").write_text("{}")
        target.mkdir()
        (target / "theirs").write_text("theirs")
    assert _names(tmp_path) == ["out.ome.zarr"]
    assert _names(target) == ["theirs"]


def test_overwrite_replaces_a_folder_atomically(tmp_path):
    target = tmp_path / "out.ome.zarr"
    target.mkdir()
    (target / "old").write_text("old")
    with atomic_output(target, overwrite=True, folder=True) as location:
        assert _names(Path(location)) == [INCOMPLETE_MARKER]  # marked while written
        (Path(location) / "new").write_text("new")
        assert (target / "old").exists()  # the old one stays until the new one is complete
    assert _names(target) == ["new"]
    assert _names(tmp_path) == ["out.ome.zarr"]


def test_existing_output_is_refused_without_overwrite(tmp_path):
    target = tmp_path / "out.tif"
    target.write_text("keep")
    with pytest.raises(OutputError, match="already exists"), atomic_output(target, overwrite=False):
        pass
    assert target.read_text() == "keep"


def test_galaxy_empty_placeholder_counts_as_absent(tmp_path):
    target = tmp_path / "dataset_1.dat"
    target.touch()
    with atomic_output(target, overwrite=False, folder=True) as location:
        (Path(location) / "zarr.json").write_text("{}")
    assert _names(target) == ["zarr.json"]


def test_failure_removes_the_temporary_and_keeps_the_error(tmp_path):
    target = tmp_path / "out.ome.zarr"
    with (
        pytest.raises(ZeroDivisionError),
        atomic_output(target, overwrite=False, folder=True) as location,
    ):
        (Path(location) / "chunk").write_bytes(b"x")
        _ = 1 / 0
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "out.ome.zarr"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True).stdout.strip()  # fmt: skip
    with atomic_output(target, overwrite=False, folder=True) as location:
        live = Path(location).name  # our own: a live process
    host_pid = live.split(".partial-")[1].rsplit("-", 1)[0]
    stale = tmp_path / f".out.ome.zarr.partial-{host_pid.rsplit('-', 1)[0]}-{dead}-0badf00d"
    kept = tmp_path / f".out.ome.zarr.partial-{host_pid}-{uuid.uuid4().hex[:8]}"
    for leftover in (stale, kept):
        leftover.mkdir()
        (leftover / INCOMPLETE_MARKER).touch()
    with atomic_output(target, overwrite=True, folder=True):
        pass
    assert not stale.exists()
    assert kept.exists()  # a running writer's temporary is not touched


def test_report_onto_a_link_to_dev_null_writes_into_it(shared_data, tmp_path):
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    result = run_fairio("image-info", shared_data / IMAGE, "--json", link, "--tsv", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert _names(tmp_path) == ["null"]


def test_report_into_a_fifo(shared_data, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run_fairio("image-info", shared_data / IMAGE, "--json", fifo)
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert json.loads(received[0])["series"][0]["dtype"] == "uint8"


def test_dev_stdout_redirected_to_a_file_is_written_into(shared_data, tmp_path):
    out = tmp_path / "out.json"
    fairio = Path(sys.executable).parent / "fairio"
    with out.open("w") as stdout:  # /dev/stdout then links to this regular file
        inode = os.fstat(stdout.fileno()).st_ino
        code = subprocess.call(
            [str(fairio), "image-info", str(shared_data / IMAGE), "--json", "/dev/stdout"],
            stdout=stdout,
        )
    assert code == 0
    assert out.stat().st_ino == inode  # written into, not replaced behind the shell's back
    assert json.loads(out.read_text())["series"][0]["dtype"] == "uint8"
    assert _names(tmp_path) == ["out.json"]


def test_dash_is_standard_output(shared_data, tmp_path):
    result = run_fairio("image-info", shared_data / IMAGE, "--json", "-", "--tsv", tmp_path / "t")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["series"][0]["dtype"] == "uint8"
    assert not (tmp_path / "-").exists()


@pytest.fixture(scope="module")
def slow_image(tmp_path_factory) -> Path:
    """A 2 x 2048 x 2048 image of noise: converting it takes a second or more."""
    path = tmp_path_factory.mktemp("slow") / "noise.tif"
    noise = np.random.default_rng(0).integers(0, 65535, (2, 2048, 2048), dtype=np.uint16)
    tifffile.imwrite(path, noise, metadata={"axes": "ZYX"})
    return path


def test_two_concurrent_converts_to_one_path(slow_image, tmp_path):
    output = tmp_path / "out.ome.zarr"
    fairio = Path(sys.executable).parent / "fairio"
    command = [str(fairio), "convert", str(slow_image), str(output), "--chunks", "1,512,512"]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]  # type: ignore[union-attr]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "out.ome.zarr" in refused and ("already exists" in refused or "appeared" in refused)
    assert _names(tmp_path) == ["out.ome.zarr"]


def test_killed_convert_leaves_nothing_that_passes_for_a_store(slow_image, tmp_path):
    output = tmp_path / "out.ome.zarr"
    fairio = Path(sys.executable).parent / "fairio"
    run = subprocess.Popen([str(fairio), "convert", str(slow_image), str(output),
                            "--chunks", "1,256,256"], stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.ome.zarr.partial-*/0")) and time.monotonic() < deadline:
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    assert not output.exists()
    (partial,) = tmp_path.glob(".out.ome.zarr.partial-*")
    assert (partial / INCOMPLETE_MARKER).exists()
    refused = run_fairio("export-tiff", partial, tmp_path / "x.tif")
    assert refused.returncode == 2 and "incomplete" in refused.stderr
    again = run_fairio("convert", slow_image, output, "--chunks", "1,1024,1024")
    assert again.returncode == 0, again.stderr
    assert _names(tmp_path) == ["out.ome.zarr"]  # the killed run's temporary is gone
