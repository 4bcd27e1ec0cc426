"""Microscope quality control: metrics measured on images of QC samples.

``illumination``: field illumination (uniformity, centre of illumination, corner ratios,
profiles) of an image of a homogeneous fluorescent sample; ``psf``: the point spread
function (FWHM in x, y, z, fit quality, asymmetry) of sub-resolution beads. Both follow the
published definitions of QUAREP-LiMi, MetroloJ_QC and microscope-metrics (see
``definitions.py``), read pixels only through ``images/`` and return typed reports that
``figures`` and ``html`` render.
"""
