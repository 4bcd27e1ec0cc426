"""Export one image of an OME-Zarr store as a pyramidal OME-TIFF (sub-resolutions in SubIFDs).

Pixels are copied band by band (one chunk row at a time), so memory stays bounded by the
chunk height times the image width, whatever the image size.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.atomic import atomic_output
from fairio_tools.errors import InputError, OutputError
from fairio_tools.ngff.axes import NGFF_ORDER, ome_unit
from fairio_tools.ngff.reader import NgffImage, open_images
from fairio_tools.ngff.store import reading

TILE = 256
COMPRESSIONS = ("zlib", "zstd", "none")


def export_ome_tiff(
    store: str | Path,
    output: str | Path,
    series: int = 0,
    compression: str = "zlib",
    overwrite: bool = False,
    jobs: int | None = None,
) -> dict[str, Any]:
    """Write image ``series`` of ``store`` to ``output`` as OME-TIFF, compressing tiles on
    ``jobs`` threads (default: tifffile's choice); return a summary."""
    import tifffile

    if compression not in COMPRESSIONS:
        raise InputError(f"unknown compression {compression!r}", field="compression")
    images = open_images(str(store))
    if not 0 <= series < len(images):
        raise InputError(f"has no image {series} (it holds {len(images)})", path=store)
    image = images[series]
    axes = _tiff_axes(image, store)
    metadata = _ome_metadata(image, axes)
    level0 = image.levels[0]
    written = _written_dtype(level0.dtype)
    output = Path(output)
    if output.is_dir():
        raise OutputError("is a folder, expected a file name", path=output)
    with atomic_output(output, overwrite=overwrite) as temporary:
        try:
            with tifffile.TiffWriter(temporary, bigtiff=_needs_bigtiff(image), ome=True) as tif:
                for index, level in enumerate(image.levels):
                    tif.write(
                        _tiles(level, store, written),
                        shape=level.shape,
                        dtype=written,
                        tile=(TILE, TILE),
                        compression=None if compression == "none" else compression,
                        photometric="minisblack",
                        subifds=len(image.levels) - 1 if index == 0 else None,
                        subfiletype=1 if index else 0,
                        metadata=metadata if index == 0 else None,
                        maxworkers=jobs,
                    )
        except OSError as error:
            raise OutputError(f"cannot write: {error.strerror or error}", path=output) from error
    summary = {
        "store": str(store),
        "image": image.path or "/",
        "output": str(output),
        "shape": list(level0.shape),
        "axes": axes,
        "dtype": str(written),
        "levels": len(image.levels),
    }
    if written != level0.dtype:
        summary["notes"] = [
            f"{level0.dtype} pixels written as {written}: OME-TIFF has no {level0.dtype} "
            "pixel type (every value is kept exactly)"
        ]
    return summary


def _written_dtype(dtype: np.dtype) -> np.dtype:
    """The pixel type written: OME has no float16, which widens to float32 without loss."""
    return np.dtype("float32") if np.dtype(dtype) == np.float16 else np.dtype(dtype)


def _tiff_axes(image: NgffImage, store: str | Path) -> str:
    names = image.axis_names
    unknown = [n for n in names if n not in NGFF_ORDER]
    if unknown or names[-2:] != ["y", "x"]:
        raise InputError(
            f"axes {names} cannot be written to OME-TIFF (needs t, c, z, y, x ending in y, x)",
            path=store,
        )
    return "".join(names).upper()


def _ome_metadata(image: NgffImage, axes: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"axes": axes}
    if image.name:
        metadata["Name"] = image.name
    scale = dict(zip(image.axis_names, image.scales[0], strict=True))
    for axis in "zyx":
        if axis in scale and image.unit(axis):
            metadata[f"PhysicalSize{axis.upper()}"] = scale[axis]
            unit = ome_unit(image.unit(axis))
            if unit:
                metadata[f"PhysicalSize{axis.upper()}Unit"] = unit
    if "t" in scale and image.unit("t"):
        metadata["TimeIncrement"] = scale["t"]
        unit = ome_unit(image.unit("t"))
        if unit:
            metadata["TimeIncrementUnit"] = unit
    if image.channel_names:
        metadata["Channel"] = {"Name": image.channel_names}
    return metadata


def _needs_bigtiff(image: NgffImage) -> bool:
    total = sum(level.nbytes for level in image.levels)
    return total > 2**31


def _tiles(level: Any, store: str | Path, dtype: np.dtype) -> Iterator[np.ndarray]:
    """Yield (TILE, TILE) tiles page by page, row by row, reading one band of chunks at once."""
    *lead, height, width = level.shape
    band = max(TILE, (level.chunks[-2] // TILE) * TILE)
    what = f"bytes in a band of {band} rows of {width} pixels"
    limits.enforce("FAIRIO_MAX_DECODED_BYTES", band * width * level.dtype.itemsize, what, store)
    for page in np.ndindex(*lead):
        for top in range(0, height, band):
            with reading(store):
                rows = np.asarray(level[(*page, slice(top, top + band), slice(None))], dtype)
            for y in range(0, rows.shape[0], TILE):
                for x in range(0, width, TILE):
                    tile = rows[y : y + TILE, x : x + TILE]
                    if tile.shape != (TILE, TILE):
                        padded = np.zeros((TILE, TILE), dtype=dtype)
                        padded[: tile.shape[0], : tile.shape[1]] = tile
                        tile = padded
                    yield tile
