"""``fairio predict``: run a bioimage.io model on an image, tiled, with provenance."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fairio_tools.cli import options

_SUFFIX_FORMATS = {".zarr": "ome-zarr", ".tif": "tiff", ".tiff": "tiff"}


@click.command("predict")
@click.argument("model", type=options.existing_file)
@click.argument("image", type=options.store_path)
@click.argument("output", type=click.Path(path_type=Path))
@options.weight_format
@click.option("--tile", metavar="Y,X", help="Tile size per spatial axis of the model, "
              "e.g. 512,512 (default: the model's fixed size, or up to 1024).")  # fmt: skip
@options.device
@options.allow_model_code
@options.jobs
@click.option("--axes", metavar="AXES", help="Axes of IMAGE, e.g. yx or cyx, when the file "
              "does not say (.npy) or says wrongly.")  # fmt: skip
@click.option("--level", type=click.IntRange(min=0), default=0, show_default=True,
              help="Pyramid level of an OME-Zarr IMAGE.")  # fmt: skip
@click.option("--format", "output_format", type=click.Choice(["ome-zarr", "tiff"]),
              help="Output format (default: from OUTPUT's suffix, .zarr or .tif).")  # fmt: skip
@click.option("--provenance", "provenance_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the provenance as JSON-LD to this file.")  # fmt: skip
def command(
    model: Path,
    image: Path,
    output: Path,
    weight_format: str | None,
    tile: str | None,
    device: str,
    allow_model_code: bool,
    jobs: int,
    axes: str | None,
    level: int,
    output_format: str | None,
    provenance_path: Path | None,
) -> None:
    """Predict IMAGE (TIFF, PNG, .npy or OME-Zarr) with MODEL (a bioimage.io zip or folder)
    and write OUTPUT as OME-Zarr or OME-TIFF, carrying the input's pixel size and the
    prediction's provenance. The model's own pre- and post-processing is applied; large
    images are tiled without seams, the model running on --jobs threads. Offline: nothing
    is downloaded. Memory: the image level read whole (FAIRIO_MAX_DECODED_BYTES) and the
    prediction of the same size."""
    from fairio_tools.errors import InputError
    from fairio_tools.models.descriptions import model_code_allowed
    from fairio_tools.models.predict import predict_with_model

    if output_format is None:
        suffix = output.suffix.lower()
        output_format = _SUFFIX_FORMATS.get(suffix)
        if output_format is None:
            raise InputError(
                "cannot tell the output format from the name", path=output,
                hint="end it in .ome.zarr or .tif, or pass --format",
            )  # fmt: skip
    with _progress() as progress:
        predict_with_model(
            model, image, output,
            output_format=output_format, weight_format=weight_format, tile=tile,
            device=device, axes=axes, level=level, provenance_path=provenance_path,
            progress=progress, allow_code=model_code_allowed(allow_model_code), threads=jobs,
        )  # fmt: skip


class _progress:
    """A rich progress bar on a terminal; nothing in Galaxy logs (stderr not a TTY)."""

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.progress import Progress

        self._bar = Progress(transient=True, console=None)
        self._bar.start()
        self._task = self._bar.add_task("predicting tiles", total=None)
        return self._update

    def _update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if sys.stderr.isatty():
            self._bar.stop()
