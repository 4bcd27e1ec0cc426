"""``fairio validate-ngff``: check an OME-Zarr store against the NGFF specification."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import echo_findings, write_json, write_text_atomic
from fairio_tools.errors import InputError

_CONFORMANCE_LISTED = 5
"""Findings named in the conformance runner's one-line message."""


@click.command("validate-ngff")
@click.argument("store", type=options.store_path)
@click.option(
    "--deep",
    is_flag=True,
    help="Read and decode every chunk (default: metadata and a sample of chunks).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="SHOULD-level rules of the spec broken are errors (default: named warnings).",
)
@click.option(
    "--metadata-only",
    is_flag=True,
    help="Check the root group's metadata alone: paths it names are checked, not followed.",
)
@click.option(
    "--attributes",
    is_flag=True,
    help="STORE is one attributes document (JSON: a group's attributes), checked as a root "
    "group's metadata.",
)
@click.option(
    "--conformance",
    is_flag=True,
    help='Print only {"valid": ..., "message": ...} on stdout and exit 0 with any verdict, '
    "as the NGFF specification's conformance runner expects.",
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
    strict: bool,
    metadata_only: bool,
    attributes: bool,
    conformance: bool,
    jobs: int,
    name: str | None,
    json_path: Path | None,
    markdown_path: Path | None,
) -> None:
    """Validate the OME-Zarr STORE (NGFF 0.4, 0.5 or 0.6rc0: image, labels, plate, well).

    Checks the official NGFF JSON Schemas (offline) and what they cannot express: dataset
    paths, array ranks, scales, pyramid order, axis order, omero channels, labels, plate
    layout and chunks; --deep decodes every chunk on --jobs processes. Exit 0 valid,
    1 invalid (errors found), 2 not readable as a store.
    """
    from fairio_tools.ngff.validate import validate_attributes, validate_ngff

    try:
        if attributes:
            report = validate_attributes(store, strict=strict)
        else:
            report = validate_ngff(
                store, deep=deep, workers=jobs, strict=strict, metadata_only=metadata_only
            )
    except InputError as error:
        if not conformance:
            raise
        click.echo(json.dumps({"valid": False, "message": str(error)}))
        return
    if name:
        report.subject = name
    if json_path is not None:
        write_json(report.to_dict(), json_path)
    if markdown_path is not None:
        write_text_atomic(markdown_path, report.to_markdown("OME-NGFF validation"))
    if conformance:
        click.echo(json.dumps({"valid": report.valid, "message": _message(report)}))
        return
    echo_findings(report)
    if not report.valid:
        ctx.exit(exit_codes.INVALID)


def _message(report) -> str:
    """The verdict and the first findings' codes and messages, on one line."""
    listed = [f"{f.severity.value} {f.code}: {f.message}" for f in report.findings]
    more = len(listed) - _CONFORMANCE_LISTED
    text = "; ".join(listed[:_CONFORMANCE_LISTED]) + (f"; {more} more" if more > 0 else "")
    return f"{report.summary()}" + (f": {text}" if text else "")
