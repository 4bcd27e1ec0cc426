"""Study metadata as RDF: one node per REMBI section, terms taken from the metadata model."""

from __future__ import annotations

from typing import Any

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from fairio_tools.metadata.model import Field, Model, load_model
from fairio_tools.metadata.values import to_term, values_of


def add_study(graph: Graph, document: dict[str, Any], study: Node | None = None) -> Node:
    """Add the study described by ``document`` to ``graph``; return the study's node.

    Every section of the model gets a node, even an empty one, so that SHACL shapes find
    something to check (and report what is missing) where a section was left out.
    """
    model = load_model()
    study = study if study is not None else BNode()
    for section in model.sections:
        node = study if section.link is None else BNode()
        graph.add((node, RDF.type, URIRef(model.iri(section.rdf_class))))
        if section.link is not None:
            graph.add((study, URIRef(model.iri(section.link)), node))
        given = document.get(section.name)
        if not isinstance(given, dict):
            continue
        for field in section.fields:
            for value in values_of(given.get(field.name)):
                graph.add((node, URIRef(model.iri(field.predicate)), rdf_term(field, value, model)))
    return study


def rdf_term(field: Field, value: Any, model: Model) -> Node:
    term = to_term(field, value, model)
    if term.kind == "iri":
        return URIRef(term.iri)
    if term.kind == "date":
        return Literal(term.text, datatype=XSD.date)
    if term.kind == "structure":
        return BNode()  # not a value SHACL accepts: reported as a wrong value, like in Python
    return Literal(term.text)
