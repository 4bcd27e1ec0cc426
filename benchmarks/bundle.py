"""Benchmark ``fairio bundle create`` (zip) against its peers on the same OME-Zarr store.

Cases, each in its own process so that its peak RSS is its own:

- ``fairio``: the whole bundle: NGFF check, RO-Crate metadata, zip written from the sources
  (Zarr chunks stored, text deflated);
- ``rocrate-write_zip``: the same store as a plain RO-Crate with ``rocrate``'s own
  ``write_zip`` (everything deflated, streamed through an in-memory buffer);
- ``zip -r`` / ``zip -r0``: Info-ZIP on the bare store, deflated / stored (if installed).

    python benchmarks/bundle.py --size 2048 --planes 16     # 16 x 2048 x 2048 uint16 (128 MiB raw)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CASES = ("fairio", "rocrate-write_zip", "zip -r", "zip -r0")


def generate_store(path: Path, size: int, planes: int) -> None:
    """A noisy uint16 z-stack as NGFF 0.4 (Zarr v2, Blosc), written plane by plane."""
    import zarr
    from ome_zarr.format import FormatV04
    from ome_zarr.writer import write_image

    rng = np.random.default_rng(0)
    data = rng.normal(1000, 50, (planes, size, size)).astype(np.uint16)
    data[:, size // 4 : size // 2, size // 4 : size // 2] += 3000
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    write_image(
        data, group, axes="zyx", fmt=FormatV04(), storage_options={"chunks": (1, 1024, 1024)}
    )


def run_case(case: str, store: str, output: str) -> None:
    """Run one case in this process."""
    if case == "fairio":
        from fairio_tools.bundle.create import BundleRequest, create_bundle

        create_bundle(BundleRequest(stores=[Path(store)]), Path(output), as_zip=True)
    elif case == "rocrate-write_zip":
        from rocrate.rocrate import ROCrate

        crate = ROCrate()
        crate.add_dataset(store, dest_path=Path(store).name)
        crate.write_zip(output)
    else:
        raise SystemExit(f"unknown case {case}")


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--planes", type=int, default=16)
    parser.add_argument("--workdir", type=Path, default=Path("build/benchmarks/bundle"))
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        run_case(args.case, args.store, args.output)
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    store = args.workdir / f"stack_{args.planes}x{args.size}.ome.zarr"
    if not store.exists():  # in a child, so that no case inherits the generator's memory
        generate = "from benchmarks.bundle import generate_store as g; from pathlib import Path; "
        generate += f"g(Path({str(store)!r}), {args.size}, {args.planes})"
        subprocess.run([sys.executable, "-c", generate], check=True)
    store_bytes = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    print(
        f"store: {args.planes} x {args.size} x {args.size} uint16, "
        f"{store_bytes / 2**20:.1f} MiB on disk"
    )
    results: dict[str, dict[str, float]] = {}
    for case in CASES:
        output = args.workdir / f"{case.replace(' ', '_')}.zip"
        output.unlink(missing_ok=True)
        if case.startswith("zip"):
            if shutil.which("zip") is None:
                print(f"{case:20s} skipped: Info-ZIP not installed")
                continue
            flags = ["-qr0"] if case.endswith("0") else ["-qr"]
            command = ["zip", *flags, str(output.resolve()), store.name]
            wall, rss = measure(command, store.parent)
        else:
            command = [
                sys.executable,
                __file__,
                "--case",
                case,
                "--store",
                str(store),
                "--output",
                str(output),
            ]
            wall, rss = measure(command, Path.cwd())
        results[case] = {
            "wall_s": wall,
            "peak_rss_mib": rss,
            "zip_mib": output.stat().st_size / 2**20,
        }
    base = results["fairio"]["wall_s"]
    for case, r in results.items():
        print(
            f"{case:20s} {r['wall_s']:7.2f} s  {r['peak_rss_mib']:7.1f} MiB RSS  "
            f"{r['zip_mib']:7.1f} MiB zip  x{r['wall_s'] / base:.2f} of fairio's time"
        )
    (args.workdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
