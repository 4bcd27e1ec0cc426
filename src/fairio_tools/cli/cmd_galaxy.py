"""``fairio galaxy``: run a local Galaxy with our tools, and test them in it."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("galaxy")
def group() -> None:
    """Local Galaxy server for fairio-tools (development and tests)."""


@group.command("serve")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Repository root (holds tools/ and workflows/).",
)
@click.option(
    "--port",
    type=int,
    default=8080,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--portal",
    "portal_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Built portal (mkdocs site) to serve next to Galaxy.",
)
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where Galaxy keeps its database and datasets [default: ROOT/.galaxy/serve].",
)
def serve(root: Path, port: int, portal_dir: Path | None, state_dir: Path | None) -> None:
    """Start Galaxy with all tools and workflows and run until Ctrl-C."""
    from fairio_tools import extras

    extras.require("galaxy", "fairio galaxy")
    from fairio_tools.galaxy.harness import serve_forever

    root = root.resolve()
    state = (state_dir or root / ".galaxy" / "serve").resolve()
    serve_forever(root, port=port, portal_dir=portal_dir, state=state)


@group.command("test")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Repository root (holds tools/ and workflows/).",
)
@click.argument("targets", nargs=-1, type=click.Path(path_type=Path))
def test(root: Path, targets: tuple[Path, ...]) -> None:
    """Start Galaxy, run planemo test on TARGETS (default: all tools and workflows), stop."""
    from fairio_tools import extras

    extras.require("galaxy", "fairio galaxy")
    from fairio_tools.galaxy.harness import run_planemo_tests

    code = run_planemo_tests(root.resolve(), list(targets))
    raise SystemExit(code)


@group.command("lint")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Repository root (holds tools/ and workflows/).",
)
def lint(root: Path) -> None:
    """planemo lint (--fail_level warn) every tool, workflow_lint --iwc every workflow."""
    from fairio_tools import extras

    extras.require("galaxy", "fairio galaxy")
    from fairio_tools.galaxy.harness import run_planemo_lint

    raise SystemExit(run_planemo_lint(root.resolve()))
