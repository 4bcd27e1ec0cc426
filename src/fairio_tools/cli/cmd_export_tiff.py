"""``fairio export-tiff``: one image of an OME-Zarr store to a pyramidal OME-TIFF."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_json


@click.command("export-tiff")
@click.argument("store", type=options.store_path)
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--series", type=int, default=0, show_default=True, help="Image (series) index.")
@click.option(
    "--compression",
    type=click.Choice(["zlib", "zstd", "none"]),
    default="zlib",
    show_default=True,
    help="TIFF compression of the tiles.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@options.jobs
@options.json_output
def command(
    store: Path,
    output: Path,
    series: int,
    compression: str,
    overwrite: bool,
    jobs: int,
    json_path: Path | None,
) -> None:
    """Write image SERIES of the OME-Zarr STORE (NGFF 0.4 or 0.5) to OUTPUT as a pyramidal
    OME-TIFF, keeping pixel sizes and channel names."""
    from fairio_tools.convert.ome_tiff import export_ome_tiff

    summary = export_ome_tiff(store, output, series, compression, overwrite, jobs)
    write_json(summary, json_path)
