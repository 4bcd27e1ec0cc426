"""Label images: the ``labels`` group and each ``image-label`` against its image."""

from __future__ import annotations

import json
from collections import Counter

from fairio_tools.ngff.validate.multiscales import Image
from fairio_tools.ngff.zarr_metadata import (
    ZarrNode,
)


class LabelChecks:
    """The labels group and its label images."""

    def labels(self, image_rel: str, image: Image) -> None:
        labels_rel = f"{image_rel}/labels" if image_rel else "labels"
        node = self.node(labels_rel)
        if not isinstance(node, ZarrNode):
            return
        ome, pointer = self.ome_attributes(node)
        if ome is None:
            return
        names = ome.get("labels")
        if not isinstance(names, list):
            self.error(
                "labels-invalid",
                "the 'labels' group does not list its label images under 'labels'",
                node.metadata_file,
                pointer,
                'write {"labels": ["name", ...]} into the labels group',
            )
            return
        for index, name in enumerate(names):
            where = f"{pointer}/labels/{index}"
            label_rel = self.follow(labels_rel, name, "label", node.metadata_file, where)
            if label_rel is None:
                continue
            label_node = self.node(label_rel)
            if label_node is False:
                continue
            if label_node is None:
                self.error(
                    "missing-label",
                    f"label image {name!r} is listed but {label_rel!r} holds nothing",
                    node.metadata_file,
                    where,
                    "write the label image, or remove it from the list",
                )
                continue
            self.label(label_rel, label_node, image)

    def label(self, rel: str, node: ZarrNode, image: Image) -> None:
        ome, pointer = self.ome_attributes(node)
        if ome is None:
            return
        if "multiscales" not in ome:
            self.error(
                "missing-multiscales",
                "a label image MUST contain 'multiscales' metadata",
                node.metadata_file,
                pointer,
                "write the label image as a multiscale image",
            )
            return
        if "image-label" not in ome:
            self.warn(
                "label-metadata-missing",
                "listed as a label image but has no 'image-label' metadata",
                node.metadata_file,
                pointer,
                'add "image-label": {"colors": [...], "source": {"image": "../../"}}',
            )
        label = self.image(rel, node, ome, pointer)
        if label is None:
            return
        if label.declared != image.declared:
            self.error(
                "label-levels",
                f"label has {label.declared} resolution levels, its image "
                f"{image.declared}; they MUST have the same number",
                node.metadata_file,
                f"{pointer}/multiscales/0/datasets",
                "write the label pyramid with the image's levels",
            )
        if label.levels and image.levels:
            label_space = label.space_shape()
            image_space = image.space_shape()
            if label_space and image_space and label_space != image_space:
                self.warn(
                    "label-shape-mismatch",
                    f"label's spatial shape {label_space} differs from its image's {image_space}",
                    node.metadata_file,
                    f"{pointer}/multiscales/0/datasets/0",
                    "a label image covers its image pixel for pixel: resample it",
                )
            dtype = label.levels[0][1].dtype
            if not dtype.startswith(("int", "uint")):
                self.warn(
                    "label-dtype",
                    f"label image is {dtype}; label values are integers",
                    node.metadata_file,
                    pointer,
                    "store labels as an unsigned integer type (uint8, uint16, uint32)",
                )
        self.label_metadata(node, ome, pointer)

    def label_metadata(self, node: ZarrNode, ome: dict, pointer: str) -> None:
        """The ``image-label`` object itself: its colours."""
        label = ome.get("image-label")
        if not isinstance(label, dict):
            return
        colors = label.get("colors")
        self.version_should(node, label, "image-label", f"{pointer}/image-label")
        if "colors" not in label:
            self.should(
                "label-colors-missing",
                "'image-label' has no 'colors'; the spec says it SHOULD list one per label value",
                node.metadata_file,
                f"{pointer}/image-label",
                'add "colors": [{"label-value": 1, "rgba": [255, 0, 0, 255]}, ...]',
            )
        if isinstance(colors, list):
            values = [c.get("label-value") for c in colors if isinstance(c, dict)]
            counts = Counter(map(json.dumps, values))
            duplicates = sorted({v for v in values if counts[json.dumps(v)] > 1}, key=str)
            if duplicates:
                self.warn(
                    "label-value-duplicate",
                    f"label values {duplicates} have more than one colour",
                    node.metadata_file,
                    f"{pointer}/image-label/colors",
                    "give each label value one entry",
                )
