"""``fairio metadata-template`` and ``fairio validate-metadata``: study metadata (REMBI, MIFA)."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import echo_findings, write_json, write_text_atomic
from fairio_tools.errors import InputError

_out = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.command("metadata-template")
@options.profile
@click.option("--yaml", "yaml_path", type=_out, help="Write the YAML template here.")
@click.option("--xlsx", "xlsx_path", type=_out, help="Write the spreadsheet template here.")
@click.option(
    "--shapes", "shapes_path", type=_out, help="Write the profile's SHACL shapes (Turtle)."
)
def template(
    profile: str, yaml_path: Path | None, xlsx_path: Path | None, shapes_path: Path | None
) -> None:
    """Write a fill-in template of a metadata profile: every field with its meaning, tier and
    an example. With no output option, the YAML template goes to standard output."""
    from fairio_tools.metadata.template import template_yaml, write_template_xlsx

    text = template_yaml(profile)
    if yaml_path is not None:
        write_text_atomic(yaml_path, text)
    if xlsx_path is not None:
        write_template_xlsx(profile, xlsx_path)
    if shapes_path is not None:
        from fairio_tools.metadata.shacl import shapes_graph

        write_text_atomic(shapes_path, shapes_graph(profile).serialize(format="turtle"))
    if yaml_path is None and xlsx_path is None and shapes_path is None:
        click.echo(text, nl=False)


@click.command("validate-metadata")
@click.argument("document", type=options.existing_file)
@click.option(
    "--profile",
    default="rembi",
    show_default=True,
    help="Metadata profile: minimal, rembi or rembi-mifa (REMBI plus MIFA for annotations); "
    "declared: the one DOCUMENT names in its top-level `profile:`.",
)
@click.option("--shacl", is_flag=True, help="Also run pySHACL with the profile's SHACL shapes.")
@options.json_output
@options.aliased("--report-json", dest="json_path")
@options.markdown_output
@options.aliased("--report-md", dest="markdown_path")
@click.pass_context
def validate(
    ctx: click.Context,
    document: Path,
    profile: str,
    shacl: bool,
    json_path: Path | None,
    markdown_path: Path | None,
) -> None:
    """Check a study metadata DOCUMENT (YAML, or the filled-in xlsx template) against a
    profile. Every missing or wrong field is named, explained and given an example; each
    REMBI section gets a completeness score. Exit 0 valid, 1 invalid, 2 unreadable."""
    from fairio_tools.metadata.documents import load_document
    from fairio_tools.metadata.validate import validate_metadata

    data = load_document(document)
    if profile == "declared":
        profile = data.get("profile") if isinstance(data, dict) else None
        if not isinstance(profile, str):
            raise InputError(
                "declares no profile (a top-level `profile:`)", path=document,
                hint="choose one with --profile minimal, rembi or rembi-mifa",
            )  # fmt: skip
    report = validate_metadata(data, profile, document.name)
    if shacl:
        from fairio_tools.rdf.conformance import shacl_verdicts

        report.facts["shacl_conforms"] = shacl_verdicts(data, profile)[0]
    if json_path is not None:
        write_json(report.to_dict(), json_path)
    if markdown_path is not None:
        write_text_atomic(markdown_path, _markdown(report))
    echo_findings(report)
    scores = report.facts["section_completeness_percent"]
    click.echo("  completeness: " + ", ".join(f"{s} {p}%" for s, p in scores.items()))
    if not report.valid:
        ctx.exit(exit_codes.INVALID)


def _markdown(report) -> str:
    text = report.to_markdown("Study metadata validation")
    rows = ["", "## Completeness per section", "", "| section | filled |", "| --- | --- |"]
    rows += [f"| {s} | {p}% |" for s, p in report.facts["section_completeness_percent"].items()]
    return text + "\n".join(rows) + "\n"
