"""``fairio portal``: build the training and curation portal."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("portal")
def group() -> None:
    """The training and curation portal (MkDocs-material, built offline)."""


@group.command("build")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("mkdocs.yml"),
    show_default=True,
    help="MkDocs configuration; extra.fairio.catalogue names the catalogue directory.",
)
@click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the site (default: site_dir of the configuration, i.e. site/).",
)
def build_command(config_file: Path, site_dir: Path | None) -> None:
    """Build the portal strictly (any MkDocs warning fails the build); the previous site
    is replaced only when the new one is complete."""
    from fairio_tools.portal.build import build_site

    click.echo("fairio: building the portal...", err=True)
    site = build_site(config_file, site_dir)
    click.echo(
        f"{site.site_dir}: {site.pages} pages, {site.bytes / 1e6:.1f} MB in {site.seconds:.1f} s",
        err=True,
    )
