"""validate-ngff on a store of 128,000 chunks and on a 384-well plate, next to ome-zarr-models.

Run: ``.venv/bin/python benchmarks/validate.py [--workdir DIR] [--repeat N] [--only image|plate]``

Writes (once, then reuses) an NGFF 0.4 image of 20480 x 25600 uint8 pixels in 64 x 64 chunks
(320 x 400 = 128,000 chunks, one resolution level) and an NGFF 0.4 plate of 16 x 24 wells,
one field of view each (two levels), and measures, each in a fresh process:

- ``fairio validate-ngff STORE`` (metadata, schemas, semantic checks with the SHOULD rules,
  sample chunks);
- ``ome-zarr-models validate STORE`` (its own metadata validation);
- ``fairio validate-ngff --deep STORE`` (every chunk of the image decoded): chunks/s and CPU
  use, where a CPU use above 100 % means more than one core worked.

The target (issue 15): fairio's default mode takes at most 0.5 x ome-zarr-models' time on both.
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


ROWS, COLUMNS = "ABCDEFGHIJKLMNOP", [str(c) for c in range(1, 25)]  # 384 wells


def write_plate(path: Path) -> None:
    import numpy as np
    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

    fmt = FormatV04()
    root = zarr.open_group(path, mode="w", zarr_format=2)
    wells = [f"{r}/{c}" for r in ROWS for c in COLUMNS]
    write_plate_metadata(root, list(ROWS), COLUMNS, wells, fmt=fmt, name="384 wells")
    data = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    for well in wells:
        group = root.require_group(well)
        write_well_metadata(group, [{"path": "0"}], fmt=fmt)
        write_image(data, group.require_group("0"), scale_factors=(2,), axes="yx", fmt=fmt)


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
    parser.add_argument("--only", choices=["image", "plate"], help="measure one store only")
    parser.add_argument("--write-store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write-plate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_store:
        write_store(args.write_store)
        return
    if args.write_plate:
        write_plate(args.write_plate)
        return
    if args.only != "image":
        plate_ratio(args.workdir, args.repeat)
    if args.only != "plate":
        image_ratio(args.workdir, args.repeat)


def plate_ratio(workdir: Path, repeat: int) -> None:
    store = workdir / "fairio-benchmark-384-wells.ome.zarr"
    if not (store / "P" / "24" / "0" / "1" / ".zarray").exists():
        print(f"writing {store} ...", file=sys.stderr)
        subprocess.run([sys.executable, __file__, "--write-plate", str(store)], check=True)
    fairio = best_of([str(BIN / "fairio"), "validate-ngff", str(store)], repeat)
    peer = best_of([str(BIN / "ome-zarr-models"), "validate", str(store)], repeat)
    print(f"plate: {store} ({len(ROWS) * len(COLUMNS)} wells), best of {repeat}")
    print(f"{'command':44} {'wall s':>8} {'peak MB':>8} {'exit':>5}")
    for name, result in (("fairio validate-ngff (default)", fairio),
                         ("ome-zarr-models validate", peer)):  # fmt: skip
        print(f"{name:44} {result['wall_s']:8.2f} {result['peak_rss_mb']:8.0f} {result['exit']:5}")
    ratio = fairio["wall_s"] / peer["wall_s"]
    print(f"plate, default mode vs ome-zarr-models: {ratio:.2f}x the time "
          f"({'within' if ratio <= 0.5 else 'ABOVE'} the 0.5x target)")  # fmt: skip


def image_ratio(workdir: Path, repeat: int) -> None:
    args = argparse.Namespace(workdir=workdir, repeat=repeat)
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
    ratio = fairio["wall_s"] / peer["wall_s"]
    print(f"image, default mode vs ome-zarr-models: {ratio:.2f}x the time "
          f"({'within' if ratio <= 0.5 else 'ABOVE'} the 0.5x target)")  # fmt: skip
    print(f"--deep: {read:,} chunks decoded, {read / deep['wall_s']:,.0f} chunks/s, "
          f"CPU use {100 * deep['cpu_s'] / deep['wall_s']:.0f} % of one core")  # fmt: skip


if __name__ == "__main__":
    main()
