"""``--jobs`` (Galaxy's ``${GALAXY_SLOTS}``) really bounds the workers, and Galaxy's
``GALAXY_MEMORY_MB`` the memory bound: each test reads what the pools were actually given."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tifffile

from fairio_tools.threads import THREAD_VARIABLES, default_jobs
from tests.conftest import run_bounded
from tests.model_fixtures import build_mean_filter_package, invoke_fairio

COINS = "images/bioformats2raw-reference/coins.ome.zarr"


@pytest.fixture
def restore_threads(monkeypatch):
    """Undo what ``--jobs`` sets in this process (environment, Zarr, Blosc)."""
    import zarr
    from numcodecs import blosc

    for name in THREAD_VARIABLES:
        monkeypatch.setenv(name, os.environ.get(name, ""))
    workers, nthreads = zarr.config.get("threading.max_workers"), blosc.get_nthreads()
    yield
    zarr.config.set({"threading.max_workers": workers})
    blosc.set_nthreads(nthreads)


def _recording_pool(monkeypatch, module) -> tuple[list[int], set[int]]:
    """The sizes of the thread pools ``module`` makes, and the threads that ran their work."""
    sizes: list[int] = []
    threads: set[int] = set()

    class Recording(ThreadPoolExecutor):
        def __init__(self, max_workers=None, *args, **kwargs):
            sizes.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

        def submit(self, fn, /, *args, **kwargs):
            def run(*a, **k):
                threads.add(threading.get_ident())
                threading.Event().wait(0.002)  # long enough for every thread to take work
                return fn(*a, **k)

            return super().submit(run, *args, **kwargs)

    monkeypatch.setattr(module, "ThreadPoolExecutor", Recording)
    return sizes, threads


@pytest.mark.parametrize("jobs", [1, 3])
def test_convert_runs_chunk_work_on_jobs_threads(jobs, tmp_path, monkeypatch, restore_threads):
    from fairio_tools.convert import converter

    sizes, threads = _recording_pool(monkeypatch, converter)
    image = np.random.default_rng(0).integers(0, 255, (8, 256, 256), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "stack.tif", image, metadata={"axes": "ZYX"})
    result = invoke_fairio(
        "convert", tmp_path / "stack.tif", tmp_path / "out.zarr",
        "--chunks", "1,64,64", "--jobs", jobs, "--json", tmp_path / "report.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sizes == [jobs]
    assert len(threads) == 1 if jobs == 1 else len(threads) > 1
    assert os.environ["OMP_NUM_THREADS"] == os.environ["BLOSC_NTHREADS"] == str(jobs)


@pytest.mark.parametrize("jobs", [1, 3])
def test_validate_deep_decodes_on_jobs_workers(jobs, shared_data, monkeypatch, restore_threads):
    from fairio_tools.ngff import chunks

    sizes, threads = _recording_pool(monkeypatch, chunks)
    result = invoke_fairio("validate-ngff", shared_data / COINS, "--deep", "-j", jobs)
    assert result.returncode == 0, result.stdout
    assert threads and sizes and set(sizes) == {jobs}  # a pool per array, each of --jobs


def test_validate_deep_decodes_large_arrays_in_jobs_processes(
    shared_data, monkeypatch, restore_threads
):
    """Arrays of many chunks are decoded by a pool of --jobs processes, not in this one."""
    from concurrent.futures import ProcessPoolExecutor

    from fairio_tools.ngff import chunks

    sizes: list[int] = []
    workers: set[int] = set()

    class Recording(ProcessPoolExecutor):
        def __init__(self, max_workers=None, *args, **kwargs):
            sizes.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

        def submit(self, fn, /, *args, **kwargs):
            future = super().submit(fn, *args, **kwargs)
            workers.update(self._processes or ())  # the processes started for the work
            return future

    monkeypatch.setattr(chunks, "ProcessPoolExecutor", Recording)
    monkeypatch.setattr(chunks, "PROCESS_POOL_MIN_CHUNKS", 1)  # coins has few chunks
    result = invoke_fairio("validate-ngff", shared_data / COINS, "--deep", "-j", 2)
    assert result.returncode == 0, result.stdout
    assert sizes and set(sizes) == {2}  # a pool per array, each of --jobs processes
    assert workers and os.getpid() not in workers


def test_predict_opens_onnx_sessions_with_jobs_threads_and_no_memory_pattern(
    tmp_path, monkeypatch, restore_threads
):
    import onnxruntime

    seen = []
    original = onnxruntime.InferenceSession.__init__

    def recording(self, path_or_bytes, sess_options=None, *args, **kwargs):
        seen.append(sess_options)
        original(self, path_or_bytes, sess_options, *args, **kwargs)

    monkeypatch.setattr(onnxruntime.InferenceSession, "__init__", recording)
    model = build_mean_filter_package(tmp_path / "package", tmp_path / "model.zip")
    tifffile.imwrite(tmp_path / "image.tif", np.ones((40, 40), np.float32))
    args = ["predict", model, tmp_path / "image.tif", tmp_path / "out.tif", "--jobs", "1"]
    assert invoke_fairio(*args).returncode == 0
    assert seen and all(o is not None for o in seen)
    assert {(o.intra_op_num_threads, o.inter_op_num_threads) for o in seen} == {(1, 1)}
    assert not any(o.enable_mem_pattern for o in seen)  # the arena reuses freed blocks
    seen.clear()
    assert invoke_fairio(*args[:3], tmp_path / "again.tif").returncode == 0
    assert {o.intra_op_num_threads for o in seen} == {default_jobs()}  # one per core


def test_model_test_runs_the_model_on_jobs_threads(tmp_path, monkeypatch, restore_threads):
    import onnxruntime

    threads = []
    original = onnxruntime.InferenceSession.__init__

    def recording(self, path_or_bytes, sess_options=None, *args, **kwargs):
        threads.append(sess_options and sess_options.intra_op_num_threads)
        original(self, path_or_bytes, sess_options, *args, **kwargs)

    monkeypatch.setattr(onnxruntime.InferenceSession, "__init__", recording)
    model = build_mean_filter_package(tmp_path / "package", tmp_path / "model.zip")
    assert invoke_fairio("model-test", model, "--jobs", "2").returncode == 0
    assert threads and set(threads) == {2}


def test_export_compresses_tiles_on_jobs_threads(shared_data, tmp_path, monkeypatch):
    workers = []
    original = tifffile.TiffWriter.write

    def recording(self, *args, **kwargs):
        workers.append(kwargs.get("maxworkers"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(tifffile.TiffWriter, "write", recording)
    result = invoke_fairio("export-tiff", shared_data / COINS, tmp_path / "c.ome.tif", "-j", "1")
    assert result.returncode == 0, result.stderr
    assert workers and set(workers) == {1}


def test_label_bounds_zarr_and_blosc_threads(shared_data, tmp_path, restore_threads):
    import zarr
    from numcodecs import blosc

    result = invoke_fairio("label", shared_data / COINS, tmp_path / "l.zarr", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert zarr.config.get("threading.max_workers") == 1
    assert blosc.get_nthreads() == 1


def test_galaxy_memory_bounds_what_is_decoded_whole(tmp_path):
    image = np.zeros((1024, 2048), np.uint8)  # 2 MiB of pixels, 8 MiB of int32 labels
    image[100:200, 100:200] = 255
    tifffile.imwrite(tmp_path / "image.tif", image)
    small = run_bounded("label", tmp_path / "image.tif", tmp_path / "a.tif", "--tiff",
                        env={"GALAXY_MEMORY_MB": "16"})  # fmt: skip
    assert small.returncode == 2
    assert "FAIRIO_MAX_DECODED_BYTES=4194304" in small.stderr
    large = run_bounded("label", tmp_path / "image.tif", tmp_path / "b.tif", "--tiff",
                        env={"GALAXY_MEMORY_MB": "64"})  # fmt: skip
    assert large.returncode == 0, large.stderr
    both = {"GALAXY_MEMORY_MB": "16", "FAIRIO_MAX_DECODED_BYTES": "1e9"}
    explicit = run_bounded("label", tmp_path / "image.tif", tmp_path / "c.tif", "--tiff", env=both)
    assert explicit.returncode == 2  # an admin's explicit limit wins, and must be an integer
    assert "FAIRIO_MAX_DECODED_BYTES" in explicit.stderr
