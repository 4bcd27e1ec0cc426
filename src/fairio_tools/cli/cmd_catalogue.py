"""``fairio catalogue``: import, validate and export the training catalogue."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import write_json


@click.group("catalogue")
def group() -> None:
    """Training catalogue: one YAML file per material, checked against one JSON Schema."""


@group.command("import")
@click.option(
    "--format",
    "source_format",
    type=click.Choice(["nfdi4bioimage", "bioschemas"]),
    required=True,
    help="nfdi4bioimage: the NFDI4BIOIMAGE training YAML; bioschemas: TrainingMaterial JSON-LD.",
)
@click.argument("source", type=options.existing_file)
@click.option(
    "--into",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Catalogue directory to write (replaced as a whole, one <slug>.yml per entry).",
)
@options.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the normalisation report (every change, every rejection) as JSON here.",
)
@options.aliased("--report", dest="json_path")
def import_command(
    source_format: str, source: Path, directory: Path, json_path: Path | None
) -> None:
    """Normalise SOURCE into catalogue entries: valid ones are written, the rest are
    rejected with their reasons (exit 1 when any record was rejected)."""
    from fairio_tools.catalogue.store import write_catalogue

    if source_format == "nfdi4bioimage":
        from fairio_tools.catalogue.nfdi4bioimage import import_nfdi4bioimage as read
    else:
        from fairio_tools.catalogue.bioschemas import import_bioschemas as read
    result = read(source)
    write_catalogue(result.entries, directory)
    if json_path is not None:
        write_json(result.report(), json_path)
    click.echo(
        f"{source}: {result.records} records, {len(result.entries)} imported into {directory}, "
        f"{len(result.rejected)} rejected, {len(result.changes)} changes",
        err=True,
    )
    for rejection in result.rejected:
        label = rejection.name or f"record {rejection.index}"
        click.echo(f"rejected #{rejection.index} {label}: {'; '.join(rejection.reasons)}", err=True)
    if result.rejected:
        click.get_current_context().exit(exit_codes.INVALID)


@group.command("validate")
@click.argument(
    "directory", type=click.Path(file_okay=False, path_type=Path), default=options.DEFAULT_CATALOGUE
)
@options.json_output
def validate_command(directory: Path, json_path: Path | None) -> None:
    """Check every entry of DIRECTORY (default portal/catalogue) against the schema;
    exit 1 and list each invalid file with its problems."""
    from fairio_tools.catalogue.store import load_catalogue

    catalogue = load_catalogue(directory)
    for error in catalogue.errors:
        click.echo(str(error), err=True)
    if json_path is not None:
        write_json(
            {
                "directory": str(directory),
                "valid": len(catalogue.entries),
                "invalid": [
                    {"path": str(e.path), "problems": [str(f) for f in e.findings]}
                    for e in catalogue.errors
                ],
            },
            json_path,
        )
    click.echo(
        f"{directory}: {len(catalogue.entries)} valid, {len(catalogue.errors)} invalid", err=True
    )
    if not catalogue.ok:
        click.get_current_context().exit(exit_codes.INVALID)


@group.command("export")
@click.option(
    "--format",
    "target_format",
    type=click.Choice(["bioschemas", "dalia"]),
    required=True,
    help="bioschemas: TrainingMaterial JSON-LD; dalia: DALIA DIF 1.3 CSV.",
)
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--catalogue",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=options.DEFAULT_CATALOGUE,
    show_default=True,
    help="Catalogue directory to export.",
)
@click.option(
    "--all",
    "ignore_dalia_flag",
    is_flag=True,
    help="DALIA: also export entries the curators marked 'dalia: exclude'.",
)
def export_command(
    target_format: str, output: Path, directory: Path, ignore_dalia_flag: bool
) -> None:
    """Write the catalogue to OUTPUT. Invalid entries stop the export (run validate);
    for DALIA, entries without DIF 1.3's required fields are listed and left out."""
    import dataclasses

    from fairio_tools import extras
    from fairio_tools.catalogue.store import load_catalogue
    from fairio_tools.errors import InputError

    if target_format == "dalia":
        extras.require("catalogue", "fairio catalogue export --format dalia")
    catalogue = load_catalogue(directory)
    if not catalogue.ok:
        raise InputError(
            f"{len(catalogue.errors)} invalid entries, first: {catalogue.errors[0]}",
            path=directory,
            hint="fix them (fairio catalogue validate) before exporting",
        )
    if target_format == "bioschemas":
        from fairio_tools.catalogue.bioschemas import catalogue_to_jsonld

        write_json(catalogue_to_jsonld(catalogue.entries), output)
        click.echo(f"{output}: {len(catalogue.entries)} TrainingMaterial records", err=True)
        return
    from fairio_tools.catalogue.dalia import write_dalia_csv

    entries = catalogue.entries
    if ignore_dalia_flag:
        entries = [dataclasses.replace(entry, dalia=None) for entry in entries]
    skipped = write_dalia_csv(entries, output)
    for item in skipped:
        click.echo(f"not exported {item.id}: {'; '.join(item.reasons)}", err=True)
    click.echo(
        f"{output}: {len(entries) - len(skipped)} DIF 1.3 rows (checked with dalia-dif), "
        f"{len(skipped)} entries left out",
        err=True,
    )
