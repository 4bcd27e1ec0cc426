"""Image files found by fuzzing the image commands: each is refused quickly, in one line."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.conftest import run_measured

RES = "images/misc/res.ome.tiff"


def _with_description(seed: Path, edit) -> bytes:
    """The real OME-TIFF ``seed`` rewritten with its OME-XML edited."""
    with tifffile.TiffFile(seed) as tif:
        page = tif.pages.first
        pixels, description = page.asarray(), page.description
    out = io.BytesIO()
    tifffile.imwrite(out, pixels, description=edit(description), metadata=None)
    return out.getvalue()


def _ome_size(name: str, value: str):
    return lambda seed: _with_description(
        seed, lambda x: re.sub(rf'{name}="\d+"', f'{name}="{value}"', x, count=1)
    )


def _many_scans(_: Path) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.zeros((512, 512), np.uint8)).save(out, "JPEG", progressive=True)
    jpeg = out.getvalue()
    last_scan = jpeg[[m.start() for m in re.finditer(b"\xff\xda", jpeg)][-1] : -2]
    return jpeg[:-2] + last_scan * 2000 + b"\xff\xd9"


CASES = {
    "OME SizeZ 10^9": (RES, _ome_size("SizeZ", "999999999"), "FAIRIO_MAX_OME_PLANES"),
    "OME SizeX 10^20": (RES, _ome_size("SizeX", "99999999999999999999"), "not a plausible size"),
    "OME SizeC 0": (RES, _ome_size("SizeC", "0"), "not a plausible size"),
    "JPEG of 2000 scans": (RES, _many_scans, "scans, more than 100"),
}


@pytest.mark.parametrize("command", ["image-info", "convert"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fuzzed_image_is_refused(shared_data, tmp_path, case, command):
    seed, make, words = CASES[case]
    source = tmp_path / "fuzzed.img"
    source.write_bytes(make(shared_data / seed))
    args = [command, source] + ([tmp_path / "out.ome.zarr"] if command == "convert" else [])
    result, peak = run_measured(*args, timeout=60)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"fairio: error: {source}") and words in line, line
    assert peak < 1 << 30
    assert [p.name for p in tmp_path.iterdir()] == ["fuzzed.img"]


def test_label_of_a_constant_image_names_the_file(tmp_path):
    source = tmp_path / "flat.tif"
    tifffile.imwrite(source, np.full((64, 64), 7, np.uint8))
    result, _ = run_measured("label", source, tmp_path / "labels.tif", "--tiff")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"fairio: error: {source}: image is constant"), line


def test_label_bounds_its_int32_working_memory(tmp_path):
    """A sparse 8192 x 8192 image decodes to 64 MiB, its int32 labels take 256 MiB."""
    image = np.zeros((8192, 8192), np.uint8)
    image[::3, ::3] = 255
    source = tmp_path / "sparse.tif"
    tifffile.imwrite(source, image, tile=(1024, 1024), compression="zlib")
    limit = {"FAIRIO_MAX_DECODED_BYTES": str(128 << 20)}  # the image fits, its labels do not
    result, peak = run_measured("label", source, tmp_path / "l.tif", "--tiff", env=limit)
    assert result.returncode == 2, result.stderr
    assert "bytes of int32 labels" in result.stderr and "FAIRIO_MAX_DECODED_BYTES" in result.stderr
    assert peak < 512 << 20
