"""The namespaces of every vocabulary fairio-tools writes terms of: the one place both the
study-metadata model (``metadata/``) and the RDF writers (``rdf/``) take them from, so that
neither package imports the other for them."""

from __future__ import annotations

NAMESPACES = {
    "schema": "http://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "ome": "http://www.openmicroscopy.org/Schemas/OME/2016-06#",
    "dcterms": "http://purl.org/dc/terms/",
    # microscope QC: the microscope-metrics data schema (LinkML, microscopemetrics-schema) and
    # the 4DN-BINA-OME (NBO) microscopy metadata model
    "mm": "https://MontpellierRessourcesImagerie.github.io/microscopemetrics-schema/",
    "nbo": "https://github.com/WU-BIMAC/NBOMicroscopyMetadataSpecs#",
}
"""Prefix -> namespace IRI (``fairio``, the project's own terms, comes from the metadata
model's ``vocabulary``)."""
