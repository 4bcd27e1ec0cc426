"""``fairio label``: threshold + connected components, written as an NGFF label image."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_json


def _threshold(value: str) -> float | None:
    if value.lower() == "otsu":
        return None
    try:
        return float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither 'otsu' nor a number") from None


@click.command("label")
@click.argument("source", type=options.store_path)
@click.argument("output", type=click.Path(path_type=Path), required=False)
@click.option(
    "--threshold",
    default="otsu",
    show_default=True,
    help="'otsu' or a value: pixels above it are foreground.",
)
@click.option(
    "--image",
    "image_store",
    type=options.store_path,
    help="OME-Zarr image to attach the labels to (default: SOURCE if it is one).",
)
@click.option("--in-place", is_flag=True, help="Write labels/ into the store instead of a copy.")
@click.option(
    "--into",
    "into",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the labelled copy into this folder (made if missing), named after the "
    "OME-Zarr image: its own *.zarr folder name, else --name-from.",
)
@click.option(
    "--name-from",
    "name_from",
    help="Name for the copy under --into when the image's folder has no *.zarr name (e.g. "
    "the Galaxy dataset's name; characters other than letters, digits, '.', '_', '-' become "
    "'_', '.zarr' is added).",
)
@click.option("--tiff", "as_tiff", is_flag=True, help="Write a TIFF label image, not OME-Zarr.")
@click.option(
    "--channel",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Channel to threshold.",
)
@click.option(
    "--min-size",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Drop objects smaller than this many pixels.",
)
@click.option(
    "--connectivity",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="1: neighbours share a face; 2 or 3: also edges/corners.",
)
@click.option("--name", default="threshold", show_default=True, help="Name under labels/.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@options.preview_output
@options.jobs
@options.json_output
def command(
    source: Path,
    output: Path | None,
    threshold: str,
    image_store: Path | None,
    in_place: bool,
    into: Path | None,
    name_from: str | None,
    as_tiff: bool,
    channel: int,
    min_size: int,
    connectivity: int,
    name: str,
    overwrite: bool,
    jobs: int,
    json_path: Path | None,
    preview_path: Path | None,
) -> None:
    """Label the objects of SOURCE (OME-Zarr, TIFF, PNG): threshold (Otsu or a value),
    then connected components, numbered 1..N. The label image goes into labels/NAME of a
    copy of the OME-Zarr image written to OUTPUT (or of the store itself with --in-place),
    or to a TIFF OUTPUT when there is no OME-Zarr image (or with --tiff).

    Memory: SOURCE's level 0 is read whole (FAIRIO_MAX_DECODED_BYTES), about 9 bytes per
    pixel while labelling."""
    from fairio_tools.errors import InputError
    from fairio_tools.labels.label_image import LabelRequest, label_image
    from fairio_tools.names import store_name

    if preview_path is not None and (as_tiff or (image_store is None and not source.is_dir())):
        raise InputError("--preview shows an OME-Zarr image: give one", field="--preview")
    if into is not None:
        store = image_store or (source if source.is_dir() else None)
        if output is not None or in_place or as_tiff or store is None:
            raise InputError(
                "--into writes a labelled copy of an OME-Zarr image: give no OUTPUT, "
                "--in-place or --tiff, and an OME-Zarr SOURCE or --image",
                field="--into",
            )
        into.mkdir(parents=True, exist_ok=True)
        output = into / store_name(store, name_from)

    report = label_image(
        LabelRequest(
            source=source,
            output=output,
            image_store=image_store,
            in_place=in_place,
            as_tiff=as_tiff,
            threshold=_threshold(threshold),
            channel=channel,
            min_size=min_size,
            connectivity=connectivity,
            name=name,
            overwrite=overwrite,
        )
    )
    if preview_path is not None:
        from fairio_tools.ngff.preview import write_preview

        write_preview(report.output, preview_path)
    write_json(report.to_dict(), json_path)
