"""``fairio catalogue check``: review new and changed catalogue entries (pull-request mode)."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import write_json, write_text_atomic


@click.command("check")
@click.argument("files", nargs=-1, type=options.existing_file)
@click.option(
    "--catalogue",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=options.DEFAULT_CATALOGUE,
    show_default=True,
    help="The catalogue the entries join (for duplicate detection).",
)
@options.json_output
@options.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the review as a Markdown pull-request comment to this file.",
)
def command(
    files: tuple[Path, ...], directory: Path, json_path: Path | None, markdown_path: Path | None
) -> None:
    """Review catalogue entry FILES (default: every entry of the catalogue): schema, URL
    policy (https, no shorteners, no private hosts, no javascript:/data:/file:), DOI syntax,
    SPDX licence and duplicates of other entries. Exit 1 when any error is found."""
    from fairio_tools import extras

    extras.require("catalogue", "fairio catalogue check")
    from fairio_tools.catalogue.review import review_catalogue
    from fairio_tools.catalogue.review_comment import review_markdown

    review = review_catalogue(directory, files)
    write_json(review.to_dict(), json_path)
    if markdown_path is not None:
        write_text_atomic(markdown_path, review_markdown(review))
    count = len(review.entries)
    click.echo(
        f"{count} entr{'y' if count == 1 else 'ies'} checked: {review.error_count} errors, "
        f"{review.warning_count} warnings",
        err=True,
    )
    if not review.ok:
        click.get_current_context().exit(exit_codes.INVALID)
