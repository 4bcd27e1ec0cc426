"""``fairio plate-summary``: objects and intensity per well of an NGFF plate, and a heat-map."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.cmd_label import _threshold
from fairio_tools.cli.output import write_bytes_atomic, write_json, write_tsv

TABLE_COLUMNS = [
    "well", "row", "column", "fields", "objects", "objects_per_field", "mean_object_area_px",
    "mean_intensity",
]  # fmt: skip


@click.command("plate-summary")
@click.argument("plate", type=options.store_path)
@click.option("--table", "table_path", type=click.Path(path_type=Path), required=True,
              help="Write the per-well table (TSV) here.")  # fmt: skip
@click.option("--heatmap", "heatmap_path", type=click.Path(path_type=Path),
              help="Write the plate heat-map (PNG) here.")  # fmt: skip
@click.option(
    "--metric",
    type=click.Choice(["objects", "objects_per_field", "mean_intensity"]),
    default="objects",
    show_default=True,
    help="The per-well value the heat-map shows.",
)
@click.option(
    "--threshold",
    default="otsu",
    show_default=True,
    help="'otsu' (computed per field) or a value: pixels above it are foreground.",
)
@click.option("--channel", type=click.IntRange(min=0), default=0, show_default=True,
              help="Channel to threshold and measure.")  # fmt: skip
@click.option("--min-size", type=click.IntRange(min=0), default=0, show_default=True,
              help="Drop objects smaller than this many pixels.")  # fmt: skip
@click.option("--connectivity", type=click.IntRange(min=1), default=1, show_default=True,
              help="1: neighbours share a face; 2 or 3: also edges/corners.")  # fmt: skip
@options.jobs
@options.json_output
def command(
    plate: Path,
    table_path: Path,
    heatmap_path: Path | None,
    metric: str,
    threshold: str,
    channel: int,
    min_size: int,
    connectivity: int,
    jobs: int,
    json_path: Path | None,
) -> None:
    """Label every field of view of the NGFF plate PLATE (threshold + connected components,
    as `fairio label`: Otsu per field or one value, first time point, full resolution) and
    write per well: fields, objects, objects per field, mean object area and the mean
    intensity inside objects; optionally a heat-map of one of them over the plate.

    Memory: one field's level 0 at a time (FAIRIO_MAX_DECODED_BYTES), about 9 bytes per
    pixel while labelling."""
    from fairio_tools.labels.plate_heatmap import heatmap_png
    from fairio_tools.labels.plate_summary import summarize_plate

    summary = summarize_plate(
        str(plate),
        channel=channel,
        threshold=_threshold(threshold),
        min_size=min_size,
        connectivity=connectivity,
    )
    rows = [[row[key] for key in TABLE_COLUMNS] for row in summary.table()]
    write_tsv(TABLE_COLUMNS, rows, table_path)
    if heatmap_path is not None:
        write_bytes_atomic(heatmap_path, heatmap_png(summary, metric))
    write_json(summary.to_dict(), json_path)
