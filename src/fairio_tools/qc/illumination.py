"""Field illumination from an image of a homogeneous fluorescent sample (QUAREP-LiMi,
MetroloJ_QC, microscope-metrics).

The image is binned to at most ``MAX_SIDE`` pixels a side, then smoothed by local linear
regression in a Gaussian window: noise-robust like MetroloJ_QC's Gaussian blur, and unbiased
at the borders and corners, where a blur pulls values towards the inside. Every metric is
read from the smoothed image (definitions in ``definitions.ILLUMINATION``); positions are
given in pixels of the original image and in micrometres.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fairio_tools.errors import InputError
from fairio_tools.qc.image import QcImage

MAX_SIDE = 512
CENTRE_LEVEL = 0.9
PROFILE_POINTS = 128


@dataclass
class IlluminationReport:
    """The metrics of one field illumination image."""

    image: str
    shape: list[int]
    dtype: str
    units: dict[str, str]
    pixel_size: dict[str, float]
    plane: int | None
    max_intensity: float
    min_intensity: float
    max_position_px: dict[str, float]
    uniformity_percent: float
    field_uniformity_percent: float
    coefficient_of_variation: float
    centre_of_illumination_px: dict[str, float]
    centroid_of_max_region_px: dict[str, float]
    centre_of_illumination_um: dict[str, float]
    centre_offset_px: dict[str, float]
    centre_offset_um: dict[str, float]
    centre_distance_um: float
    centring_accuracy_percent: float
    corner_ratios: dict[str, float]
    edge_ratios: dict[str, float]
    iso_intensity_fractions: dict[str, float]
    saturated_fraction: float
    smoothing_sigma_px: float
    profiles: dict[str, list[float]]
    """Normalised smoothed intensity along the image's horizontal and vertical centre lines
    and its two diagonals, ``PROFILE_POINTS`` samples each from one end to the other."""
    notes: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    instrument: str | None = None
    """The microscope the image was taken with, as the user names it."""
    acquired: str | None = None
    """When the image was acquired (ISO 8601), as given or as the file records it."""
    normalised: np.ndarray | None = field(default=None, repr=False)
    """The smoothed (binned) image divided by its maximum, for the figure."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("normalised")
        return data


def measure_field_illumination(image: QcImage) -> IlluminationReport:
    """Measure the illumination of ``image`` (2-D, or the brightest plane of a stack)."""
    path = image.path
    data, plane, notes = image.data, None, list(image.notes)
    if data.ndim == 3:
        plane = int(np.argmax(data.mean(axis=(1, 2))))
        data = data[plane]
        notes.append(f"a z-stack: plane {plane}, the brightest, was measured")
    height, width = data.shape
    if min(height, width) < 16:
        raise InputError(
            f"image of {height} x {width} pixels is too small to measure "
            "illumination (16 a side at least)",
            path=path,
        )
    saturated = 0.0
    if image.saturation is not None:
        saturated = float(np.count_nonzero(data >= image.saturation)) / data.size
        if saturated > 0.001:
            notes.append(
                f"{100 * saturated:.2g} % of the pixels are saturated: the metrics "
                "underestimate the fall-off"
            )
    factor = max(1, math.ceil(max(height, width) / MAX_SIDE))
    binned = _bin(data, factor)
    sigma = max(2.0, 0.04 * min(binned.shape))
    smooth = _local_linear(binned, sigma)
    top = float(smooth.max())
    if not np.isfinite(top) or top <= 0:
        raise InputError("holds no signal: the smoothed image is nowhere above 0", path=path)
    norm = smooth / top
    sy, sx = image.scale("y"), image.scale("x")

    def original(iy: float, ix: float) -> dict[str, float]:
        """A position of the binned image in pixels of the original one."""
        return {"y": (iy + 0.5) * factor - 0.5, "x": (ix + 0.5) * factor - 0.5}

    peak = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    region = _max_region(norm, peak)
    centroid = _centroid(region)
    summit = _vertex(norm, region)
    if summit is None:
        notes.append(
            "the brightest region has no clear summit: the centre of illumination "
            "is the centroid of the 90-100 % region"
        )
    centre_px = original(*(summit or centroid))
    image_centre = {"y": (height - 1) / 2, "x": (width - 1) / 2}
    offset_px = {a: centre_px[a] - image_centre[a] for a in ("y", "x")}
    offset_um = {"y": offset_px["y"] * sy, "x": offset_px["x"] * sx}
    distance = math.hypot(offset_um["y"], offset_um["x"])
    diagonal = math.hypot((height - 1) * sy, (width - 1) * sx)
    last_y, last_x = smooth.shape[0] - 1, smooth.shape[1] - 1
    corners = {
        "top_left": norm[0, 0],
        "top_right": norm[0, last_x],
        "bottom_left": norm[last_y, 0],
        "bottom_right": norm[last_y, last_x],
    }
    mid_y, mid_x = last_y // 2, last_x // 2
    edges = {
        "top": norm[0, mid_x],
        "bottom": norm[last_y, mid_x],
        "left": norm[mid_y, 0],
        "right": norm[mid_y, last_x],
    }
    bands = np.clip((norm * 10).astype(int), 0, 9)
    counts = np.bincount(bands.ravel(), minlength=10) / bands.size
    fractions = {f"{10 * i}-{10 * i + 10}%": float(counts[i]) for i in range(10)}
    return IlluminationReport(
        image=str(path),
        shape=[height, width],
        dtype=image.dtype,
        units={a: image.unit(a) for a in ("y", "x")},
        pixel_size={"y": sy, "x": sx},
        plane=plane,
        max_intensity=top,
        min_intensity=float(smooth.min()),
        max_position_px=original(*peak),
        uniformity_percent=100.0 * float(smooth.min()) / top,
        field_uniformity_percent=100.0 * (1.0 - float(smooth.std()) / float(smooth.mean())),
        coefficient_of_variation=float(smooth.std()) / float(smooth.mean()),
        centre_of_illumination_px=centre_px,
        centroid_of_max_region_px=original(*centroid),
        centre_of_illumination_um={"y": centre_px["y"] * sy, "x": centre_px["x"] * sx},
        centre_offset_px=offset_px,
        centre_offset_um=offset_um,
        centre_distance_um=distance,
        centring_accuracy_percent=100.0 * (1.0 - 2.0 * distance / diagonal),
        corner_ratios={k: float(v) for k, v in corners.items()},
        edge_ratios={k: float(v) for k, v in edges.items()},
        iso_intensity_fractions=fractions,
        saturated_fraction=saturated,
        smoothing_sigma_px=sigma * factor,
        profiles=_profiles(norm),
        notes=notes,
        parameters={
            "max_side": MAX_SIDE,
            "centre_level": CENTRE_LEVEL,
            "smoothing_sigma_px": sigma * factor,
        },
        normalised=norm,
    )


def _bin(data: np.ndarray, factor: int) -> np.ndarray:
    """Mean of ``factor`` x ``factor`` blocks (the last, partial blocks dropped)."""
    if factor == 1:
        return data
    h, w = (data.shape[0] // factor) * factor, (data.shape[1] // factor) * factor
    return data[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def _local_linear(data: np.ndarray, sigma: float) -> np.ndarray:
    """Local linear regression of ``data`` in a Gaussian window of ``sigma`` pixels.

    Each pixel's value is the intercept of the plane fitted (weighted) to its window, so a
    linear trend is reproduced exactly up to the border, unlike a plain Gaussian blur.
    """
    from scipy import ndimage

    def window(values: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(values, sigma, mode="constant", cval=0.0)

    ny, nx = data.shape
    y, x = np.meshgrid(np.arange(ny, dtype=float), np.arange(nx, dtype=float), indexing="ij")
    ones = np.ones_like(data)
    s0, sy, sx = window(ones), window(y), window(x)
    syy, sxx, sxy = window(y * y), window(x * x), window(x * y)
    t0, ty, tx = window(data), window(data * y), window(data * x)
    # moments about each pixel: offsets (y - y_p), (x - x_p)
    my, mx = sy - y * s0, sx - x * s0
    myy = syy - 2 * y * sy + y * y * s0
    mxx = sxx - 2 * x * sx + x * x * s0
    mxy = sxy - y * sx - x * sy + x * y * s0
    ry, rx = ty - y * t0, tx - x * t0
    matrix = np.stack(
        [np.stack([s0, my, mx], -1), np.stack([my, myy, mxy], -1), np.stack([mx, mxy, mxx], -1)],
        -2,
    )
    rhs = np.stack([t0, ry, rx], -1)[..., None]
    return np.linalg.solve(matrix, rhs)[..., 0, 0]


def _max_region(norm: np.ndarray, peak: tuple) -> np.ndarray:
    """The connected ``CENTRE_LEVEL``-100 % region holding the maximum."""
    from scipy import ndimage

    labels, _ = ndimage.label(norm >= CENTRE_LEVEL)
    return labels == labels[peak]


def _centroid(region: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(region)
    return float(ys.mean()), float(xs.mean())


def _vertex(norm: np.ndarray, region: np.ndarray) -> tuple[float, float] | None:
    """Summit of the quadratic surface fitted to log intensity over ``region`` (exact for a
    Gaussian fall-off, and unbiased where the region is cut by the image border); None when
    the surface has no summit inside the image."""
    ys, xs = np.nonzero(region)
    if ys.size < 6:
        return None
    values = np.log(np.clip(norm[ys, xs], 1e-6, None))
    y0, x0 = ys.mean(), xs.mean()
    dy, dx = ys - y0, xs - x0
    design = np.stack([np.ones_like(dy), dy, dx, dy * dy, dx * dx, dy * dx], axis=1)
    (_, by, bx, cyy, cxx, cxy), *_ = np.linalg.lstsq(design, values, rcond=None)
    hessian = np.array([[2 * cyy, cxy], [cxy, 2 * cxx]])
    if np.linalg.det(hessian) <= 0 or hessian[0, 0] >= 0:
        return None  # not a summit (flat or saddle)
    vy, vx = np.linalg.solve(hessian, [-by, -bx])
    cy, cx = float(y0 + vy), float(x0 + vx)
    if not (-0.5 <= cy <= norm.shape[0] - 0.5 and -0.5 <= cx <= norm.shape[1] - 0.5):
        return None
    return cy, cx


def _profiles(norm: np.ndarray) -> dict[str, list[float]]:
    from scipy import ndimage

    ny, nx = norm.shape
    t = np.linspace(0.0, 1.0, PROFILE_POINTS)
    lines = {
        "horizontal": ((ny - 1) / 2 + 0 * t, (nx - 1) * t),
        "vertical": ((ny - 1) * t, (nx - 1) / 2 + 0 * t),
        "diagonal_top_left": ((ny - 1) * t, (nx - 1) * t),
        "diagonal_top_right": ((ny - 1) * t, (nx - 1) * (1 - t)),
    }
    return {
        name: [round(float(v), 5) for v in ndimage.map_coordinates(norm, [ys, xs], order=1)]
        for name, (ys, xs) in lines.items()
    }
