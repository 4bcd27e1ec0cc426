"""One bound on the threads a command uses (``--jobs``, Galaxy's ``${GALAXY_SLOTS}``).

Our own pools take the bound as an argument; :func:`limit_threads` passes it to the pools of
the libraries underneath (OpenMP/BLAS, Blosc, Zarr), and :func:`onnx_session_options` to
onnxruntime sessions that bioimageio.core opens without options.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "BLOSC_NTHREADS",
    "ZARR_THREADING__MAX_WORKERS",
)
"""Read by OpenMP and BLAS builds (numpy, torch), c-blosc and Zarr when they start."""


def default_jobs() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def limit_threads(jobs: int) -> None:
    """Bound every thread pool of this process's libraries to ``jobs`` threads."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(jobs)
    if "zarr" in sys.modules:  # imported already: its configuration was read
        import zarr

        zarr.config.set({"threading.max_workers": jobs})
    if "numcodecs" in sys.modules:
        from numcodecs import blosc

        blosc.set_nthreads(jobs)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(jobs)


@contextmanager
def onnx_session_options(jobs: int | None) -> Iterator[None]:
    """Within the block, onnxruntime sessions opened without options run ``jobs`` threads
    (one operator at a time, each on at most ``jobs`` threads; ``None``: the runtime's
    default) and plan no memory pattern.

    A memory pattern is one block sized for every activation of a run, planned again for
    each new input shape; without it the arena reuses the blocks it freed. On the 2048 x 2048
    nuclei U-Net (512 x 512 tiles) peak RSS drops by about 85 MiB at the same speed
    (``benchmarks/predict.py --peak-rss``).
    """
    import onnxruntime

    original = onnxruntime.InferenceSession

    class BoundedSession(original):  # type: ignore[misc, valid-type]
        def __init__(self, path_or_bytes, sess_options=None, *args, **kwargs) -> None:
            if sess_options is None:
                sess_options = onnxruntime.SessionOptions()
                sess_options.enable_mem_pattern = False
                if jobs is not None:
                    sess_options.intra_op_num_threads = jobs
                    sess_options.inter_op_num_threads = 1
                    sess_options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            super().__init__(path_or_bytes, sess_options, *args, **kwargs)

    onnxruntime.InferenceSession = BoundedSession  # type: ignore[misc]
    try:
        yield
    finally:
        onnxruntime.InferenceSession = original  # type: ignore[misc]


@contextmanager
def model_threads(weight_format: str, jobs: int | None) -> Iterator[None]:
    """Bound the runtime of ``weight_format`` weights to ``jobs`` threads: onnxruntime
    sessions opened within the block, torch for the rest of the process, TensorFlow from its
    start (it fixes its pools then: a process keeps its first bound)."""
    if jobs is not None and weight_format in ("torchscript", "pytorch_state_dict"):
        import torch

        torch.set_num_threads(jobs)
    if jobs is not None and weight_format in ("keras_hdf5", "tensorflow_saved_model_bundle"):
        import tensorflow as tf

        threading = tf.config.threading
        if threading.get_intra_op_parallelism_threads() != jobs:
            try:
                threading.set_intra_op_parallelism_threads(jobs)
                threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:  # TensorFlow started already, with its first bound
                pass
    if weight_format != "onnx":
        yield
        return
    with onnx_session_options(jobs):
        yield
