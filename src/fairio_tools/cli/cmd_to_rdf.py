"""``fairio to-rdf``: image and study metadata as one linked-data graph (JSON-LD or Turtle)."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_text_atomic


@click.command("to-rdf")
@click.argument("inputs", nargs=-1, required=True, type=options.store_path)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonld", "turtle"]),
    default="jsonld",
    show_default=True,
    help="JSON-LD (with the fairio-tools context: schema.org, PROV, OME terms) or Turtle.",
)
@options.output_path
def command(inputs: tuple[Path, ...], fmt: str, output_path: Path | None) -> None:
    """Describe INPUTS as one RDF graph: image metadata (image-info JSON, OME-XML, an OME-Zarr
    folder or its .zattrs/zarr.json) and at most one study metadata document (YAML or the
    xlsx template). Each input is recognised by its content, whatever its name."""
    from fairio_tools.rdf.graph import build_graph
    from fairio_tools.rdf.vocabulary import serialize

    text = serialize(build_graph(list(inputs)), fmt)
    if output_path is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_text_atomic(output_path, text)
