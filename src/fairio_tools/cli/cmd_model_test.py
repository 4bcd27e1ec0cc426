"""``fairio model-test``: run a bioimage.io model's own test offline."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import write_json, write_tsv


@click.command("model-test")
@click.argument("model", type=options.existing_file)
@options.weight_format
@options.device
@options.allow_model_code
@options.jobs
@options.json_output
@options.tsv_output
@click.pass_context
def command(
    ctx: click.Context,
    model: Path,
    weight_format: str | None,
    device: str,
    allow_model_code: bool,
    jobs: int,
    json_path: Path | None,
    tsv_path: Path | None,
) -> None:
    """Run the test that MODEL declares (its test inputs must give its test outputs) with
    bioimageio.core, for every weight format that is local and runnable here, offline.
    Exit code 1 when a check fails."""
    from fairio_tools.models.descriptions import model_code_allowed
    from fairio_tools.models.package import open_model_package
    from fairio_tools.models.testing import run_model_test

    allow_code = model_code_allowed(allow_model_code)
    with open_model_package(model) as package:
        report = run_model_test(package, weight_format, device, allow_code, jobs)
    write_json(report.to_dict(), json_path)
    if tsv_path is not None:
        rows = [[c.name, c.status, " | ".join(c.errors)] for c in report.checks]
        rows += [
            [f"{name} weights", "skipped", why]
            for name, why in report.skipped_weight_formats.items()
        ]
        write_tsv(["check", "status", "details"], rows, tsv_path)
    if not report.passed:
        failed = next((c for c in report.checks if c.status == "failed"), None)
        detail = f": {failed.name}: {' | '.join(failed.errors)}" if failed else ""
        click.echo(f"fairio: {model}: model test failed{detail}", err=True)
        ctx.exit(exit_codes.INVALID)
