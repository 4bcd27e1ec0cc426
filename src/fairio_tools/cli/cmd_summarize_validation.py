"""``fairio summarize-validation``: one table over many NGFF validation reports."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_json, write_tsv


@click.command("summarize-validation")
@click.option(
    "--report",
    "reports",
    multiple=True,
    required=True,
    nargs=2,
    type=(str, click.Path(path_type=Path)),
    metavar="NAME REPORT",
    help="Image name (e.g. the Galaxy dataset's; characters other than letters, digits, '.', "
    "'_', '-' become '_') and its validate-ngff JSON report (repeatable).",
)
@options.option(
    "--tsv",
    "tsv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the table (one row per image) here.",
)
@options.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write counts and rows as JSON here.",
)
def command(reports: tuple[tuple[str, Path], ...], tsv_path: Path, json_path: Path | None) -> None:
    """Summarize NGFF validation reports: per image the verdict, NGFF version, Zarr
    format, kind, error and warning counts and the first problems."""
    from fairio_tools.ngff.summary import COLUMNS, summarize_reports

    rows = summarize_reports(list(reports))
    write_tsv(COLUMNS, [row.cells() for row in rows], tsv_path)
    if json_path is not None:
        valid = sum(row.valid for row in rows)
        summary = {
            "images": len(rows),
            "valid": valid,
            "invalid": len(rows) - valid,
            "rows": [row.to_dict() for row in rows],
        }
        write_json(summary, json_path)
