"""``fairio image-info``: report series, axes, dtype and calibration of an image."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_json, write_tsv

TSV_HEADER = [
    "series", "name", "axes", "shape", "dtype", "physical_size_z", "physical_size_y",
    "physical_size_x", "time_interval", "channel_names", "ome_xml", "imagej_metadata",
]  # fmt: skip


@click.command("image-info")
@click.argument("image", type=options.existing_file)
@options.json_output
@options.tsv_output
def command(image: Path, json_path: Path | None, tsv_path: Path | None) -> None:
    """Report what IMAGE holds: per series the shape, NGFF axes, dtype, pixel sizes,
    time interval and channel names (TIFF, OME-TIFF, ImageJ TIFF, PNG, JPEG, Zeiss CZI,
    Leica LIF, or a multi-file OME-TIFF as its folder, a zip of it or one of its files)."""
    from fairio_tools.images.info import read_image_info
    from fairio_tools.images.ome_set import unpacked

    with unpacked(image) as source:
        info = read_image_info(source)
    write_json(info.to_dict(), json_path)
    if tsv_path is not None:
        write_tsv(TSV_HEADER, [_row(info, s) for s in info.series], tsv_path)


def _row(info, series) -> list:
    def size(axis: str) -> str:
        quantity = series.physical_sizes.get(axis)
        return "" if quantity is None else f"{quantity.value:g} {quantity.unit or ''}".strip()

    interval = series.time_interval
    return [
        series.index,
        series.name or "",
        "".join(series.axes),
        " x ".join(str(n) for n in series.shape),
        series.dtype,
        size("z"),
        size("y"),
        size("x"),
        "" if interval is None else f"{interval.value:g} {interval.unit or ''}".strip(),
        ", ".join(series.channel_names),
        "yes" if info.has_ome_xml else "no",
        "yes" if info.has_imagej_metadata else "no",
    ]
