"""FAIR Image Objects: OME-Zarr stores, their reports, metadata and provenance in an RO-Crate."""
