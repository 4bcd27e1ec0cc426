"""Conversions between microscopy files and OME-Zarr, both ways."""
