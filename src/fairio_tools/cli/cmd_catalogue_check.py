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
    type=click.Path(path_type=Path),
    default=options.DEFAULT_CATALOGUE,
    show_default=True,
    help="The catalogue the entries join (for duplicate detection): a folder of entries, "
    "or an NFDI4BIOIMAGE training file.",
)
@click.option(
    "--base",
    "base",
    type=click.Path(exists=True, path_type=Path),
    help="The base branch's catalogue (folder or training file): name overwrites, removals "
    "and materials that would leave the catalogue, show problems it already had as "
    "information, and without FILES check what differs from it.",
)
@click.option(
    "--reviews",
    "reviews",
    type=click.Path(file_okay=False, path_type=Path),
    help="The peer-review folder (<material-id>/<orcid>.yml) [default: reviews/ beside a "
    "catalogue folder, when there is one]; with --base, the files that differ from the "
    "base's are checked.",
)
@options.json_output
@options.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the review as a Markdown pull-request comment to this file.",
)
def command(
    files: tuple[Path, ...],
    directory: Path,
    base: Path | None,
    reviews: Path | None,
    json_path: Path | None,
    markdown_path: Path | None,
) -> None:
    """Review catalogue entry FILES (default: every entry of the catalogue, or with --base
    every entry that differs from it): schema, URL policy (https, no shorteners, no private
    hosts, no javascript:/data:/file:), DOI syntax, SPDX licence, placeholders, bot authors,
    generic titles and duplicates of other entries. Exit 1 when any error is found."""
    from fairio_tools import extras

    extras.require("catalogue", "fairio catalogue check")
    from fairio_tools.catalogue.review import review_catalogue
    from fairio_tools.catalogue.review_comment import review_markdown

    if reviews is None and (directory.parent / "reviews").is_dir() and directory.is_dir():
        reviews = directory.parent / "reviews"
    base_reviews = None
    if base is not None and reviews is not None:
        base_reviews = base.parent / "reviews" if base.is_dir() else None
    review = review_catalogue(directory, files, base, reviews, base_reviews)
    write_json(review.to_dict(), json_path)
    if markdown_path is not None:
        write_text_atomic(markdown_path, review_markdown(review))
    count = len(review.entries)
    click.echo(
        f"{count} entr{'y' if count == 1 else 'ies'} checked: {review.error_count} errors, "
        f"{review.warning_count} warnings"
        + (f", {review.info_count} already on the base branch" if review.info_count else ""),
        err=True,
    )
    if not review.ok:
        click.get_current_context().exit(exit_codes.INVALID)
