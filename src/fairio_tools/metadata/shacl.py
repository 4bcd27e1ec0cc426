"""SHACL shapes generated from the metadata model, and pySHACL's verdict on a document.

The shapes are not written by hand: each field of ``profiles.yaml`` becomes one property shape
(``sh:minCount`` for its tier, ``sh:datatype``/``sh:pattern``/``sh:nodeKind`` for its type), with
``sh:Violation`` for required fields and ``sh:Warning`` for recommended ones.
"""

from __future__ import annotations

import re

from rdflib import RDF, RDFS, SH, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from fairio_tools.metadata.model import REQUIRED, load_model


def shapes_graph(profile: str) -> Graph:
    """The SHACL shapes of ``profile``."""
    model = load_model()
    model.check_profile(profile)
    graph = Graph()
    graph.bind("sh", SH)
    graph.bind("fairio", Namespace(model.vocabulary))
    graph.bind("schema", Namespace("http://schema.org/"), override=True, replace=True)
    base = f"{model.vocabulary.removesuffix('terms#')}shapes/{profile}#"
    for section in model.sections:
        fields = section.in_profile(profile)
        if not fields:
            continue
        shape = URIRef(base + section.name)
        graph.add((shape, RDF.type, SH.NodeShape))
        graph.add(
            (shape, RDFS.label, Literal(f"{model.profiles[profile]['title']}: {section.title}"))
        )
        graph.add((shape, SH.targetClass, URIRef(model.iri(section.rdf_class))))
        for field in fields:
            prop = URIRef(f"{base}{section.name}/{field.name}")
            graph.add((shape, SH.property, prop))
            graph.add((prop, SH.path, URIRef(model.iri(field.predicate))))
            graph.add((prop, SH.name, Literal(field.key)))
            graph.add((prop, SH.description, Literal(field.description)))
            graph.add((prop, SKOS.example, Literal(field.example_text())))
            severity = SH.Violation if field.tier(profile) == REQUIRED else SH.Warning
            graph.add((prop, SH.severity, severity))
            graph.add((prop, SH.minCount, Literal(1)))
            if not field.multiple:
                graph.add((prop, SH.maxCount, Literal(1)))
            if field.type == "curie":
                namespaces = "|".join(re.escape(model.prefixes[o]) for o in field.ontologies)
                graph.add((prop, SH.nodeKind, SH.IRI))
                graph.add((prop, SH.pattern, Literal(f"^({namespaces})")))
            else:
                graph.add((prop, SH.datatype, XSD.date if field.type == "date" else XSD.string))
                if field.pattern:
                    graph.add((prop, SH.pattern, Literal(field.pattern)))
    return graph
