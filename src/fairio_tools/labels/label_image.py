"""``fairio label``: threshold an image, label its objects, write the label image.

Where the labels go: into ``labels/<name>`` of an OME-Zarr image (a copy written to OUTPUT,
or the store itself with ``in_place``), or a TIFF label image when there is no store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fairio_tools import limits
from fairio_tools.atomic import atomic_output
from fairio_tools.confined import copy_inside
from fairio_tools.errors import InputError, OutputError
from fairio_tools.labels.images import fit_to_image, open_ome_zarr, read_pixels, write_labels
from fairio_tools.labels.threshold import label_by_threshold


@dataclass
class LabelReport:
    """What was labelled and where the labels are."""

    source: str
    output: str
    labels: str
    threshold: float
    method: str
    objects: int
    shape: list[int]
    axes: list[str]
    dtype: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LabelRequest:
    """Options of one labelling run (see ``fairio label --help``)."""

    source: Path
    output: Path | None = None
    image_store: Path | None = None
    in_place: bool = False
    as_tiff: bool = False
    threshold: float | None = None
    channel: int = 0
    min_size: int = 0
    connectivity: int = 1
    name: str = "threshold"
    overwrite: bool = False


def label_image(request: LabelRequest) -> LabelReport:
    """Label ``request.source`` and write the labels; nothing is left behind on failure."""
    source = request.source
    if not source.exists():
        raise InputError("does not exist", path=source)
    store = request.image_store or (source if source.is_dir() else None)
    if request.in_place == (request.output is not None):
        raise InputError("give either an OUTPUT path or --in-place", field="OUTPUT")
    if request.in_place and store is None:
        raise InputError("--in-place needs an OME-Zarr store to write into", path=source)
    if not request.name or "/" in request.name or request.name.startswith("."):
        raise InputError(f"label name {request.name!r} is not a plain name", field="--name")
    if request.output is not None:
        _check_output(request.output, request.overwrite)

    data, axes = read_pixels(source, request.channel)
    # connected components are counted in int32, beside two masks and the uint16 result:
    # about 9 bytes per pixel, so the decoded-bytes limit applies to 4 bytes per pixel
    what = "bytes of int32 labels to compute in memory"
    limits.enforce("FAIRIO_MAX_DECODED_BYTES", data.size * 4, what, source)
    try:
        result = label_by_threshold(
            data, request.threshold, min_size=request.min_size, connectivity=request.connectivity
        )
    except InputError as error:
        raise InputError(error.message, path=source, field=error.field, hint=error.hint) from None
    report = LabelReport(
        source=str(source),
        output="",
        labels="",
        threshold=result.threshold,
        method=result.method,
        objects=result.count,
        shape=list(result.labels.shape),
        axes=axes,
        dtype=str(result.labels.dtype),
    )
    if store is not None and not request.as_tiff:
        image = open_ome_zarr(store)
        labels = fit_to_image(result.labels, axes, image)
        report.shape, report.axes = list(labels.shape), image.axis_names
        if request.in_place:
            image = open_ome_zarr(store, writable=True)
            report.output, report.labels = str(store), write_labels(image, labels, request.name)
            return report
        with atomic_output(request.output, overwrite=request.overwrite, folder=True) as staged:
            copy_inside(store, staged)
            image = open_ome_zarr(Path(staged), writable=True, ours=True)
            report.labels = write_labels(image, labels, request.name)
    else:
        import tifffile

        with atomic_output(request.output, overwrite=request.overwrite) as staged:
            tifffile.imwrite(
                staged,
                result.labels,
                photometric="minisblack",
                metadata={"axes": "".join(axes).upper()},
                compression="zlib",
            )
        report.labels = str(request.output)
    report.output = str(request.output)
    return report


def _check_output(output: Path, overwrite: bool) -> None:
    if (output.exists() or output.is_symlink()) and not overwrite:
        raise OutputError("already exists", path=output, hint="pass --overwrite to replace it")
    if not output.parent.is_dir():
        raise OutputError("parent folder does not exist", path=output.parent)
