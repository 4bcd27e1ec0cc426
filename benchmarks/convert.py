"""Benchmark ``fairio convert`` against its peers on the same input, pyramid, chunks and codec.

Every case writes NGFF 0.4 (Zarr v2) with 4 levels (1, 2, 4, 8), chunks (1, 1024, 1024) and
Blosc zstd level 5 with shuffle, from the same uint16 TIFF read lazily. Each case runs in its
own process so that its peak RSS is its own.

    python benchmarks/convert.py --size 2048 --repeat 7   # 3 x 2048 x 2048 (24 MiB)
    python benchmarks/convert.py --size 16384         # 3 x 16384 x 16384 tiled BigTIFF (1.5 GiB)

The input is generated tile by tile on disk (never whole in memory) and kept in --workdir.

    python benchmarks/convert.py --vendor ../shared/data/images/vendor/*.czi *.lif

times opening each Zeiss CZI / Leica LIF file, reading its description (sizes, channel
names) and every pixel of every series, through fairio's image layer and through its peers
in the same run: bioio's plugin for the format (bioio-czi, on pylibCZIrw; bioio-lif, on
liffile), liffile itself and the independent readers aicspylibczi and readlif; all test-only
peers (GPL, LGPL or BSD), never imported by the package. Each read is of a fresh copy
of the file (no reader keeps anything from an earlier read), best of 7, as fairio / peer.

    python benchmarks/convert.py --vendor ../shared/data/images/vendor/*.lif --synthetic

adds a CZI and a LIF of 2 channels x 16 planes of 1024 x 1024 (32 MiB each), written by the
test suite's CZI and LIF writers into --workdir: bioio-lif cannot read the one real LIF file.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
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

    info = read_image_info(path)
    _ = [(s.physical_sizes, s.channel_names) for s in info.series]
    return sum(read_series(path, i)[0].nbytes for i in range(len(info.series)))


def _bioio_read(path: Path) -> int:
    import bioio

    if path.suffix.lower() == ".czi":
        from bioio_czi import Reader
    else:
        from bioio_lif import Reader
    image = bioio.BioImage(path, reader=Reader)
    total = 0
    for scene in image.scenes:
        image.set_scene(scene)
        _ = image.physical_pixel_sizes, image.channel_names
        total += image.data.nbytes
    return total


def _aicspylibczi_read(path: Path) -> int:
    import aicspylibczi

    czi = aicspylibczi.CziFile(str(path))
    _ = czi.meta, czi.get_dims_shape()
    return czi.read_image()[0].nbytes


def _liffile_read(path: Path) -> int:
    import liffile

    with liffile.LifFile(path) as lif:
        return sum(image.asarray().nbytes + len(image.coords) for image in lif.images)


def _readlif_read(path: Path) -> int:
    from readlif.reader import LifFile

    total = 0
    for image in LifFile(str(path)).get_iter_image():
        dims, _ = image.dims_n, image.scale
        for c in range(image.channels):
            for t in range(dims.get(4, 1)):
                for y in range(dims.get(2, 1) if 3 in dims else 1):
                    total += len(image.get_plane(c=c, requested_dims={4: t, 2: y}).tobytes())
    return total


VENDOR_PEERS = {
    ".czi": {"bioio-czi": _bioio_read, "aicspylibczi": _aicspylibczi_read},
    ".lif": {"bioio-lif": _bioio_read, "liffile": _liffile_read, "readlif": _readlif_read},
}


def _best(read, path: Path, workdir: Path, repeats: int = 7) -> float | str:
    """Best wall time of ``read`` on fresh copies of ``path``, or why it failed."""
    times = []
    for n in range(repeats + 1):  # the first read warms imports and the page cache
        copy = workdir / f"{n}-{path.name}"
        shutil.copyfile(path, copy)
        started = time.perf_counter()
        try:
            read(copy)
        except Exception as error:  # a peer that cannot read the file: say why
            return f"fails: {type(error).__name__}: {str(error)[:60]}"
        finally:
            elapsed = time.perf_counter() - started
            copy.unlink()
        times.append(elapsed)
    return min(times[1:])


def synthetic_vendor_files(workdir: Path) -> list[Path]:
    """A CZI and a LIF of the same 2 x 16 x 1024 x 1024 uint8 stack, made once in ``workdir``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.czi_synthetic import Tile, write_czi
    from tests.lif_synthetic import Dimension, Image, write_lif

    stack = np.random.default_rng(0).integers(0, 256, (16, 2, 1024, 1024), dtype=np.uint8)
    czi, lif = workdir / "synthetic-stack.czi", workdir / "synthetic-stack.lif"
    if not czi.exists():
        tiles = [Tile(0, 0, stack[z, c], c=c, z=z) for z in range(16) for c in range(2)]
        write_czi(czi, tiles, channels=["a", "b"], z_step_m=1e-6)
    if not lif.exists():
        x, y = Dimension(1, 1024, 1.023e-4), Dimension(2, 1024, 1.023e-4)  # 0.1 µm
        z = Dimension(3, 16, 1.5e-5)
        write_lif(lif, [Image("stack", stack, x, y, [z], ["Green", "Red"])])
    return [czi, lif]


def vendor_reads(paths: list[Path], workdir: Path) -> None:
    """Print fairio's and each peer's best time to describe and read all of each file."""
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'file':<28} {'reader':<13} {'time (ms)':>10} {'fairio / reader':>16}")
    for path in paths:
        ours = _best(_fairio_read, path, workdir)
        assert isinstance(ours, float), ours
        print(f"{path.name:<28} {'fairio':<13} {ours * 1e3:>10.2f} {'':>16}")
        for name, read in VENDOR_PEERS[path.suffix.lower()].items():
            theirs = _best(read, path, workdir)
            if isinstance(theirs, str):
                print(f"{'':<28} {name:<13} {theirs}")
            else:
                ratio = ours / theirs
                print(f"{'':<28} {name:<13} {theirs * 1e3:>10.2f} {ratio:>16.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="width and height in pixels")
    parser.add_argument("--workdir", type=Path, default=Path("build/benchmark-convert"))
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds over the cases; each case's median is shown"
    )
    parser.add_argument("--run", nargs=3, metavar=("CASE", "SOURCE", "OUTPUT"), help="internal")
    parser.add_argument("--vendor", nargs="*", type=Path, help="CZI/LIF files to read instead")
    parser.add_argument(
        "--synthetic", action="store_true", help="with --vendor: add a 32 MiB CZI and LIF"
    )
    args = parser.parse_args()
    if args.vendor is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        extra = synthetic_vendor_files(args.workdir) if args.synthetic else []
        vendor_reads([*args.vendor, *extra], args.workdir)
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
    runs: dict[str, list[dict]] = {}
    for _ in range(args.repeat):  # rounds, so that a busy moment hits every case alike
        for case in args.cases.split(","):
            measured = _measure(case, source, args.workdir)
            if measured is not None:
                runs.setdefault(case, []).append(measured)
    results = {
        case: {
            "wall_s": statistics.median(r["wall_s"] for r in measured),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in measured),
        }
        for case, measured in runs.items()
    }
    if args.repeat > 1:
        print(f"median wall of {args.repeat} rounds, highest peak RSS")
    fairio = results.get("fairio")
    print(f"{'case':<20} {'wall (s)':>9} {'peak RSS (MiB)':>15} {'fairio / case':>14}")
    for case, result in results.items():
        ratio = f"{fairio['wall_s'] / result['wall_s']:.2f}" if fairio else "-"
        print(f"{case:<20} {result['wall_s']:>9.2f} {result['peak_rss_mib']:>15.0f} {ratio:>14}")


if __name__ == "__main__":
    main()
