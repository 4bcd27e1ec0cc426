"""``fairio bundle``: pack OME-Zarr stores, reports, metadata and provenance into an RO-Crate."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import write_json

_file = click.Path(path_type=Path)


@click.group("bundle")
def group() -> None:
    """FAIR Image Objects: RO-Crates of OME-Zarr images with their provenance."""


@group.command("create")
@click.argument("crate", type=_file)
@click.option(
    "--store", "stores", multiple=True, type=options.store_path, help="OME-Zarr store (repeatable)."
)
@click.option(
    "--report",
    "reports",
    multiple=True,
    type=_file,
    help="NGFF validation report (JSON) to include (repeatable).",
)
@click.option(
    "--metadata",
    "metadata",
    multiple=True,
    type=_file,
    help="Study metadata as JSON-LD (repeatable).",
)
@click.option(
    "--provenance",
    "provenance",
    multiple=True,
    type=_file,
    help="Provenance record (JSON-LD), e.g. of a model prediction (repeatable).",
)
@options.option(
    "--result",
    "outputs",
    multiple=True,
    type=_file,
    help="Analysis result to include: table, label image, RDF... (repeatable).",
)
@options.aliased("--output", dest="outputs")
@click.option(
    "--name-as",
    "names",
    multiple=True,
    nargs=3,
    type=(options.store_path, str, str),
    metavar="PATH NAME EXT",
    help="Show the bundled PATH as NAME (e.g. its Galaxy dataset name; characters other than "
    "letters, digits, '.', '_', '-' become '_'), adding '.EXT' to a file's NAME that has no "
    "suffix (EXT may be ''). A store whose folder is named *.zarr keeps that name.",
)
@click.option(
    "--produced-by",
    "produced_by",
    multiple=True,
    nargs=3,
    type=(options.store_path, str, str),
    metavar="PATH TOOL_ID VERSION",
    help="Record that PATH (one of the bundled inputs) was made by this tool version.",
)
@click.option(
    "--format",
    "crate_format",
    type=click.Choice(["auto", "zip", "directory"]),
    default="auto",
    show_default=True,
    help="auto: zip when CRATE ends in .zip, else a directory.",
)
@click.option("--name", default="FAIR Image Object", show_default=True, help="Crate title.")
@click.option("--description", default="", help="Crate description (default: generated).")
@click.option(
    "--license",
    "license_url",
    default="https://creativecommons.org/licenses/by/4.0/",
    show_default=True,
    help="Licence URL of the bundled data.",
)
@click.option(
    "--allow-invalid",
    is_flag=True,
    help="Bundle stores that fail NGFF validation, recording the failure.",
)
@click.option("--overwrite", is_flag=True, help="Replace CRATE if it exists.")
@click.option("--galaxy-url", help="Galaxy server URL (set by the Galaxy tool).")
@click.option("--galaxy-tool-id", help="Galaxy tool id running this command.")
@click.option("--galaxy-tool-version", help="Galaxy tool version running this command.")
@click.option("--galaxy-history-id", help="Galaxy history id (encoded).")
@click.option("--galaxy-job-id", help="Galaxy job id, where known.")
@click.option("--galaxy-invocation-id", help="Galaxy workflow invocation id, where known.")
@options.json_output
def create(
    crate: Path,
    stores,
    reports,
    metadata,
    provenance,
    outputs,
    produced_by,
    names,
    crate_format: str,
    name: str,
    description: str,
    license_url: str,
    allow_invalid: bool,
    overwrite: bool,
    galaxy_url,
    galaxy_tool_id,
    galaxy_tool_version,
    galaxy_history_id,
    galaxy_job_id,
    galaxy_invocation_id,
    json_path: Path | None,
) -> None:
    """Write the RO-Crate CRATE (zip or directory) holding every --store with an NGFF
    check report, plus the given reports, metadata, outputs and provenance.

    A store that fails NGFF validation is refused (exit 2) unless --allow-invalid."""
    from fairio_tools.bundle.create import BundleRequest, NameAs, create_bundle
    from fairio_tools.bundle.provenance import GalaxyContext, ProducedBy

    request = BundleRequest(
        stores=list(stores),
        reports=list(reports),
        metadata=list(metadata),
        provenance=list(provenance),
        outputs=list(outputs),
        produced_by=[ProducedBy(Path(p), t, v) for p, t, v in produced_by],
        names=[NameAs(Path(p), n, e) for p, n, e in names],
        name=name,
        description=description,
        license=license_url,
        allow_invalid=allow_invalid,
        galaxy=GalaxyContext(
            url=galaxy_url,
            tool_id=galaxy_tool_id,
            tool_version=galaxy_tool_version,
            history_id=galaxy_history_id,
            job_id=galaxy_job_id,
            invocation_id=galaxy_invocation_id,
        ),
    )
    as_zip = crate_format == "zip" or (crate_format == "auto" and crate.suffix.lower() == ".zip")
    summary = create_bundle(request, crate, as_zip=as_zip, overwrite=overwrite)
    write_json(summary.to_dict(), json_path)
    for check in summary.checks:
        if not check.valid:
            click.echo(
                f"fairio: warning: {check.store}: bundled although NGFF validation "
                f"failed: {check.errors[0]}",
                err=True,
            )


@group.command("inspect")
@click.argument("crate", type=_file)
@options.json_output
@options.tsv_output
def inspect(crate: Path, json_path: Path | None, tsv_path: Path | None) -> None:
    """List what CRATE holds and check it: RO-Crate structure, files present, metadata
    parses as RDF, every store has an NGFF report, every tool run has a version.

    Exit 1 when a check fails."""
    from fairio_tools.bundle.inspect import inspect_crate
    from fairio_tools.cli.output import write_tsv

    report = inspect_crate(crate)
    write_json(report.to_dict(), json_path)
    if tsv_path is not None:
        rows = [[e.id, e.type, e.name, e.detail] for e in report.entities]
        write_tsv(["path", "type", "name", "detail"], rows, tsv_path)
    if not report.valid:
        click.echo(f"fairio: {crate}: {report.problems[0]}", err=True)
        click.get_current_context().exit(exit_codes.INVALID)
