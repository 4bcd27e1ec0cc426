"""Paths inside a user's folder: no links out, regular files only, bounded reads and copies."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fairio_tools.confined import (
    ConfinementError,
    copy_inside,
    files_inside,
    kind_inside,
    read_inside,
    resolve_inside,
)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "store"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a").write_bytes(b"inside")
    (root / "link-in").symlink_to(root / "sub" / "a")
    (tmp_path / "canary").write_bytes(b"CANARY")
    return root


def test_links_inside_are_followed(folder):
    assert read_inside(folder, "link-in", 100) == b"inside"
    assert read_inside(folder, "missing", 100) is None
    assert read_inside(folder, "sub/a/zarr.json", 100) is None  # below a file: not there
    assert kind_inside(folder, "sub/a/zarr.json") is None
    assert kind_inside(folder, "sub") == "dir"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda r: (r / "x").symlink_to(r.parent / "canary"), "leads outside"),
        (lambda r: (r / "x").symlink_to("/dev/zero"), "leads outside"),
        (lambda r: (r / "x").symlink_to(r / "sub"), "is a directory"),
        (lambda r: os.mkfifo(r / "x"), "is a FIFO"),
        (lambda r: (r / "x").write_bytes(b"y" * 101), "more than the limit of 100"),
    ],
)
def test_what_may_not_be_read(folder, make, words):
    make(folder)
    with pytest.raises(ConfinementError, match=words):
        read_inside(folder, "x", 100)


@pytest.mark.parametrize("rel", ["../canary", "/etc/passwd", "sub/../../canary", "a\\b", "a\0"])
def test_paths_that_climb_out_are_refused(folder, rel):
    with pytest.raises(ConfinementError):
        resolve_inside(folder, rel)


def test_a_large_limit_costs_no_memory(folder):
    """The read is sized by the file: a 1 TiB limit under a 1 GiB address space is fine."""
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
        "from fairio_tools.confined import read_inside;"
        f"sys.stdout.write(read_inside({str(folder)!r}, 'sub/a', 1 << 40).decode())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "inside", result.stderr


def test_copy_follows_links_inside_only(folder, tmp_path):
    target = tmp_path / "copy"
    target.mkdir()
    copy_inside(folder, target)
    assert (target / "link-in").read_bytes() == b"inside"
    assert not (target / "link-in").is_symlink()
    (folder / "out").symlink_to(tmp_path / "canary")
    with pytest.raises(ConfinementError, match="leads outside"):
        list(files_inside(folder))


def test_sharded_arrays_read_through_the_confined_store(tmp_path):
    """Parts of a shard are read as ranges, and give the pixels zarr wrote."""
    import numpy as np
    import zarr

    from fairio_tools.ngff.store import open_root

    root = zarr.open_group(tmp_path / "s.zarr", mode="w")
    array = root.create_array("a", shape=(64, 64), chunks=(8, 8), shards=(32, 32), dtype="u2")
    data = np.arange(64 * 64, dtype="u2").reshape(64, 64)
    array[:] = data
    confined = open_root(tmp_path / "s.zarr")["a"]
    assert (confined[3:11, 30:40] == data[3:11, 30:40]).all()
    assert (confined[:] == data).all()
