"""``fairio to-rdf``: image and study metadata as one linked-data graph (JSON-LD or Turtle)."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_text_atomic


@click.command("to-rdf")
@click.argument("inputs", nargs=-1, required=True, type=options.existing_file)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonld", "turtle"]),
    default="jsonld",
    show_default=True,
    help="JSON-LD (with the fairio-tools context: schema.org, PROV, OME terms) or Turtle.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the graph here instead of standard output.",
)
def command(inputs: tuple[Path, ...], fmt: str, output: Path | None) -> None:
    """Describe INPUTS as one RDF graph: image metadata (image-info JSON, OME-XML, an OME-Zarr
    folder or its .zattrs/zarr.json) and at most one study metadata document (.yaml, .xlsx)."""
    from fairio_tools.rdf.graph import build_graph
    from fairio_tools.rdf.vocabulary import serialize

    text = serialize(build_graph(list(inputs)), fmt)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_text_atomic(output, text)
