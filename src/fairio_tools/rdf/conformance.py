"""Study metadata checked by pySHACL against the shapes ``metadata.shacl`` generates: the
study's RDF (``rdf.study``) is an RDF concern, so the check lives here and ``metadata/``
never imports ``rdf/``."""

from __future__ import annotations

from typing import Any

from rdflib import RDF, SH, Graph, URIRef

from fairio_tools.metadata.model import load_model
from fairio_tools.metadata.shacl import shapes_graph
from fairio_tools.rdf.study import add_study


def shacl_verdicts(
    document: dict[str, Any], profile: str
) -> tuple[bool, set[tuple[str, str, str]]]:
    """Run pySHACL on the document; return (conforms, {(section, field, severity)})."""
    from pyshacl import validate

    model = load_model()
    data = Graph()
    add_study(data, document)
    conforms, results, _ = validate(
        data, shacl_graph=shapes_graph(profile), inference="none", allow_warnings=True
    )
    sections = {URIRef(model.iri(s.rdf_class)): s for s in model.sections}
    verdicts = set()
    for result in results.objects(None, SH.result):
        focus = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        severity = results.value(result, SH.resultSeverity)
        section = next(sections[c] for c in data.objects(focus, RDF.type) if c in sections)
        field = next(f for f in section.fields if URIRef(model.iri(f.predicate)) == path)
        level = "error" if severity == SH.Violation else "warning"
        verdicts.add((section.name, field.name, level))
    return bool(conforms), verdicts
