"""Fits of a bead's intensity profiles: a Gaussian (MetroloJ_QC, microscope-metrics) and the
diffraction-limited profile of a widefield microscope, whichever fits better.

Each profile is fitted with ``b + a f((x - x0) / s)`` for two shapes ``f``: the Gaussian, and
the paraxial diffraction profile (Born & Wolf): the Airy pattern ``(2 J1(v) / v)^2`` across
the optical axis, ``(sin v / v)^2`` along it. A widefield PSF is not Gaussian, and a Gaussian
fit gives its axial FWHM about 5 % short; a confocal PSF is closer to a Gaussian. The
diffraction shape is kept unless the Gaussian leaves clearly less residual
(``GAUSSIAN_PREFERRED_BELOW``). Lateral profiles are integrated over the pixel, as a camera
integrates, so the FWHM is the optical PSF's; the R^2 of the kept fit is its quality.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GAUSSIAN_PREFERRED_BELOW = 0.5
"""The Gaussian is kept when its residual is below this fraction of the diffraction shape's."""
_PIXEL = np.array([-0.4, -0.2, 0.0, 0.2, 0.4])
"""Sub-samples across one pixel, for its integration."""


def _gaussian(v: np.ndarray) -> np.ndarray:
    return np.exp(-(v**2) / 2.0)


def _airy(v: np.ndarray) -> np.ndarray:
    from scipy.special import j1

    v = np.where(np.abs(v) < 1e-9, 1e-9, v)
    return (2.0 * j1(v) / v) ** 2


def _sinc2(v: np.ndarray) -> np.ndarray:
    return np.sinc(v / np.pi) ** 2


_SHAPES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float]] = {
    "gaussian": (_gaussian, 2.0 * math.sqrt(2.0 * math.log(2.0))),
    "airy": (_airy, 2.0 * 1.6163399561827),
    "sinc2": (_sinc2, 2.0 * 1.3915573782515),
}
"""Shape -> (function of v, FWHM in units of s): each shape's half-maximum point."""


@dataclass
class PeakFit:
    """A fitted peak, in the profile's sample coordinates."""

    model: str
    background: float
    amplitude: float
    centre: float
    scale: float
    r2: float
    integrated: bool

    @property
    def fwhm(self) -> float:
        return _SHAPES[self.model][1] * self.scale

    def curve(self, x: np.ndarray) -> np.ndarray:
        """The fitted profile at positions ``x`` (for figures)."""
        return _model(self.model, self.integrated)(
            x, self.background, self.amplitude, self.centre, self.scale
        )


def _model(name: str, integrated: bool) -> Callable[..., np.ndarray]:
    shape = _SHAPES[name][0]
    if integrated:
        return lambda x, b, a, x0, s: b + a * np.mean(
            [shape((x + d - x0) / s) for d in _PIXEL], axis=0
        )
    return lambda x, b, a, x0, s: b + a * shape((x - x0) / s)


def fit_peak(profile: np.ndarray, *, lateral: bool) -> PeakFit | None:
    """Fit the peak of ``profile`` (samples 0..n-1); None when no peak can be fitted."""
    y = np.asarray(profile, dtype=np.float64)
    n = y.size
    if n < 5 or not np.all(np.isfinite(y)) or np.ptp(y) <= 0:
        return None
    diffraction = "airy" if lateral else "sinc2"
    fits = [f for f in (_fit(y, diffraction, lateral), _fit(y, "gaussian", lateral)) if f]
    if not fits:
        return None
    if len(fits) == 2 and fits[1][1] < GAUSSIAN_PREFERRED_BELOW * fits[0][1]:
        return fits[1][0]
    return fits[0][0]


def _fit(y: np.ndarray, name: str, integrated: bool) -> tuple[PeakFit, float] | None:
    from scipy.optimize import OptimizeWarning, curve_fit

    n = y.size
    x = np.arange(n, dtype=np.float64)
    low, high = float(np.min(y)), float(np.max(y))
    width = max(float(np.count_nonzero(y > (low + high) / 2)), 1.0)
    start = [low, high - low, float(np.argmax(y)), width / _SHAPES[name][1]]
    bounds = ([-np.inf, 0.0, -0.5, 0.05], [np.inf, np.inf, n - 0.5, float(n)])
    model = _model(name, integrated)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            (b, a, x0, s), _ = curve_fit(model, x, y, p0=start, bounds=bounds, maxfev=4000)
        except (RuntimeError, ValueError):
            return None
    residual = float(np.sum((y - model(x, b, a, x0, s)) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - residual / total if total > 0 else 0.0
    return PeakFit(name, float(b), float(a), float(x0), float(s), r2, integrated), residual


def fit_plane(plane: np.ndarray) -> tuple[PeakFit, PeakFit] | None:
    """Fit the in-focus plane of a bead with an elliptical peak (scales along y and x), the
    pixels integrated over their area; returns the (y, x) fits, None when it cannot be fitted.

    The whole plane constrains the lateral widths, far better than the two lines through the
    centre do on a noisy bead; the kept shape is chosen as for profiles.
    """
    y = np.asarray(plane, dtype=np.float64)
    if min(y.shape) < 5 or not np.all(np.isfinite(y)) or np.ptp(y) <= 0:
        return None
    fits = [f for f in (_fit_plane(y, "airy"), _fit_plane(y, "gaussian")) if f]
    if not fits:
        return None
    if len(fits) == 2 and fits[1][1] < GAUSSIAN_PREFERRED_BELOW * fits[0][1]:
        return fits[1][0]
    return fits[0][0]


def _fit_plane(values: np.ndarray, name: str) -> tuple[tuple[PeakFit, PeakFit], float] | None:
    from scipy.optimize import OptimizeWarning, curve_fit

    shape = _SHAPES[name][0]
    ny, nx = values.shape
    grid_y, grid_x = np.meshgrid(
        np.arange(ny, dtype=float), np.arange(nx, dtype=float), indexing="ij"
    )
    offsets = [(dy, dx) for dy in _PIXEL for dx in _PIXEL]

    def model(_: np.ndarray, b: float, a: float, y0: float, x0: float, sy: float, sx: float):
        total = np.zeros_like(grid_y)
        for dy, dx in offsets:
            v = np.hypot((grid_y + dy - y0) / sy, (grid_x + dx - x0) / sx)
            total += shape(v)
        return (b + a * total / len(offsets)).ravel()

    flat = values.ravel()
    low, high = float(np.min(values)), float(np.max(values))
    peak_y, peak_x = np.unravel_index(int(np.argmax(values)), values.shape)
    above = values > (low + high) / 2
    width_y = max(float(np.count_nonzero(above[:, peak_x])), 1.0) / _SHAPES[name][1]
    width_x = max(float(np.count_nonzero(above[peak_y, :])), 1.0) / _SHAPES[name][1]
    start = [low, high - low, float(peak_y), float(peak_x), width_y, width_x]
    bounds = (
        [-np.inf, 0.0, -0.5, -0.5, 0.05, 0.05],
        [np.inf, np.inf, ny - 0.5, nx - 0.5, float(ny), float(nx)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            (b, a, y0, x0, sy, sx), _ = curve_fit(
                model, None, flat, p0=start, bounds=bounds, maxfev=2000
            )
        except (RuntimeError, ValueError):
            return None
    residual = float(np.sum((flat - model(None, b, a, y0, x0, sy, sx)) ** 2))
    total = float(np.sum((flat - flat.mean()) ** 2))
    r2 = 1.0 - residual / total if total > 0 else 0.0
    fit_y = PeakFit(name, float(b), float(a), float(y0), float(sy), r2, True)
    fit_x = PeakFit(name, float(b), float(a), float(x0), float(sx), r2, True)
    return (fit_y, fit_x), residual
