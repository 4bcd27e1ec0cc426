"""The ``fairio`` entry point: one click group, errors mapped to exit codes here only."""

from __future__ import annotations

import logging
import sys
import traceback
import warnings

import click

from fairio_tools import __version__, exit_codes
from fairio_tools.cli import (
    cmd_bundle,
    cmd_catalogue,
    cmd_catalogue_check,
    cmd_convert,
    cmd_export_tiff,
    cmd_galaxy,
    cmd_image_info,
    cmd_label,
    cmd_links,
    cmd_metadata,
    cmd_microscopy_metadata,
    cmd_model_info,
    cmd_model_test,
    cmd_plate_summary,
    cmd_portal,
    cmd_predict,
    cmd_qc,
    cmd_summarize_validation,
    cmd_to_rdf,
    cmd_validate_ngff,
    cmd_zip_store,
)
from fairio_tools.errors import FairioError


def _fail(ctx: click.Context, message: str, code: int) -> None:
    if ctx.find_root().params.get("debug"):
        traceback.print_exc()
    click.echo(f"fairio: error: {message}", err=True)
    ctx.exit(code)


def _unraisable_to_log(unraisable: sys.UnraisableHookArgs) -> None:
    logging.getLogger("fairio_tools").debug(
        "ignored in %r: %r", unraisable.object, unraisable.exc_value
    )


class FairioGroup(click.Group):
    """A click group that turns library errors into one line and an exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except FairioError as error:
            _fail(ctx, str(error), exit_codes.USAGE_OR_INPUT)
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            _fail(ctx, f"{where}{error.strerror or error}", exit_codes.USAGE_OR_INPUT)
        except MemoryError:
            _fail(ctx, "out of memory", exit_codes.USAGE_OR_INPUT)
        except Exception as error:  # a bug: say so, keep the traceback behind --debug
            _fail(
                ctx,
                f"internal error ({type(error).__name__}: {error}); "
                "run again with --debug and report the traceback",
                exit_codes.INTERNAL,
            )


@click.group(cls=FairioGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fairio")
@click.option("--debug", is_flag=True, help="Show the full traceback when a command fails.")
def main(debug: bool) -> None:
    """Make bioimage data FAIR: convert, validate, run models, package and publish.

    Exit codes: 0 success, 1 checked and found invalid, 2 usage or input error.
    """
    # Libraries (tifffile, zarr, ...) log details of errors we report in one line.
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.CRITICAL, format="%(name)s: %(message)s"
    )
    logging.getLogger("fairio_tools").setLevel(logging.DEBUG if debug else logging.WARNING)
    # After a refused input, Zarr's pending reads are garbage-collected at exit and Python
    # prints each ("Exception ignored in ..."): keep the error one line, details behind --debug.
    sys.unraisablehook = _unraisable_to_log
    if not debug:  # libraries' warnings (skimage, zarr, ...) are details, not results
        warnings.simplefilter("ignore")


cmd_catalogue.group.add_command(cmd_catalogue_check.command)
for _command in (
    cmd_image_info.command,
    cmd_convert.command,
    cmd_export_tiff.command,
    cmd_zip_store.command,
    cmd_validate_ngff.command,
    cmd_metadata.template,
    cmd_metadata.validate,
    cmd_microscopy_metadata.command,
    cmd_to_rdf.command,
    cmd_model_info.command,
    cmd_model_test.command,
    cmd_predict.command,
    cmd_label.command,
    cmd_plate_summary.command,
    cmd_qc.group,
    cmd_summarize_validation.command,
    cmd_bundle.group,
    cmd_galaxy.group,
    cmd_catalogue.group,
    cmd_links.group,
    cmd_portal.group,
):
    main.add_command(_command)
