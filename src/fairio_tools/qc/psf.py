"""Point spread function from an image of sub-resolution beads (MetroloJ_QC, microscope-metrics).

1. Beads are the local maxima of the stack smoothed with a Gaussian of the PSF's own size
   (estimated from the brightest maximum) that stand ``DETECTION_SNR`` noise deviations above
   the background (median; noise from the median absolute deviation) and above
   ``RELATIVE_THRESHOLD`` of the brightest bead.
2. Each bead gets a box of ``BOX_FWHM`` estimated FWHMs on each side. A bead is rejected, with
   the reason, when its box leaves the image, holds another bead, holds saturated pixels
   (the pixel type's maximum, or a flat top), or when a Gaussian fit fails or fits poorly.
3. FWHM in z from the fit of the axial profile through the bead centre, in x and y from the
   fit of the in-focus plane (``fitting``: the diffraction-limited shape or a Gaussian), the
   centre refined once (z from the axial profile, then x and y from the in-focus plane).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fairio_tools import limits
from fairio_tools.errors import InputError
from fairio_tools.qc.fitting import PeakFit, fit_peak, fit_plane
from fairio_tools.qc.image import QcImage

DETECTION_SNR = 8.0
RELATIVE_THRESHOLD = 0.1
BOX_FWHM = 2.5
CORE_FWHM = 0.9
"""Half-size of the in-focus window of the lateral fit, in FWHMs: the central peak, inside
the first dark ring (1.2 FWHM), where a vectorial high-NA PSF still has the Airy shape."""
MIN_R2 = 0.8
FLAT_TOP_VOXELS = 4
AXES = ("z", "y", "x")


@dataclass
class Bead:
    """One bead: where it is, and its FWHM per axis when it was measured."""

    id: int
    position_px: dict[str, float]
    position_um: dict[str, float]
    measured: bool
    rejected_because: str | None = None
    fwhm: dict[str, float] = field(default_factory=dict)
    """FWHM per axis, in the unit of ``PsfReport.units`` for that axis."""
    r2: dict[str, float] = field(default_factory=dict)
    fit_model: dict[str, str] = field(default_factory=dict)
    lateral_asymmetry_ratio: float | None = None
    ellipticity: float | None = None
    signal_to_background: float | None = None
    peak: float | None = None
    background: float | None = None
    profiles: dict[str, list[float]] = field(default_factory=dict, repr=False)
    fits: dict[str, PeakFit] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("profiles")
        data.pop("fits")
        return data


@dataclass
class PsfReport:
    """Per-bead results and their summary."""

    image: str
    shape: list[int]
    dtype: str
    units: dict[str, str]
    pixel_size: dict[str, float]
    beads_found: int
    beads_measured: int
    beads_rejected: int
    rejections: dict[str, int]
    fwhm_mean: dict[str, float]
    fwhm_median: dict[str, float]
    fwhm_sd: dict[str, float]
    lateral_asymmetry_ratio_mean: float
    ellipticity_mean: float
    theoretical_fwhm: dict[str, float] | None
    beads: list[Bead]
    parameters: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    instrument: str | None = None
    """The microscope the beads were imaged with, as the user names it."""
    acquired: str | None = None
    """When the image was acquired (ISO 8601), as given or as the file records it."""

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "beads"}
        data["beads"] = [bead.to_dict() for bead in self.beads]
        return data


def theoretical_fwhm(na: float, wavelength_um: float, refractive_index: float) -> dict[str, float]:
    """Widefield resolution in micrometres (MetroloJ_QC): lateral 0.51 lambda/NA, axial
    0.88 lambda / (n - sqrt(n^2 - NA^2))."""
    if not 0 < na < refractive_index:
        raise InputError(
            f"NA {na} must be positive and below the refractive index {refractive_index}",
            field="--na",
        )
    lateral = 0.51 * wavelength_um / na
    axial = 0.88 * wavelength_um / (refractive_index - math.sqrt(refractive_index**2 - na**2))
    return {"x": lateral, "y": lateral, "z": axial}


def measure_psf_beads(
    image: QcImage,
    *,
    min_r2: float = MIN_R2,
    na: float | None = None,
    wavelength_um: float | None = None,
    refractive_index: float = 1.0,
) -> PsfReport:
    """Find and measure the beads of a z-stack; InputError when none can be measured."""
    from scipy import ndimage
    from skimage.feature import peak_local_max

    path = image.path
    if "z" not in image.axes:
        raise InputError(
            "is a 2-D image; the PSF's axial FWHM needs a z-stack of beads (axes zyx)",
            path=path,
        )
    theory = None
    if na is not None or wavelength_um is not None:
        if na is None or wavelength_um is None:
            raise InputError(
                "give both --na and --wavelength for the theoretical FWHM", field="--na"
            )
        theory = theoretical_fwhm(na, wavelength_um, refractive_index)
    data = image.data
    if min(data.shape) < 5:
        raise InputError(
            f"stack of shape {data.shape} is too small to fit a PSF (5 pixels per axis at least)",
            path=path,
        )
    background = float(np.median(data))
    # first pass: the brightest maximum gives the PSF's size in pixels
    rough = ndimage.gaussian_filter(data, 1.0)
    size = _width_px(rough, np.unravel_index(int(np.argmax(rough)), rough.shape), background)
    sigma = [max(s / 2.3548, 1.0) for s in size]
    smooth = ndimage.gaussian_filter(data, sigma)
    smooth_bg = float(np.median(smooth))
    noise = 1.4826 * float(np.median(np.abs(smooth - smooth_bg)))
    peak = float(smooth.max())
    threshold = smooth_bg + max(DETECTION_SNR * noise, RELATIVE_THRESHOLD * (peak - smooth_bg))
    if peak - smooth_bg <= 0 or peak <= smooth_bg + DETECTION_SNR * noise:
        raise InputError(
            f"no beads found: nothing stands {DETECTION_SNR:g} noise deviations above the "
            f"background (median {background:.4g}, noise {noise:.3g} after smoothing)",
            path=path,
        )
    half = [max(2, math.ceil(BOX_FWHM * s)) for s in size]
    maxima = peak_local_max(
        smooth,
        footprint=np.ones((3, 3, 3), dtype=bool),
        threshold_abs=threshold,
        exclude_border=False,
        num_peaks=limits.MAX_BEADS + 1,
    )
    limits.enforce("FAIRIO_MAX_BEADS", len(maxima), "candidate beads", path)
    maxima = sorted((tuple(int(v) for v in m) for m in maxima), key=lambda p: -smooth[p])
    beads = [
        _measure(image, n + 1, position, size, maxima, half, background, min_r2)
        for n, position in enumerate(maxima)
    ]
    measured = [b for b in beads if b.measured]
    rejections: dict[str, int] = {}
    for bead in beads:
        if not bead.measured:
            kind = (bead.rejected_because or "").split(" (")[0]
            rejections[kind] = rejections.get(kind, 0) + 1
    if not measured:
        reasons = ", ".join(f"{k}: {v}" for k, v in rejections.items())
        raise InputError(
            f"no bead could be measured: {len(beads)} found, all rejected ({reasons})", path=path
        )
    fwhm = {a: np.array([b.fwhm[a] for b in measured]) for a in AXES}
    parameters = {
        "detection_snr": DETECTION_SNR,
        "relative_threshold": RELATIVE_THRESHOLD,
        "box_fwhm": BOX_FWHM,
        "min_r2": min_r2,
        "na": na,
        "wavelength_um": wavelength_um,
        "refractive_index": refractive_index,
    }
    return PsfReport(
        image=str(path),
        shape=list(data.shape),
        dtype=image.dtype,
        units={a: image.unit(a) for a in AXES},
        pixel_size={a: image.scale(a) for a in AXES},
        beads_found=len(beads),
        beads_measured=len(measured),
        beads_rejected=len(beads) - len(measured),
        rejections=rejections,
        fwhm_mean={a: float(v.mean()) for a, v in fwhm.items()},
        fwhm_median={a: float(np.median(v)) for a, v in fwhm.items()},
        fwhm_sd={a: float(v.std(ddof=1)) if v.size > 1 else 0.0 for a, v in fwhm.items()},
        lateral_asymmetry_ratio_mean=float(np.mean([b.lateral_asymmetry_ratio for b in measured])),
        ellipticity_mean=float(np.mean([b.ellipticity for b in measured])),
        theoretical_fwhm=theory,
        beads=beads,
        parameters=parameters,
        notes=list(image.notes),
    )


def _width_px(smooth: np.ndarray, centre: tuple, background: float) -> list[float]:
    """Rough FWHM in pixels along each axis: the run of samples above half the peak."""
    half = background + (float(smooth[centre]) - background) / 2
    widths = []
    for axis in range(3):
        line = np.moveaxis(smooth, axis, -1)[tuple(c for i, c in enumerate(centre) if i != axis)]
        above = line > half
        low = high = centre[axis]
        while low > 0 and above[low - 1]:
            low -= 1
        while high < line.size - 1 and above[high + 1]:
            high += 1
        widths.append(float(high - low + 1))
    return widths


def _measure(
    image: QcImage,
    number: int,
    position: tuple[int, int, int],
    size: list[float],
    others: list[tuple[int, int, int]],
    half: list[int],
    background: float,
    min_r2: float,
) -> Bead:
    data = image.data
    scale = [image.scale(a) for a in AXES]
    bead = Bead(
        id=number,
        position_px=dict(zip(AXES, map(float, position), strict=True)),
        position_um={a: p * s for a, p, s in zip(AXES, position, scale, strict=True)},
        measured=False,
    )
    box = tuple(slice(p - h, p + h + 1) for p, h in zip(position, half, strict=True))
    if any(s.start < 0 or s.stop > n for s, n in zip(box, data.shape, strict=True)):
        bead.rejected_because = "too close to the image border"
        return bead
    for other in others:
        if other != position and all(
            abs(o - p) <= h for o, p, h in zip(other, position, half, strict=True)
        ):
            bead.rejected_because = "too close to another bead"
            return bead
    crop = data[box]
    top = float(crop.max())
    if image.saturation is not None and top >= image.saturation:
        bead.rejected_because = (
            f"saturated ({int(np.count_nonzero(crop >= top))} pixels at "
            f"{top:g}, the maximum of {image.dtype})"
        )
        return bead
    at_top = int(np.count_nonzero(crop == top))
    if at_top >= FLAT_TOP_VOXELS:
        bead.rejected_because = f"saturated (flat top: {at_top} pixels at {top:g})"
        return bead
    centre = [h for h in half]  # the bead's maximum, in box coordinates
    fits: dict[str, PeakFit | None] = {}
    widths = list(size[1:])  # lateral FWHM in pixels: rough, then from the first fit
    for _ in range(2):  # z through (y, x); then y and x from the in-focus plane
        fits["z"] = fit_peak(crop[:, centre[1], centre[2]], lateral=False)
        if fits["z"] is not None:
            centre[0] = min(max(round(fits["z"].centre), 0), crop.shape[0] - 1)
        core = [
            min(h, max(2, math.ceil(CORE_FWHM * w))) for h, w in zip(half[1:], widths, strict=True)
        ]
        low = [c - h for c, h in zip(centre[1:], core, strict=True)]
        if min(low) < 0 or any(
            c + h >= n for c, h, n in zip(centre[1:], core, crop.shape[1:], strict=True)
        ):
            low = [c - h for c, h in zip(half[1:], core, strict=True)]
        window = crop[
            centre[0], low[0] : low[0] + 2 * core[0] + 1, low[1] : low[1] + 2 * core[1] + 1
        ]
        lateral = fit_plane(window)
        fits["y"], fits["x"] = lateral if lateral is not None else (None, None)
        for i, axis in ((1, "y"), (2, "x")):
            fit = fits[axis]
            if fit is not None:
                fit.centre += low[i - 1]
                centre[i] = min(max(round(fit.centre), 0), crop.shape[i] - 1)
                widths[i - 1] = fit.fwhm
    bead.profiles = {
        "z": crop[:, centre[1], centre[2]].tolist(),
        "y": crop[centre[0], :, centre[2]].tolist(),
        "x": crop[centre[0], centre[1], :].tolist(),
    }
    for axis in AXES:
        fit = fits[axis]
        if fit is None:
            bead.rejected_because = f"no peak could be fitted along {axis}"
            return bead
        if fit.r2 < min_r2:
            bead.rejected_because = f"poor fit along {axis} (R2 {fit.r2:.2f} < {min_r2:g})"
            return bead
    found = {a: fits[a] for a in AXES}
    bead.fits = {a: f for a, f in found.items() if f is not None}
    i = {a: n for n, a in enumerate(AXES)}
    bead.position_px = {
        a: float(position[i[a]] - half[i[a]] + f.centre) for a, f in bead.fits.items()
    }
    bead.position_um = {a: v * scale[i[a]] for a, v in bead.position_px.items()}
    bead.fwhm = {a: f.fwhm * scale[i[a]] for a, f in bead.fits.items()}
    bead.r2 = {a: f.r2 for a, f in bead.fits.items()}
    bead.fit_model = {a: f.model for a, f in bead.fits.items()}
    lateral = sorted((bead.fwhm["x"], bead.fwhm["y"]))
    bead.lateral_asymmetry_ratio = lateral[0] / lateral[1]
    bead.ellipticity = 1.0 - bead.lateral_asymmetry_ratio
    local_bg = float(np.median(np.concatenate([crop[0].ravel(), crop[-1].ravel()])))
    bead.peak, bead.background = top, local_bg
    bead.signal_to_background = top / local_bg if local_bg > 0 else None
    bead.measured = True
    return bead
