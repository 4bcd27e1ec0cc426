"""``fairio validate-ngff``: check an OME-Zarr store against the NGFF specification."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import echo_findings, write_json, write_text_atomic


@click.command("validate-ngff")
@click.argument("store", type=options.store_path)
@click.option(
    "--deep",
    is_flag=True,
    help="Read and decode every chunk (default: metadata and a sample of chunks).",
)
@options.jobs
@click.option("--name", help="Name of the store in the reports (default: its folder name).")
@options.json_output
@options.aliased("--report-json", dest="json_path")
@options.markdown_output
@options.aliased("--report-md", dest="markdown_path")
@click.pass_context
def command(
    ctx: click.Context,
    store: Path,
    deep: bool,
    jobs: int,
    name: str | None,
    json_path: Path | None,
    markdown_path: Path | None,
) -> None:
    """Validate the OME-Zarr STORE (NGFF 0.4 or 0.5: image, labels, plate, well).

    Checks the official NGFF JSON Schemas (offline) and what they cannot express: dataset
    paths, array ranks, scales, pyramid order, axis order, omero channels, labels, plate
    layout and chunks; --deep decodes every chunk on --jobs processes. Exit 0 valid,
    1 invalid (errors found), 2 not readable as a store.
    """
    from fairio_tools.ngff.validate import validate_ngff

    report = validate_ngff(store, deep=deep, workers=jobs)
    if name:
        report.subject = name
    if json_path is not None:
        write_json(report.to_dict(), json_path)
    if markdown_path is not None:
        write_text_atomic(markdown_path, report.to_markdown("OME-NGFF validation"))
    echo_findings(report)
    if not report.valid:
        ctx.exit(exit_codes.INVALID)
