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
    from fairio_tools import extras

    extras.require("portal", "fairio portal build")
    from fairio_tools.portal.build import build_site

    click.echo("fairio: building the portal...", err=True)
    site = build_site(config_file, site_dir)
    click.echo(
        f"{site.site_dir}: {site.pages} pages, {site.bytes / 1e6:.1f} MB in {site.seconds:.1f} s",
        err=True,
    )


@group.command("serve")
@click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site"),
    show_default=True,
    help="The built site to serve (run `fairio portal build` first).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
def serve_command(site_dir: Path, port: int, bind: str) -> None:
    """Serve a built portal over HTTP until interrupted (Ctrl-C)."""
    import contextlib
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from fairio_tools.errors import InputError

    if not (site_dir / "index.html").is_file():
        raise InputError("no built portal here", path=site_dir, hint="run: fairio portal build")
    handler = partial(SimpleHTTPRequestHandler, directory=str(site_dir))
    with ThreadingHTTPServer((bind, port), handler) as server:
        host, actual_port = server.server_address[:2]
        click.echo(f"fairio: portal at http://{host}:{actual_port}/ (Ctrl-C stops)", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
