"""Namespaces of the linked data fairio-tools writes, and the JSON-LD context that names them."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from rdflib import Graph, Namespace

from fairio_tools.metadata.model import load_model
from fairio_tools.namespaces import NAMESPACES

SCHEMA = Namespace(NAMESPACES["schema"])
PROV = Namespace(NAMESPACES["prov"])
OME = Namespace(NAMESPACES["ome"])
MM = Namespace(NAMESPACES["mm"])
NBO = Namespace(NAMESPACES["nbo"])


def fairio_namespace() -> Namespace:
    return Namespace(load_model().vocabulary)


@cache
def jsonld_context() -> dict[str, Any]:
    """The JSON-LD context shipped with the package (``context.jsonld``)."""
    text = files("fairio_tools.rdf").joinpath("context.jsonld").read_text(encoding="utf-8")
    return json.loads(text)["@context"]


def new_graph() -> Graph:
    graph = Graph()
    graph.bind("schema", SCHEMA, override=True, replace=True)
    graph.bind("prov", PROV)
    graph.bind("ome", OME)
    graph.bind("mm", MM)
    graph.bind("nbo", NBO)
    graph.bind("fairio", fairio_namespace())
    for prefix, namespace in load_model().prefixes.items():
        graph.bind(prefix.lower(), Namespace(namespace))
    return graph


def serialize(graph: Graph, fmt: str) -> str:
    """The graph as Turtle, or as JSON-LD compacted with the shipped context."""
    if fmt == "turtle":
        return graph.serialize(format="turtle")
    return graph.serialize(format="json-ld", context=jsonld_context(), indent=2)
