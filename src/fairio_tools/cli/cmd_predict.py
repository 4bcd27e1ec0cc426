"""``fairio predict``: run a bioimage.io model on an image, tiled, with provenance."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.errors import InputError


def _named(values: tuple[str, ...], flag: str) -> dict[str | None, Path]:
    named: dict[str | None, Path] = {}
    for value in values:
        tensor_id, sep, path = value.partition("=")
        if not sep or not tensor_id or not path:
            raise click.BadParameter(f"{value!r} is not ID=PATH", param_hint=flag)
        if tensor_id in named:
            raise click.BadParameter(f"{tensor_id} is given twice", param_hint=flag)
        named[tensor_id] = Path(path)
    return named


@click.command("predict")
@click.argument("model", type=options.existing_file)
@click.argument("image", type=options.store_path, required=False)
@click.argument("output", type=click.Path(path_type=Path), required=False)
@click.option("--input", "inputs", multiple=True, metavar="ID=PATH", help="The image for "
              "the model's input ID (repeat for models with several inputs).")  # fmt: skip
@click.option("--output", "outputs", multiple=True, metavar="ID=PATH", help="Where the "
              "model's output ID goes (repeat: each of several outputs needs one).")  # fmt: skip
@options.weight_format
@click.option("--tile", metavar="Y,X", help="Tile size per spatial axis of the model, "
              "e.g. 512,512 (default: the model's fixed size, or up to 1024).")  # fmt: skip
@options.device
@options.allow_model_code
@options.jobs
@click.option("--axes", metavar="AXES", help="Axes of the images, e.g. yx or cyx, when the "
              "file does not say (.npy) or says wrongly.")  # fmt: skip
@click.option("--level", type=click.IntRange(min=0), default=0, show_default=True,
              help="Pyramid level of an OME-Zarr IMAGE.")  # fmt: skip
@click.option("--format", "output_format", type=click.Choice(["ome-zarr", "tiff"]),
              help="Output format (default: from each output's suffix).")  # fmt: skip
@options.ngff_version()
@options.preview_output
@click.option("--provenance", "provenance_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the provenance as JSON-LD to this file.")  # fmt: skip
def command(
    model: Path,
    image: Path | None,
    output: Path | None,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    weight_format: str | None,
    tile: str | None,
    device: str,
    allow_model_code: bool,
    jobs: int,
    axes: str | None,
    level: int,
    output_format: str | None,
    ngff_version: str,
    preview_path: Path | None,
    provenance_path: Path | None,
) -> None:
    """Predict IMAGE (TIFF, PNG, .npy or OME-Zarr) with MODEL (a bioimage.io zip, folder or
    description file) and write OUTPUT as OME-Zarr (--ngff-version; axes in NGFF order) or
    OME-TIFF, carrying the input's pixel size and the prediction's provenance. IMAGE and
    OUTPUT are the model's first input and output; --input and --output name them, and the
    others, by their id (with --input, a single path after MODEL is OUTPUT). The model's own
    pre- and post-processing is applied; large images are tiled without seams, the model running on
    --jobs threads. Offline: nothing is downloaded. Memory: the image level read whole
    (FAIRIO_MAX_DECODED_BYTES) and the prediction of the same size. --preview: a PNG of the
    first OME-Zarr output."""
    from fairio_tools.models.descriptions import model_code_allowed
    from fairio_tools.models.predict import SUFFIX_FORMATS, predict_with_model

    if inputs and image is not None and output is None:  # MODEL OUTPUT --input ID=PATH ...
        image, output = None, Path(image)
    images = _named(inputs, "--input")
    targets = _named(outputs, "--output")
    if image is not None:
        images[None] = image
    if output is not None:
        targets[None] = output
    if not images or not targets:
        missing = "an IMAGE (or --input ID=PATH)" if not images else "an OUTPUT (or --output)"
        raise click.UsageError(f"give {missing}")
    stores = [
        path for path in targets.values()
        if (output_format or SUFFIX_FORMATS.get(path.suffix.lower())) == "ome-zarr"
    ]  # fmt: skip
    if preview_path is not None and not stores:
        raise InputError("--preview shows an OME-Zarr output: write one", field="--preview")
    with _progress() as progress:
        predict_with_model(
            model, images, targets,
            output_format=output_format, weight_format=weight_format, tile=tile,
            device=device, axes=axes, level=level, provenance_path=provenance_path,
            progress=progress, allow_code=model_code_allowed(allow_model_code), threads=jobs,
            ngff_version=ngff_version,
        )  # fmt: skip
    if preview_path is not None:
        from fairio_tools.ngff.preview import write_preview

        write_preview(str(stores[0]), preview_path)


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
