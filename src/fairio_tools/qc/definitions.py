"""Where each QC metric is defined: the protocols cited in reports and in the tools' help."""

from __future__ import annotations

SOURCES = {
    "QUAREP-LiMi": "Faklaris O. et al. (2022) Quality assessment in light microscopy for "
    "routine use through simple tools and robust metrics. J Cell Biol 221(11):e202107093, "
    "doi:10.1083/jcb.202107093",
    "MetroloJ_QC": "Matthews C., Cordelières F.P. (2010) MetroloJ: an ImageJ plugin to help "
    "monitor microscopes' health. ImageJ User & Developer Conference; MetroloJ_QC "
    "(github.com/MontpellierRessourcesImagerie/MetroloJ_QC), as used by QUAREP-LiMi WG3",
    "microscope-metrics": "microscope-metrics (github.com/MontpellierRessourcesImagerie/"
    "microscope-metrics): field-illumination and PSF-beads analyses and their data schema "
    "(microscopemetrics-schema); definitions re-implemented here, the GPL code is not used",
}

PSF = {
    "fwhm": "full width at half maximum of a Gaussian fitted to the intensity profile "
    "through the bead centre along x, y and z (MetroloJ_QC, microscope-metrics); the "
    "Gaussian is refined on the samples above 30 % of its amplitude",
    "r2": "coefficient of determination of the Gaussian fit over the profile (fit quality, "
    "MetroloJ_QC)",
    "lateral_asymmetry_ratio": "min(FWHM x, FWHM y) / max(FWHM x, FWHM y) (MetroloJ_QC LAR)",
    "ellipticity": "1 - lateral asymmetry ratio",
    "signal_to_background": "bead peak intensity / local background (MetroloJ_QC SBR)",
    "theoretical_fwhm": "widefield: lateral 0.51 lambda / NA, axial 0.88 lambda / "
    "(n - sqrt(n^2 - NA^2)) (MetroloJ_QC)",
}

ILLUMINATION = {
    "uniformity_percent": "100 x min / max of the smoothed image (MetroloJ_QC, QUAREP-LiMi U)",
    "field_uniformity_percent": "100 x (1 - standard deviation / mean) of the smoothed image",
    "centre_of_illumination": "summit of the quadratic surface fitted to the log intensity of "
    "the 90-100 % iso-intensity region that holds the maximum: the region's centroid "
    "(MetroloJ_QC, microscope-metrics; reported too) is biased when the border cuts it",
    "centring_accuracy_percent": "100 x (1 - 2 d / D): d the distance from the centre of "
    "illumination to the image centre, D the image diagonal (MetroloJ_QC, QUAREP-LiMi)",
    "corner_ratios": "smoothed intensity at each corner / the maximum (microscope-metrics)",
    "iso_intensity_fractions": "fraction of the field in each 10 % band of the normalised "
    "intensity (microscope-metrics, MetroloJ_QC)",
    "smoothing": "local linear regression with a Gaussian window (sigma 4 % of the shorter "
    "side, at least 2 pixels): noise-robust and unbiased at the borders and corners",
}
