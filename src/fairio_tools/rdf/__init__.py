"""Linked data: image and study metadata as one RDF graph (JSON-LD, Turtle)."""
