"""Bad inputs to ``fairio convert``: exit 2, one line naming the problem, no store left."""

from __future__ import annotations

import errno
import shutil
import struct

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from PIL import Image

from fairio_tools.cli.app import main
from tests.conftest import run_fairio


def assert_refused(result, tmp_path, *expected: str, inputs: tuple[str, ...] = ()) -> None:
    """Exit 2, exactly one stderr line holding ``expected``, nothing else in ``tmp_path``."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fairio: error: ")
    for text in expected:
        assert text in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(inputs)


def _convert(tmp_path, source, *options):
    return run_fairio("convert", source, tmp_path / "out.ome.zarr", *options)


def test_empty_file(tmp_path):
    source = tmp_path / "empty.tif"
    source.write_bytes(b"")
    assert_refused(
        _convert(tmp_path, source), tmp_path, "empty.tif", "empty", inputs=("empty.tif",)
    )


def test_truncated_tiff(shared_data, tmp_path):
    real = shared_data / "images" / "misc" / "input1_tyx.tiff"
    source = tmp_path / "cut.tiff"
    source.write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    assert_refused(_convert(tmp_path, source), tmp_path, "cut.tiff", inputs=("cut.tiff",))


def _huge_tiff_header() -> bytes:
    """A classic TIFF declaring 2**31 x 2**31 8-bit pixels with 16 bytes of pixel data."""
    side = 2**31
    tags = [  # (tag, type, count, value): 3 = SHORT, 4 = LONG
        (256, 4, 1, side), (257, 4, 1, side), (258, 3, 1, 8), (259, 3, 1, 1),
        (262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, side), (279, 4, 1, 16),
    ]  # fmt: skip
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(tags) + 4
    entries = b"".join(
        struct.pack("<HHI", tag, kind, count)
        + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
        for tag, kind, count, value in [
            (t, k, c, data_offset if t == 273 else v) for t, k, c, v in tags
        ]
    )
    header = b"II*\x00" + struct.pack("<I", ifd_offset)
    return header + struct.pack("<H", len(tags)) + entries + b"\x00" * 4 + b"\x01" * 16


def test_tiff_declaring_2_31_by_2_31_pixels(tmp_path):
    source = tmp_path / "huge.tif"
    source.write_bytes(_huge_tiff_header())
    with tifffile.TiffFile(source) as tif:  # the header really declares that size
        assert tif.pages.first.shape == (2**31, 2**31)
    result = _convert(tmp_path, source)
    assert_refused(result, tmp_path, "huge.tif", "2147483648 x 2147483648", inputs=("huge.tif",))


def test_text_file_named_tif(tmp_path):
    source = tmp_path / "notes.tif"
    source.write_text("this is not an image\n")
    assert_refused(
        _convert(tmp_path, source), tmp_path, "notes.tif", "not a supported image",
        inputs=("notes.tif",),
    )  # fmt: skip


def test_unsupported_format(tmp_path):
    source = tmp_path / "image.gif"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(source)
    assert_refused(_convert(tmp_path, source), tmp_path, "image.gif", "TIFF", inputs=("image.gif",))


def test_chunk_size_zero(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    assert_refused(_convert(tmp_path, source, "--chunks", "0,64,64"), tmp_path, "chunks")


def test_existing_output_without_overwrite(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    (tmp_path / "out.ome.zarr").mkdir()
    (tmp_path / "out.ome.zarr" / "precious.txt").write_text("keep")
    result = _convert(tmp_path, source)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "already exists" in result.stderr
    assert "--overwrite" in result.stderr
    assert [p.name for p in (tmp_path / "out.ome.zarr").iterdir()] == ["precious.txt"]


@pytest.mark.parametrize("existing", [False, True])
def test_disk_full_halfway_leaves_nothing(shared_data, tmp_path, monkeypatch, existing):
    source = shared_data / "images" / "bioformats2raw-reference" / "coins.png"
    output = tmp_path / "out.ome.zarr"
    if existing:
        shutil.copytree(
            shared_data / "images" / "bioformats2raw-reference" / "coins.ome.zarr", output
        )
    written = {"chunks": 0}
    original = zarr.Array.__setitem__

    def fill_disk(self, selection, value):
        written["chunks"] += 1
        if written["chunks"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, selection, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", fill_disk)
    options = ["--chunks", "1,64,64"] + (["--overwrite"] if existing else [])
    result = CliRunner().invoke(main, ["convert", str(source), str(output), *options])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "out.ome.zarr" in lines[0]
    assert written["chunks"] > 3
    if existing:  # the old store is untouched
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ome.zarr"]
        assert (output / "0" / ".zattrs").read_text().count("Bio-Formats") == 1
    else:
        assert list(tmp_path.iterdir()) == []


def test_label_name_that_would_leave_the_store(shared_data, tmp_path):
    source = shared_data / "images" / "misc" / "zyx_uint16.tiff"
    result = _convert(tmp_path, source, "--label-image", source, "--label-name", "../escape")
    assert_refused(result, tmp_path, "label-name", "not a plain group name")
