"""Provenance of a prediction: which model, weights, tiling and software made it.

Written twice: as plain attributes in the output's metadata, and as JSON-LD (W3C PROV-O with
schema.org terms) that any RDF tool can read.
"""

from __future__ import annotations

import datetime
import importlib.metadata
from dataclasses import asdict, dataclass
from typing import Any

PACKAGES = ("fairio-tools", "bioimageio.core", "bioimageio.spec", "onnxruntime", "numpy", "torch")


@dataclass
class PredictionProvenance:
    """Everything needed to say how a prediction was made, and to make it again."""

    model_name: str
    model_id: str | None
    model_version: str | None
    model_source: str
    weight_format: str
    weights_sha256: str
    tile_size: dict[str, int]
    tiles: int
    device: str
    input_images: dict[str, str]
    """Input tensor id -> the image file it was given."""
    started: str
    ended: str
    software: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_jsonld(self, output_name: str, output_id: str | None = None) -> dict[str, Any]:
        """The prediction as a ``prov:Activity`` that used the model and the images and
        generated ``output_name`` (the model's output ``output_id``)."""
        model: dict[str, Any] = {
            "@id": f"https://bioimage.io/#/?id={self.model_id}" if self.model_id else "_:model",
            "@type": ["schema:SoftwareSourceCode", "prov:Entity"],
            "schema:name": self.model_name,
            "schema:identifier": self.model_id,
            "schema:version": self.model_version,
            "fairio:weightFormat": self.weight_format,
            "fairio:weightsSha256": self.weights_sha256,
            "prov:atLocation": self.model_source,
        }
        inputs = [
            {"@id": f"_:input{n}", "@type": "prov:Entity", "schema:name": name,
             "fairio:tensor": tensor}
            for n, (tensor, name) in enumerate(self.input_images.items())
        ]  # fmt: skip
        return {
            "@context": {
                "prov": "http://www.w3.org/ns/prov#",
                "schema": "https://schema.org/",
                "fairio": "https://w3id.org/fairio-tools/terms#",
                "xsd": "http://www.w3.org/2001/XMLSchema#",
                "prov:startedAtTime": {"@type": "xsd:dateTime"},
                "prov:endedAtTime": {"@type": "xsd:dateTime"},
            },
            "@id": "_:prediction",
            "@type": "prov:Activity",
            "schema:name": f"prediction with {self.model_name}",
            "prov:startedAtTime": self.started,
            "prov:endedAtTime": self.ended,
            "prov:used": [
                {k: v for k, v in model.items() if v is not None},
                *inputs,
            ],
            "prov:generated": {
                "@id": "_:output",
                "@type": "prov:Entity",
                "schema:name": output_name,
                **({"fairio:tensor": output_id} if output_id else {}),
                "prov:wasDerivedFrom": [{"@id": i["@id"]} for i in inputs],
            },
            "prov:wasAssociatedWith": [
                {
                    "@type": ["schema:SoftwareApplication", "prov:SoftwareAgent"],
                    "schema:name": name,
                    "schema:softwareVersion": version,
                }
                for name, version in self.software.items()
            ],
            "fairio:device": self.device,
            "fairio:tileSize": [
                {"fairio:axis": axis, "fairio:size": size} for axis, size in self.tile_size.items()
            ],
            "fairio:tiles": self.tiles,
        }


def now() -> str:
    """The current UTC time as ISO 8601."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def software_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages a prediction depends on (absent ones left out)."""
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
