"""Pyramid arithmetic: level counts and the three downsampling methods, block by block."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from fairio_tools.errors import InputError
from fairio_tools.ngff.pyramid import downsample, level_count


@pytest.mark.parametrize(
    ("height", "width", "levels", "min_size", "expected"),
    [
        (480, 640, None, None, 3),  # as bioformats2raw: 640, 320, 160
        (263, 263, None, None, 2),  # 263, 131
        (50, 50, None, None, 1),
        (16384, 16384, None, 1024, 5),
        (480, 640, 4, None, 4),
    ],
)
def test_level_count(height, width, levels, min_size, expected):
    assert level_count(height, width, levels, min_size) == expected


def test_too_many_levels_is_an_input_error():
    with pytest.raises(InputError, match="below one pixel"):
        level_count(8, 8, 5, None)


def test_mean_rounds_half_up_without_overflow():
    block = np.array([[65535, 65535, 1, 2], [65535, 65534, 2, 2]], dtype=np.uint16)
    result = downsample(da.from_array(block[None], chunks=(1, 2, 4)), "mean").compute()
    np.testing.assert_array_equal(result[0], [[65535, 2]])  # (1+2+2+2)/4 = 1.75 -> 2


def test_mode_keeps_label_values_and_breaks_ties_top_left():
    labels = np.array([[5, 5, 1, 2], [5, 9, 3, 4], [7, 0, 0, 0], [0, 7, 0, 8]], dtype=np.uint32)
    result = downsample(da.from_array(labels, chunks=2), "mode").compute()
    np.testing.assert_array_equal(result, [[5, 1], [7, 0]])


def test_odd_chunks_and_sizes_give_the_same_result_as_whole_arrays():
    data = np.random.default_rng(3).integers(0, 1000, (2, 37, 41), dtype=np.uint16)
    whole = downsample(da.from_array(data, chunks=-1), "nearest").compute()
    chunked = downsample(da.from_array(data, chunks=(1, 7, 9)), "nearest").compute()
    np.testing.assert_array_equal(chunked, whole)
    np.testing.assert_array_equal(whole, data[:, :36:2, :40:2])


@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.float32, np.bool_]
)
def test_mean_of_each_two_by_two_block_for_every_pixel_type(dtype):
    rng = np.random.default_rng(7)
    if dtype == np.bool_:
        data = rng.integers(0, 2, (3, 10, 12)).astype(bool)
    elif np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, (3, 10, 12), dtype=dtype, endpoint=True)
    else:
        data = rng.normal(0, 1e3, (3, 10, 12)).astype(dtype)
    sums = data.astype(np.float64).reshape(3, 5, 2, 6, 2).sum(axis=(2, 4))  # exact here
    if dtype == np.bool_:
        expected = sums >= 2
    elif np.issubdtype(dtype, np.integer):
        expected = np.floor((sums + 2) / 4).astype(dtype)  # half up, for negatives too
    else:
        expected = (sums / 4).astype(dtype)
    result = downsample(da.from_array(data, chunks=(1, 4, 6)), "mean").compute()
    assert result.dtype == data.dtype
    if dtype == np.float32:
        np.testing.assert_allclose(result, expected, rtol=1e-6)
    else:
        np.testing.assert_array_equal(result, expected)
