"""Convert TIFF, OME-TIFF, ImageJ TIFF, PNG, JPEG, Zeiss CZI and Leica LIF files to
OME-Zarr (NGFF 0.4 or 0.5).

The store follows the bioformats2raw layout (one group per series, ``OME/`` holding the
source's OME-XML; a screen's plate as ``<row>/<column>/<field>`` groups, see ``plate``) so
that it is a drop-in replacement for what Bio-Formats writes. Pixels are
read, downsampled and written chunk by chunk; the whole store is written into a temporary
sibling and moved into place at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools.atomic import atomic_output, filesystem
from fairio_tools.convert.plate import PlateLayout, read_plate
from fairio_tools.convert.report import ConversionReport
from fairio_tools.convert.source import SourceImage, ngff_axes, open_series, unmapped_metadata
from fairio_tools.errors import InputError, OutputError
from fairio_tools.images.info import ImageInfo, read_image_info
from fairio_tools.images.ome_set import unpacked
from fairio_tools.ngff import pyramid, writer
from fairio_tools.ngff.axes import NGFF_ORDER
from fairio_tools.ngff.format import DEFAULT_VERSION, NgffFormat, format_for_version
from fairio_tools.threads import default_jobs

_GROUP_NAME = re.compile(r"[A-Za-z0-9._-]+")

Progress = Callable[[int, int], None]
"""Called with (tasks done, tasks in total) while pixels are written."""


@dataclass
class ConversionOptions:
    """Every choice of ``fairio convert``; the defaults are what the CLI offers."""

    ngff_version: str = DEFAULT_VERSION
    levels: int | None = None
    min_size: int | None = None
    downsample: str = "mean"
    chunks: tuple[int, int, int] = (1, 1024, 1024)
    compression: str = "blosc"
    series: str = "all"
    layout: str = "plate"
    """``plate``: an NGFF plate when the OME-XML has a plate with well samples (loose series
    otherwise); ``series``: always loose series."""
    plate: int = 0
    """Which plate of the OME-XML (one plate per store, as bioformats2raw writes)."""
    label_image: Path | None = None
    label_name: str = "labels"
    overwrite: bool = False
    scheduler: str | None = None
    jobs: int | None = None
    """Threads that read, downsample and write chunks (default: one per CPU core)."""


@dataclass
class _Planned:
    """What one image (or label image) contributes to the single store pass."""

    group: Any
    source: SourceImage
    levels: list[Any]
    arrays: list[Any]
    attributes: dict[str, Any]
    method: str


def convert_to_ome_zarr(
    input_path: str | Path,
    output: str | Path,
    options: ConversionOptions | None = None,
    progress: Progress | None = None,
) -> ConversionReport:
    """Convert ``input_path`` into an OME-Zarr store at ``output`` (a path or URL): an image
    file, or a multi-file OME-TIFF as its folder, its zip or any of its files."""
    with unpacked(Path(input_path)) as source:
        return _convert(source, output, options or ConversionOptions(), progress)


def _convert(
    input_path: Path, output: str | Path, options: ConversionOptions, progress: Progress | None
) -> ConversionReport:
    import zarr

    fmt = format_for_version(options.ngff_version)
    _check_options(options)
    image = read_image_info(input_path)
    plate = _plate(input_path, image, options)
    if plate is not None:
        selected = [f.series for f in plate.fields]
        paths = {f.series: f.path for f in plate.fields}
    else:
        selected = _select_series(image, options.series, input_path)
        paths = {index: str(index) for index in selected}
    label_source = _label_source(options, image, selected) if options.label_image else None
    report = _new_report(input_path, output, image, fmt, options)

    with atomic_output(output, overwrite=options.overwrite, folder=True) as location:
        root = zarr.open_group(location, mode="a", zarr_format=fmt.zarr_format)
        at_root = options.layout == "image"  # the one series is the store's root image
        root_attributes = {} if at_root else {"bioformats2raw.layout": writer.LAYOUT_VERSION}
        if plate is not None:
            root_attributes.update(plate.root_attributes(fmt))
        root.attrs.update(fmt.group_attributes(root_attributes))
        planned: list[_Planned] = []
        for info in (image.series[i] for i in selected):
            source = open_series(input_path, info, options.chunks)
            group = root if at_root else root.require_group(paths[info.index])
            planned.append(_plan(group, fmt, source, options, options.downsample, input_path))
            if label_source is not None:
                planned.append(_plan_labels(group, fmt, label_source, options))
        try:
            _store(planned, options.scheduler, options.jobs, progress)
        except OSError as error:  # disk full, permission lost, connection dropped, ...
            reason = error.strerror or str(error)
            raise OutputError(f"writing failed: {reason}", path=output) from error
        for plan in planned:
            _add_rendering(plan)
            plan.group.attrs.update(fmt.group_attributes(plan.attributes))
        if plate is not None:
            plate.write_wells(root, fmt)
        if image.has_ome_xml:
            series = None if plate is not None or at_root else [str(i) for i in selected]
            _write_ome_xml(root, fmt, location, image.ome_xml, series)
        unselected = "not a field of the plate" if plate else "not selected (--series)"
        _fill_report(report, image, selected, planned, options, unselected)
        if plate is not None:
            _report_plate(report, plate)
    return report


def _plate(path: Path, image: ImageInfo, options: ConversionOptions) -> PlateLayout | None:
    """The plate to write, or None for loose series (``--layout series``, or no plate) and
    for one image at the root (``--layout image``)."""
    if options.layout not in ("plate", "series", "image"):
        raise InputError(f"--layout must be 'plate', 'series' or 'image', got {options.layout!r}")
    if options.layout == "image" and (len(image.series) > 1 and str(options.series) == "all"):
        raise InputError(
            f"holds {len(image.series)} series: --layout image writes one at the root",
            path=path,
            field="layout",
            hint="choose it with --series N, or keep every series with --layout series",
        )
    if options.layout != "plate" or not image.has_ome_xml:
        return None
    plate = read_plate(image.ome_xml, path, len(image.series), options.plate)
    if plate is not None and (str(options.series) != "all" or options.label_image):
        raise InputError(
            "holds a plate: --series and --label-image choose among loose series",
            path=path,
            field="layout",
            hint="add --layout series to convert series one by one",
        )
    return plate


def _check_options(options: ConversionOptions) -> None:
    if len(options.chunks) != 3 or any(int(c) < 1 for c in options.chunks):
        raise InputError(
            f"chunk sizes must be 3 positive numbers (z, y, x), got {options.chunks}",
            field="chunks",
            hint="for example --chunks 1,1024,1024",
        )
    pyramid.check_method(options.downsample)
    if not _GROUP_NAME.fullmatch(options.label_name) or set(options.label_name) == {"."}:
        raise InputError(
            f"label name {options.label_name!r} is not a plain group name",
            field="label-name",
            hint="use letters, digits, '.', '_' or '-'",
        )


def _select_series(image: ImageInfo, series: str, path: Path) -> list[int]:
    if str(series) == "all":
        return list(range(len(image.series)))
    try:
        index = int(series)
    except ValueError:
        raise InputError(f"--series must be a number or 'all', got {series!r}") from None
    if not 0 <= index < len(image.series):
        raise InputError(
            f"has no series {index}: it holds {len(image.series)} (0 to {len(image.series) - 1})",
            path=path,
            field="series",
        )
    return [index]


def _label_source(options: ConversionOptions, image: ImageInfo, selected: list[int]) -> SourceImage:
    path = Path(options.label_image)  # type: ignore[arg-type]
    labels = read_image_info(path)
    if len(selected) != 1 or len(labels.series) != 1:
        raise InputError(
            "a label image needs exactly one image series and one label series",
            path=path,
            hint="choose the image series with --series N",
        )
    info = labels.series[0]
    if not np.issubdtype(np.dtype(info.dtype), np.integer):
        raise InputError(f"label image must hold integers, not {info.dtype}", path=path)
    source = open_series(path, info, options.chunks)
    target = image.series[selected[0]]
    expected = _shape_5d(target)
    expected[1] = 1
    if list(source.pixels.shape) != expected:
        raise InputError(
            f"label image (t, c, z, y, x) {list(source.pixels.shape)} does not match the "
            f"image {expected}",
            path=path,
            hint="the label image must have the image's size in t, z, y and x, one channel",
        )
    return source


def _shape_5d(info: Any) -> list[int]:
    sizes = dict(zip(info.axes, info.shape, strict=True))
    return [sizes.get(axis, 1) for axis in NGFF_ORDER]


def _pyramid(source: SourceImage, options: ConversionOptions, method: str) -> list[Any]:
    z, y, x = options.chunks
    chunks = (1, 1, z, y, x)
    height, width = source.pixels.shape[-2:]
    count = pyramid.level_count(height, width, options.levels, options.min_size)
    levels = [source.pixels.rechunk(chunks, method=pyramid.RECHUNK)]
    for _ in range(1, count):
        level = pyramid.downsample(levels[-1], method)
        levels.append(level.rechunk(chunks, method=pyramid.RECHUNK))
    return levels


def _plan(
    group: Any,
    fmt: NgffFormat,
    source: SourceImage,
    options: ConversionOptions,
    method: str,
    path: Path,
) -> _Planned:
    levels = _pyramid(source, options, method)
    z, y, x = options.chunks
    arrays = writer.create_levels(
        group, fmt, levels, list(NGFF_ORDER), (1, 1, z, y, x), options.compression
    )
    axes = ngff_axes(source.units)
    name = source.info.name or path.name
    attributes = writer.multiscales_attributes(fmt, axes, source.scale, len(levels), name, method)
    return _Planned(group, source, levels, arrays, attributes, method)


def _plan_labels(
    image_group: Any, fmt: NgffFormat, source: SourceImage, options: ConversionOptions
) -> _Planned:
    labels_group = image_group.create_group("labels")
    labels_group.attrs.update(fmt.group_attributes({"labels": [options.label_name]}))
    group = labels_group.create_group(options.label_name)
    method = options.downsample if options.downsample != "mean" else "mode"
    plan = _plan(group, fmt, source, options, method, Path(options.label_image or ""))
    plan.attributes["image-label"] = fmt.image_label({"source": {"image": "../../"}})
    return plan


def _store(
    planned: list[_Planned], scheduler: str | None, jobs: int | None, progress: Progress | None
) -> None:
    """Write every level of every image in one pass over the source chunks, on ``jobs``
    threads (or on the Dask ``scheduler``'s workers)."""
    import dask.array as da

    sources = [level for plan in planned for level in plan.levels]
    targets = [array for plan in planned for array in plan.arrays]
    if scheduler:
        from fairio_tools import extras

        extras.require("distributed", "--scheduler")
        from distributed import Client

        try:
            client = Client(scheduler, timeout=30)
        except OSError as error:
            message = f"cannot reach the Dask scheduler: {error}"
            raise InputError(message, field="scheduler") from None
        with client:
            da.store(sources, targets, lock=False, compute=True)
        return
    # Our own pool: on a failure, leaving the block waits for the chunks still being written,
    # so the partial store is removed only once nothing writes into it any more.
    # Given as the scheduler, the pool spares Dask the import of distributed (0.1 s a run)
    # that it does to look for a client when it reads a scheduler name from its config.
    with (
        ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool,
        _ProgressCallback(progress),
    ):
        try:
            da.store(sources, targets, lock=False, compute=True, scheduler=pool)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


class _ProgressCallback:
    """Dask callback reporting finished tasks to ``progress`` (no-op when None)."""

    def __init__(self, progress: Progress | None) -> None:
        self._callback = None
        if progress is not None:
            from dask.callbacks import Callback

            state = {"done": 0, "total": 0}

            def start_state(_dsk: Any, dask_state: Any) -> None:
                state["total"] = sum(len(dask_state[k]) for k in ("ready", "waiting", "running"))

            def posttask(*_args: Any) -> None:
                state["done"] += 1
                progress(state["done"], state["total"])

            self._callback = Callback(start_state=start_state, posttask=posttask)

    def __enter__(self) -> _ProgressCallback:
        if self._callback is not None:
            self._callback.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._callback is not None:
            self._callback.__exit__(*exc)


def _write_ome_xml(
    root: Any, fmt: NgffFormat, location: str, xml: str, series: list[str] | None
) -> None:
    """``OME/METADATA.ome.xml``; ``OME`` lists the ``series`` paths (none for a plate, whose
    own metadata says where its images are)."""
    ome = root.create_group("OME")
    if series is not None:
        ome.attrs.update(fmt.group_attributes({"series": series}))
    fs, store_path = filesystem(location)
    fs.pipe_file(f"{store_path.rstrip('/')}/{writer.OME_XML_FILE}", xml.encode("utf-8"))


def _report_plate(report: ConversionReport, plate: PlateLayout) -> None:
    report.output["layout"] += ", plate"
    fields = len(plate.fields)
    report.carry(
        f"plate {plate.index} ({plate.name})",
        f"{len(plate.wells)} wells, {fields} fields",
        "plate metadata (root), well metadata (<row>/<column>)",
    )
    if plate.acquisitions:
        report.carry("plate acquisitions", len(plate.acquisitions), "plate acquisitions")
    for name in plate.other_plates:
        report.drop(
            f"plate {name!r}",
            "one plate per store (as bioformats2raw); choose it with --plate N",
        )
    for item in plate.unmapped:
        report.drop(item, f"NGFF plates have no place for it; kept in {writer.OME_XML_FILE}")
    report.notes.extend(plate.notes)


def _new_report(
    path: Path, output: str | Path, image: ImageInfo, fmt: NgffFormat, options: ConversionOptions
) -> ConversionReport:
    return ConversionReport(
        source=image.to_dict(),
        output={
            "path": str(output),
            "ngff_version": fmt.version,
            "zarr_format": fmt.zarr_format,
            "layout": "image at the root"
            if options.layout == "image"
            else f"bioformats2raw.layout {writer.LAYOUT_VERSION}",
            "chunks_zyx": list(options.chunks),
            "compression": options.compression,
            "images": [],
        },
    )


def _fill_report(
    report: ConversionReport,
    image: ImageInfo,
    selected: list[int],
    planned: list[_Planned],
    options: ConversionOptions,
    unselected: str,
) -> None:
    for plan in planned:
        info, where = plan.source.info, plan.group.path
        report.output["images"].append(
            {
                "path": where,
                "series": info.index,
                "shape": list(plan.levels[0].shape),
                "dtype": str(plan.levels[0].dtype),
                "levels": [list(level.shape) for level in plan.levels],
                "downsample": plan.method,
            }
        )
        is_label = "image-label" in plan.attributes
        what = "label image" if is_label else f"series {info.index}"
        level0 = f"{where}/0" if where else "0"
        where = where or "root"  # --layout image
        report.carry(f"{what} pixels", f"{info.axes} {info.shape} {info.dtype}", level0)
        report.carry("axes", "".join(NGFF_ORDER), f"{where} multiscales axes")
        for axis, quantity in info.physical_sizes.items():
            report.carry(f"{what} physical size {axis}", _quantity_text(quantity), f"{where} scale")
            if quantity.unit is None:
                report.drop(f"{what} unit of {axis}", "not a unit NGFF knows; scale kept")
        if info.time_interval is not None:
            report.carry(f"{what} time interval", _quantity_text(info.time_interval), "scale t")
        if info.channel_names:
            report.carry(f"{what} channel names", info.channel_names, f"{where} omero")
        if any(info.channel_colors):
            report.carry(f"{what} channel colours", info.channel_colors, f"{where} omero")
        for axis in plan.source.dropped_axes:
            report.drop(f"{what} axis {axis!r} (size 1)", "NGFF has only t, c, z, y, x axes")
        report.notes.extend(f"{what}: {note}" for note in info.notes)
    for index, info in enumerate(image.series):
        if index not in selected:
            report.drop(f"series {index} ({info.name or 'unnamed'})", unselected)
    if image.format in ("czi", "lif"):
        report.carry("vendor metadata mapped to OME-XML", "see vendor_ome", writer.OME_XML_FILE)
    elif image.has_ome_xml:
        report.carry("OME-XML", "whole document", writer.OME_XML_FILE)
    for name in image.other_files_not_read:
        report.drop(
            f"planes or metadata in other file {name!r}",
            "the input is part of a multi-file OME-TIFF; other files are never opened, only "
            "the planes stored in this file were converted",
        )
    report.notes.extend(image.notes)
    path = Path(report.source["path"])
    for item, reason in unmapped_metadata(path, image):
        report.drop(item, reason)
    if options.label_image:
        report.carry("label image", str(options.label_image), f"labels/{options.label_name}")


def _quantity_text(quantity: Any) -> str:
    return f"{quantity.value} {quantity.unit or ''}".strip()


def _add_rendering(plan: _Planned) -> None:
    """Add ``omero`` rendering (images only), windows taken from the smallest level."""
    if "image-label" in plan.attributes:
        return
    info = plan.source.info
    windows = writer.channel_windows(plan.arrays[-1])
    plan.attributes.update(
        writer.omero_attributes(
            info.channel_names, info.channel_colors, np.dtype(plan.levels[0].dtype), windows
        )
    )
