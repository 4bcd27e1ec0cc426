"""Label objects by thresholding (Otsu or a given value) and connected components."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairio_tools.errors import InputError


@dataclass
class Labelling:
    """A label image (0 = background, 1..count = objects) and how it was made."""

    labels: np.ndarray
    threshold: float
    method: str
    count: int


def label_by_threshold(
    data: np.ndarray, threshold: float | None = None, *, min_size: int = 0, connectivity: int = 1
) -> Labelling:
    """Foreground is ``data > threshold`` (Otsu's threshold when None); objects are its
    connected components (``connectivity`` 1: faces, up to ``data.ndim``: corners), after
    removing objects smaller than ``min_size`` pixels. Labels are numbered 1..count."""
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    if data.size == 0:
        raise InputError("image has no pixels")
    if not 1 <= connectivity <= data.ndim:
        raise InputError(
            f"connectivity must be 1..{data.ndim} for this image", field="--connectivity"
        )
    if data.dtype == bool:
        data = data.astype(np.uint8)
    method = "given"
    if threshold is None:
        if np.all(data == data.flat[0]):
            raise InputError(
                "image is constant: Otsu's threshold is undefined", hint="give --threshold VALUE"
            )
        threshold, method = float(threshold_otsu(data)), "otsu"
    structure = ndimage.generate_binary_structure(data.ndim, connectivity)
    labels, count = ndimage.label(data > threshold, structure=structure)
    if min_size > 1 and count:
        sizes = np.bincount(labels.ravel())
        keep = sizes >= min_size
        keep[0] = False
        renumber = np.zeros(sizes.size, dtype=np.int64)
        renumber[keep] = np.arange(1, int(keep.sum()) + 1)
        labels, count = renumber[labels], int(keep.sum())
    dtype = np.uint16 if count < 2**16 else np.uint32
    return Labelling(labels.astype(dtype), float(threshold), method, int(count))
