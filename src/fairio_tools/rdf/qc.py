"""QC reports of ``fairio qc`` as linked data: the QC run, the image it measured and the
instrument it describes, and each key measurement.

Terms: the run is a ``prov:Activity`` and ``schema:AssessAction`` of the microscope
(``schema:object``, typed ``ome:Instrument`` and microscope-metrics' ``mm:Microscope``) on the
image (``prov:used``); its result is typed with the microscope-metrics class of the analysis'
key measurements (``mm:PSFBeadsKeyMeasurements``, ``mm:FieldIlluminationKeyMeasurements``)
and holds one ``schema:PropertyValue`` per metric, named by the project's own term
(``fairio:fwhm_mean_x``, ...) with its value and unit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdflib import RDF, BNode, Graph, Literal
from rdflib.term import Node

from fairio_tools.qc.records import ANALYSES, key_measurements, parameters, qc_kind
from fairio_tools.rdf.images import _decimal
from fairio_tools.rdf.vocabulary import MM, OME, PROV, SCHEMA, fairio_namespace


def add_qc_report(
    graph: Graph, data: dict[str, Any], images: dict[str, Node], instruments: dict[str, Node]
) -> Node:
    """Add the report's run, linked to the image node of the same name when there is one and
    to the instrument of the same name (one node per instrument name)."""
    kind = qc_kind(data)
    assert kind is not None, "only QC reports are added"
    name, measurements_class = ANALYSES[kind]
    fairio = fairio_namespace()
    image_name = Path(str(data.get("image", ""))).name
    image = images.get(image_name)
    if image is None:
        image = BNode()
        graph.add((image, RDF.type, SCHEMA.ImageObject))
        graph.add((image, SCHEMA.name, Literal(image_name or "unnamed image")))
        images[image_name] = image
    run = BNode()
    graph.add((run, RDF.type, PROV.Activity))
    graph.add((run, RDF.type, SCHEMA.AssessAction))
    graph.add((run, SCHEMA.name, Literal(f"{name} of {image_name}")))
    graph.add((run, PROV.used, image))
    graph.add((run, SCHEMA.instrument, Literal("fairio qc " + kind.replace("_", "-"))))
    for key, value in parameters(data).items():
        parameter = BNode()
        graph.add((run, fairio.parameter, parameter))
        graph.add((parameter, RDF.type, SCHEMA.PropertyValue))
        graph.add((parameter, SCHEMA.name, Literal(key)))
        graph.add((parameter, SCHEMA.value, Literal(value)))
    label = data.get("instrument").strip() if isinstance(data.get("instrument"), str) else ""
    if label:
        microscope = instruments.get(label)
        if microscope is None:
            microscope = instruments[label] = BNode()
            graph.add((microscope, RDF.type, OME.Instrument))
            graph.add((microscope, RDF.type, MM.Microscope))
            graph.add((microscope, SCHEMA.name, Literal(label)))
        graph.add((run, SCHEMA.object, microscope))
        graph.add((image, fairio.acquiredWith, microscope))
    result = BNode()
    graph.add((result, RDF.type, MM[measurements_class]))
    graph.add((result, SCHEMA.about, image))
    graph.add((run, SCHEMA.result, result))
    graph.add((run, PROV.generated, result))
    for measurement in key_measurements(data):
        value = BNode()
        graph.add((result, SCHEMA.variableMeasured, value))
        graph.add((value, RDF.type, SCHEMA.PropertyValue))
        graph.add((value, SCHEMA.propertyID, fairio[measurement.id]))
        graph.add((value, SCHEMA.name, Literal(measurement.id)))
        graph.add((value, SCHEMA.value, _decimal(measurement.value)))
        if measurement.unit:
            graph.add((value, SCHEMA.unitText, Literal(measurement.unit)))
    return run
