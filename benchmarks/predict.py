"""``fairio predict`` against a bare onnxruntime session, on the real U-Net.

1. One 512 x 512 image (the model's own test input), model load excluded: fairio's
   ``Predictor.predict`` (axes, whole-image preprocessing, tiling, postprocessing) against
   the same work done by hand around a bare ``onnxruntime.InferenceSession``.
   Target: <= 1.1 x the bare time.
2. A tiled 2048 x 2048 image, three ways in one run: fairio, ``bioimageio.core``'s blocked
   prediction with the same 512 x 512 blocks, and a bare onnxruntime loop over the same
   tiles (mirrored halo at the border, inner blocks kept). Targets: fairio <= 1.0 x core and
   <= 1.2 x the bare loop; fairio and core agree within 1e-3 everywhere.
3. A tiled 4096 x 4096 image: fairio's time against (number of tiles) x (one bare 512 x 512
   run). Target: throughput >= 0.8 x that.

``--peak-rss`` instead runs each way of 2 once in a process of its own and prints its peak
RSS. Target: fairio <= 1.3 x the bare loop (the bare loop imports neither bioimageio.core nor
the model description, about 117 MiB of fairio's and core's peak).

Run: ``.venv/bin/python benchmarks/predict.py [--repeat N] [--skip-large] [--device cuda]``
or ``... --peak-rss``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT.parent / "shared" / "data" / "models" / "unet2d_nuclei_broad"


def _median_seconds(function, repeat: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true", help="skip the 4096 x 4096 case")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--peak-rss", action="store_true",
        help="peak RSS of each 2048 x 2048 way, each run once in a process of its own",
    )  # fmt: skip
    parser.add_argument("--only", choices=RSS_WAYS, help=argparse.SUPPRESS)  # a --peak-rss child
    args = parser.parse_args()
    if args.peak_rss:
        return _peak_rss_2048(args.device)

    import onnxruntime

    from fairio_tools.models.package import open_model_package
    from fairio_tools.models.predict import Predictor

    providers = ["CUDAExecutionProvider"] if args.device == "cuda" else ["CPUExecutionProvider"]
    options = onnxruntime.SessionOptions()
    options.enable_mem_pattern = args.only != "bare-lean"
    session = onnxruntime.InferenceSession(
        str(MODEL / "weights.onnx"), options, providers=providers
    )
    name = session.get_inputs()[0].name
    image = np.load(MODEL / "test_input.npy")[0, 0]
    expected = np.load(MODEL / "test_output.npy")[0, 0]

    def bare(array: np.ndarray = image) -> np.ndarray:
        normalized = ((array - array.mean()) / (array.std() + 1e-6)).astype(np.float32)
        logits = session.run(None, {name: normalized[None, None]})[0]
        return 1 / (1 + np.exp(-logits))

    def session_only() -> None:
        session.run(None, {name: image[None, None]})

    if args.only in (
        "bare",
        "bare-lean",
    ):  # no bioimage.io model loaded: the bare loop's own footprint
        _ways_2048(None, session, name, image)["bare"]()
        print(_peak_rss_mib())
        return 0
    print(f"onnxruntime {onnxruntime.__version__}, device {args.device}, {args.repeat} repeats")
    with open_model_package(MODEL) as package:
        predictor = Predictor(package, "onnx", args.device)
        if args.only:
            _ways_2048(predictor, session, name, image)[args.only]()
            print(_peak_rss_mib())
            return 0

        def fairio(array: np.ndarray = image) -> np.ndarray:
            return predictor.predict(array, ["y", "x"], "benchmark").data

        error = float(np.abs(fairio()[0] - expected).max())
        t_fairio = _median_seconds(fairio, args.repeat)
        t_bare = _median_seconds(bare, args.repeat)
        t_session = _median_seconds(session_only, args.repeat)
        print("\n512 x 512 (model load excluded), median seconds")
        print(f"  bare onnxruntime session.run only        {t_session:8.3f}")
        print(f"  bare session + normalise + sigmoid       {t_bare:8.3f}")
        print(f"  fairio Predictor.predict                 {t_fairio:8.3f}")
        print(f"  ratio fairio / bare (target <= 1.1)      {t_fairio / t_bare:8.2f}")
        print(f"  max abs error vs test_output.npy         {error:8.1e}")

        _compare_2048(predictor, session, name, image)
        if not args.skip_large:
            big = np.tile(image, (8, 8))
            counts: list[int] = []
            t_big = _median_seconds(
                lambda: counts.append(predictor.predict(big, ["y", "x"], "b").provenance.tiles), 3
            )
            tiles = counts[-1]
            ideal = tiles * t_session
            print("\n4096 x 4096, tiled 512 x 512 with halo 32 (median of 3 after a warm-up)")
            print(f"  tiles                                    {tiles:8d}")
            print(f"  tiles x one bare session.run (s)         {ideal:8.2f}")
            print(f"  fairio Predictor.predict (s)             {t_big:8.2f}")
            print(f"  throughput vs ideal (target >= 0.8)      {ideal / t_big:8.2f}")
            print(f"  megapixels per second                    {big.size / t_big / 1e6:8.2f}")
    print(f"\npeak RSS {_peak_rss_mib():.0f} MiB")
    return 0


WAYS = ("fairio", "core", "bare")
RSS_WAYS = (*WAYS, "bare-lean")


def _peak_rss_2048(device: str) -> int:
    """Each way of :func:`_ways_2048` once, in a fresh process; its peak RSS."""
    import subprocess

    peaks = {}
    for way in RSS_WAYS:
        command = [sys.executable, __file__, "--only", way, "--device", device]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        peaks[way] = float(done.stdout.split()[-1])
    print("\n2048 x 2048, each way once in its own process: peak RSS, MiB")
    for way, peak in peaks.items():
        print(f"  {way:40s} {peak:8.0f}")
    print(f"  ratio fairio / bare (target <= 1.3)      {peaks['fairio'] / peaks['bare']:8.2f}")
    print(f"  ratio fairio / core                      {peaks['fairio'] / peaks['core']:8.2f}")
    print(f"  ratio fairio / bare-lean                 {peaks['fairio'] / peaks['bare-lean']:8.2f}")
    return 0


def _compare_2048(predictor, session, name: str, image: np.ndarray) -> None:
    """fairio, bioimageio.core and a bare loop over the same tiles, on 2048 x 2048."""
    results: dict[str, np.ndarray] = {}
    ways = _ways_2048(predictor, session, name, image, results)
    times = {label: _median_seconds(ways[label], 3) for label in WAYS}
    print("\n2048 x 2048, 512 x 512 tiles with halo 32 (median of 3 after a warm-up), seconds")
    for label, seconds in times.items():
        print(f"  {label:40s} {seconds:8.2f}")
    print(f"  ratio fairio / core (target <= 1.0)      {times['fairio'] / times['core']:8.2f}")
    print(f"  ratio fairio / bare loop (target <= 1.2) {times['fairio'] / times['bare']:8.2f}")
    for peer in ("core", "bare"):
        error = float(np.abs(results["fairio"] - results[peer]).max())
        print(f"  max abs difference fairio vs {peer:10s}  {error:8.1e}")


def _ways_2048(predictor, session, name: str, image: np.ndarray, results=None) -> dict:
    """The three ways to predict 2048 x 2048 over the same tiles; each stores its result in
    ``results``. ``predictor`` None: only the bare loop."""
    from fairio_tools.models import tiling

    big = np.tile(image, (4, 4))
    results = {} if results is None else results

    def fairio() -> None:
        results["fairio"] = predictor.predict(big, ["y", "x"], "b").data[0]

    def core() -> None:
        from bioimageio.core import Sample, Tensor
        from bioimageio.core.digest_spec import get_member_id

        descr = predictor.descr
        input_id, output_id = get_member_id(descr.inputs[0]), get_member_id(descr.outputs[0])
        dims = [a.id for a in descr.inputs[0].axes]
        blocks = {input_id: dict(zip(dims, (1, 1, 512, 512), strict=True))}
        sample = Sample(members={input_id: Tensor.from_numpy(big[None, None], dims=dims)},
                        stat={}, id="b")  # fmt: skip
        out = predictor._pipeline.predict_sample_with_fixed_blocking(sample, blocks)
        results["core"] = out.members[output_id].data.to_numpy()[0, 0]

    def bare() -> None:
        plan = tiling.plan_axis(2048, 512, 32)
        normalized = ((big - big.mean()) / (big.std() + 1e-6)).astype(np.float32)
        padded = np.pad(normalized, 32, mode="symmetric")
        result = np.empty(big.shape, np.float32)
        for ty in plan.tiles:
            for tx in plan.tiles:
                tile = padded[ty.start : ty.start + 512, tx.start : tx.start + 512]
                logits = session.run(None, {name: tile[None, None]})[0][0, 0]
                y0, x0 = ty.keep_start - ty.start + 32, tx.keep_start - tx.start + 32
                height, width = ty.keep_stop - ty.keep_start, tx.keep_stop - tx.keep_start
                result[ty.keep_start : ty.keep_stop, tx.keep_start : tx.keep_stop] = 1 / (
                    1 + np.exp(-logits[y0 : y0 + height, x0 : x0 + width])
                )
        results["bare"] = result

    return {"fairio": fairio, "core": core, "bare": bare}


if __name__ == "__main__":
    sys.exit(main())
