"""Benchmark ``fairio convert`` against its peers on the same input, pyramid, chunks and codec.

Every case writes NGFF 0.4 (Zarr v2) with 4 levels (1, 2, 4, 8), chunks (1, 1024, 1024) and
Blosc zstd level 5 with shuffle, from the same uint16 TIFF read lazily. Each case runs in its
own process so that its peak RSS is its own.

    python benchmarks/convert.py --size 2048          # 3 x 2048 x 2048 (24 MiB)
    python benchmarks/convert.py --size 16384         # 3 x 16384 x 16384 tiled BigTIFF (1.5 GiB)

The input is generated tile by tile on disk (never whole in memory) and kept in --workdir.

    python benchmarks/convert.py --vendor ../shared/data/images/vendor/*.czi *.lif

times reading every pixel of each Zeiss CZI / Leica LIF file through fairio's image layer
against the readers bioio's plugins are built on (aicspylibczi for bioio-czi, readlif for
bioio-lif; GPL, used here only as peers), best of 5 in one process, as a ratio.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CHUNKS = (1, 1024, 1024)
CASES = ("plain-zarr-level0", "fairio", "ome-zarr-py-dask", "ngff-zarr")
TILE = 512


def generate_input(path: Path, size: int, channels: int = 3) -> None:
    """A tiled uint16 (Big)TIFF with smooth structure plus noise, written tile by tile."""
    import tifffile

    rng = np.random.default_rng(0)
    ramp = np.add.outer(np.arange(TILE), np.arange(TILE)).astype(np.uint16)

    def tiles():
        for channel in range(channels):
            for top in range(0, size, TILE):
                for left in range(0, size, TILE):
                    noise = rng.integers(0, 256, (TILE, TILE), dtype=np.uint16)
                    yield ramp * (channel + 1) + (top + left) // 64 + noise

    tifffile.imwrite(
        path,
        tiles(),
        shape=(channels, size, size),
        dtype=np.uint16,
        tile=(TILE, TILE),
        bigtiff=size * size * channels * 2 > 2**31,
        photometric="minisblack",
        metadata={"axes": "CYX"},
    )


def _lazy_input(path: str):
    import dask.array as da
    import tifffile
    import zarr

    return da.from_zarr(zarr.open_array(tifffile.imread(path, aszarr=True), mode="r")).rechunk(
        CHUNKS
    )


def _blosc():
    import numcodecs

    return numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE)


def run_case(case: str, source: str, output: str) -> None:
    """Run one case in this process and print its wall time and peak RSS as JSON."""
    start = time.perf_counter()
    if case == "fairio":
        from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr

        options = ConversionOptions(ngff_version="0.4", levels=4, chunks=CHUNKS, series="0")
        convert_to_ome_zarr(source, output, options)
    elif case == "plain-zarr-level0":
        import dask.array as da
        import zarr

        image = _lazy_input(source)
        target = zarr.create_array(
            output,
            shape=image.shape,
            chunks=CHUNKS,
            dtype=image.dtype,
            zarr_format=2,
            compressors=_blosc(),
            chunk_key_encoding={"name": "v2", "separator": "/"},
        )
        da.store(image, target, lock=False)
    elif case == "ome-zarr-py-dask":
        import zarr
        from ome_zarr.format import FormatV04
        from ome_zarr.writer import write_image

        group = zarr.open_group(output, mode="w", zarr_format=2)
        write_image(
            _lazy_input(source),
            group,
            scale_factors=(2, 4, 8),
            axes="cyx",
            fmt=FormatV04(),
            storage_options={"chunks": CHUNKS, "compressor": _blosc()},
        )
    elif case == "ngff-zarr":
        import ngff_zarr as nz

        image = nz.to_ngff_image(_lazy_input(source), dims=["c", "y", "x"])
        multiscales = nz.to_multiscales(
            image, scale_factors=[2, 4, 8], chunks={"c": 1, "y": 1024, "x": 1024}
        )
        nz.to_ngff_zarr(output, multiscales, version="0.4", compressor=_blosc())
    else:
        raise SystemExit(f"unknown case {case}")
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"case": case, "wall_s": wall, "peak_rss_mib": peak_kib / 1024}))


def _measure(case: str, source: Path, workdir: Path) -> dict | None:
    output = workdir / f"{case}.zarr"
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, __file__, "--run", case, str(source), str(output)]
    result = subprocess.run(command, capture_output=True, text=True)
    shutil.rmtree(output, ignore_errors=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        print(f"{case}: failed ({last})", file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def _fairio_read(path: Path) -> int:
    from fairio_tools.images.info import read_image_info
    from fairio_tools.images.pixels import read_series

    return sum(read_series(path, i)[0].nbytes for i in range(len(read_image_info(path).series)))


def _peer_read(path: Path) -> int:
    if path.read_bytes()[:10] == b"ZISRAWFILE":
        import aicspylibczi

        return aicspylibczi.CziFile(str(path)).read_image()[0].nbytes
    from readlif.reader import LifFile

    total = 0
    for image in LifFile(str(path)).get_iter_image():
        dims = image.dims_n
        for c in range(image.channels):
            for t in range(dims.get(4, 1)):
                for y in range(dims.get(2, 1) if 3 in dims else 1):
                    plane = image.get_plane(c=c, requested_dims={4: t, 2: y})
                    total += len(plane.tobytes())
    return total


def _best(read, path: Path, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        read(path)
        times.append(time.perf_counter() - started)
    return min(times)


def vendor_reads(paths: list[Path]) -> None:
    """Print fairio's and the peer reader's best time to read every pixel of each file."""
    print(f"{'file':<32} {'fairio (s)':>11} {'peer (s)':>9} {'fairio / peer':>14}")
    for path in paths:
        _fairio_read(path), _peer_read(path)  # warm imports and the page cache
        ours, theirs = _best(_fairio_read, path), _best(_peer_read, path)
        print(f"{path.name:<32} {ours:>11.3f} {theirs:>9.3f} {ours / theirs:>14.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="width and height in pixels")
    parser.add_argument("--workdir", type=Path, default=Path("build/benchmark-convert"))
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset")
    parser.add_argument("--run", nargs=3, metavar=("CASE", "SOURCE", "OUTPUT"), help="internal")
    parser.add_argument("--vendor", nargs="+", type=Path, help="CZI/LIF files to read instead")
    args = parser.parse_args()
    if args.vendor:
        vendor_reads(args.vendor)
        return
    if args.run:
        run_case(*args.run)
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    source = args.workdir / f"input-3x{args.size}x{args.size}.tif"
    if not source.exists():
        started = time.perf_counter()
        generate_input(source, args.size)
        print(f"generated {source} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    size_mib = source.stat().st_size / 2**20
    print(f"input: 3 x {args.size} x {args.size} uint16, {size_mib:.0f} MiB, tiled {TILE}")
    print("NGFF 0.4, levels 1/2/4/8, chunks (1, 1024, 1024), Blosc zstd 5 + shuffle\n")
    results = {}
    for case in args.cases.split(","):
        measured = _measure(case, source, args.workdir)
        if measured is not None:
            results[case] = measured
    fairio = results.get("fairio")
    print(f"{'case':<20} {'wall (s)':>9} {'peak RSS (MiB)':>15} {'fairio / case':>14}")
    for case, result in results.items():
        ratio = f"{fairio['wall_s'] / result['wall_s']:.2f}" if fairio else "-"
        print(f"{case:<20} {result['wall_s']:>9.2f} {result['peak_rss_mib']:>15.0f} {ratio:>14}")


if __name__ == "__main__":
    main()
