"""``fairio convert``: microscopy image to OME-Zarr (NGFF 0.4 or 0.5) with a report."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_json


def _chunks(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int, int]:
    try:
        parts = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected three integers z,y,x, got {value!r}") from None
    if len(parts) != 3:
        raise click.BadParameter(f"expected three integers z,y,x, got {value!r}")
    return parts  # type: ignore[return-value]


@click.command("convert")
@click.argument("image", type=options.existing_file)
@click.argument("output")
@options.ngff_version(experimental=True)
@click.option("--levels", type=int, help="Number of pyramid levels (overrides --min-size).")
@click.option(
    "--min-size",
    type=int,
    help="Add levels while the larger of y, x exceeds this many pixels [default: 256].",
)
@click.option(
    "--downsample",
    type=click.Choice(["mean", "nearest", "mode"]),
    default="mean",
    show_default=True,
    help="How each level is computed from the one above (labels use mode unless nearest).",
)
@click.option(
    "--chunks",
    default="1,1024,1024",
    show_default=True,
    callback=_chunks,
    help="Chunk size in z, y, x.",
)
@click.option(
    "--compression",
    type=click.Choice(["blosc", "zstd", "none"]),
    default="blosc",
    show_default=True,
    help="blosc: Blosc zstd level 5 with shuffle; zstd: Zstandard level 5.",
)
@click.option("--series", default="all", show_default=True, help="Series index, or 'all'.")
@click.option(
    "--layout",
    type=click.Choice(["plate", "series", "image"]),
    default="plate",
    show_default=True,
    help="plate: an NGFF plate (row/column/field, as bioformats2raw) when the OME-XML has a "
    "Plate with WellSamples, loose series otherwise; series: always loose series; image: one "
    "series as the store's root image (no bioformats2raw layout: for viewers such as Vizarr "
    "that open only an image at the root).",
)
@click.option(
    "--plate",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Which plate of the OME-XML to write (one plate per store).",
)
@click.option(
    "--label-image",
    type=options.existing_file,
    help="Integer label image of the same size, written to labels/ of the image.",
)
@click.option("--label-name", default="labels", show_default=True, help="Name of the label image.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--scheduler", help="Address of a Dask distributed scheduler (tcp://host:port).")
@options.source_name
@options.preview_output
@options.jobs
@options.json_output
@options.aliased("--report", dest="json_path")
def command(
    image: Path,
    output: str,
    json_path: Path | None,
    source_name: str | None,
    preview_path: Path | None,
    **choices,
) -> None:
    """Convert IMAGE (TIFF, OME-TIFF, ImageJ TIFF, PNG, JPEG, Zeiss CZI, Leica LIF, or a
    multi-file OME-TIFF as its folder, a zip of it or one of its files) to an OME-Zarr store
    OUTPUT (a folder, or an s3:// URL). The report lists what was carried over and what
    was not. An OME-TIFF of a screen (OME-XML Plate with WellSamples) becomes an NGFF plate.

    Memory: about --jobs x (a source chunk plus its downsampled levels), chunks of at most
    --chunks pixels per plane."""
    from fairio_tools.cli.progress import task_progress
    from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr

    conversion = ConversionOptions(**choices)
    with task_progress("converting") as progress:
        report = convert_to_ome_zarr(image, output, conversion, progress)
    if preview_path is not None:
        from fairio_tools.ngff.preview import write_preview

        write_preview(str(output), preview_path)
    if source_name is not None:
        report.source["path"] = source_name
    write_json(report.to_dict(), json_path)
    for note in report.notes:
        if "multi-file OME-TIFF" in note:
            click.echo(f"fairio: note: {note}", err=True)
