"""validate-ngff on a store of 128,000 chunks, next to ome-zarr-models' own validator.

Run: ``.venv/bin/python benchmarks/validate.py [--workdir DIR] [--repeat N]``

Writes (once, then reuses) an NGFF 0.4 image of 20480 x 25600 uint8 pixels in 64 x 64 chunks
(320 x 400 = 128,000 chunks, one resolution level) and measures, each in a fresh process:

- ``fairio validate-ngff STORE`` (metadata, schemas, semantic checks, sample chunks);
- ``ome-zarr-models validate STORE`` (its own metadata validation);
- ``fairio validate-ngff --deep STORE`` (every chunk decoded): chunks/s and CPU use, where a
  CPU use above 100 % means more than one core worked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SHAPE = (20480, 25600)
CHUNKS = (64, 64)


def write_store(path: Path) -> None:
    import numpy as np
    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image

    root = zarr.open_group(path, mode="w", zarr_format=2)
    y = np.arange(SHAPE[0], dtype=np.uint32)[:, None]
    x = np.arange(SHAPE[1], dtype=np.uint32)[None, :]
    data = ((y * 7 + x * 3) % 251).astype(np.uint8)  # no chunk is empty: all are written
    write_image(
        data, root, scale_factors=(), axes="yx", fmt=FormatV04(),
        storage_options={"chunks": CHUNKS},
    )  # fmt: skip


def measure(command: list[str]) -> dict:
    """Wall time, CPU time and peak RSS of one command run in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stdout, stderr = process.communicate()
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "exit": os.waitstatus_to_exitcode(status),
        "output": (stdout + stderr).decode(errors="replace").strip().splitlines()[:2],
    }


def best_of(command: list[str], repeat: int) -> dict:
    runs = [measure(command) for _ in range(repeat)]
    return min(runs, key=lambda r: r["wall_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_store:
        write_store(args.write_store)
        return
    store = args.workdir / "fairio-benchmark-128k-chunks.ome.zarr"
    if not (store / "0" / ".zarray").exists():
        print(f"writing {store} ...", file=sys.stderr)
        # in its own process, so that this one stays small (children inherit its peak RSS)
        subprocess.run([sys.executable, __file__, "--write-store", str(store)], check=True)
    chunks = (SHAPE[0] // CHUNKS[0]) * (SHAPE[1] // CHUNKS[1])
    report = args.workdir / "fairio-benchmark-report.json"
    fairio = best_of([str(BIN / "fairio"), "validate-ngff", str(store)], args.repeat)
    peer = best_of([str(BIN / "ome-zarr-models"), "validate", str(store)], args.repeat)
    deep = measure(
        [str(BIN / "fairio"), "validate-ngff", "--deep", str(store), "--report-json", str(report)]
    )
    read = json.loads(report.read_text())["chunks_read"]
    print(f"store: {store} ({chunks:,} chunks of {CHUNKS[0]}x{CHUNKS[1]} uint8), "
          f"{os.cpu_count()} CPU cores, best of {args.repeat}")  # fmt: skip
    print(f"{'command':44} {'wall s':>8} {'peak MB':>8} {'exit':>5}")
    for name, result in (
        ("fairio validate-ngff (default)", fairio),
        ("ome-zarr-models validate", peer),
        ("fairio validate-ngff --deep", deep),
    ):
        print(f"{name:44} {result['wall_s']:8.2f} {result['peak_rss_mb']:8.0f} {result['exit']:5}")
    print(f"default mode vs ome-zarr-models: {fairio['wall_s'] / peer['wall_s']:.2f}x the time "
          f"({'no slower' if fairio['wall_s'] <= peer['wall_s'] else 'SLOWER'})")  # fmt: skip
    print(f"--deep: {read:,} chunks decoded, {read / deep['wall_s']:,.0f} chunks/s, "
          f"CPU use {100 * deep['cpu_s'] / deep['wall_s']:.0f} % of one core")  # fmt: skip


if __name__ == "__main__":
    main()
