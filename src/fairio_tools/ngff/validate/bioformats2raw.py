"""The bioformats2raw layout: a root of image series, listed in ``OME/`` or numbered."""

from __future__ import annotations

from fairio_tools.findings import json_pointer
from fairio_tools.ngff.validate.traversal import MAX_LIST_ENTRIES
from fairio_tools.ngff.zarr_metadata import (
    ZarrNode,
    has_zarr_metadata,
)


class Bioformats2rawChecks:
    """A bioformats2raw root and its series."""

    def bioformats2raw(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> None:
        self.schema(node, "bf2raw")
        if self.metadata_only:
            return
        series: list = []
        ome_rel = f"{rel}/OME" if rel else "OME"
        ome_node = self.node(ome_rel) if (self.root / ome_rel).is_dir() else None
        if isinstance(ome_node, ZarrNode):
            ome_attrs, _ = self.ome_attributes(ome_node)
            listed = (ome_attrs or {}).get("series")
            if ome_attrs is not None:
                self.schema(ome_node, "ome")
            if isinstance(listed, list):
                series = [(s, ome_node.metadata_file, json_pointer("series", i)) for i, s in
                          enumerate(listed)]  # fmt: skip
        if not series:  # without a series list, images are the groups 0, 1, 2, ...
            index = 0
            while has_zarr_metadata(self.root / rel / str(index)):
                if index == MAX_LIST_ENTRIES:
                    groups = [None] * (index + 1)
                    self.too_many("series", groups, node.metadata_file, pointer, MAX_LIST_ENTRIES)
                    return
                series.append((str(index), node.metadata_file, pointer))
                index += 1
        if not series:
            self.error(
                "missing-image",
                "bioformats2raw layout without any image (no OME/series, no group '0')",
                node.metadata_file,
                pointer,
                "write the images as groups 0, 1, ... below the root",
            )
        for name, file, where in series:
            image_rel = self.follow(rel, name, "series", file, where)
            if image_rel is not None:
                self.nested_image(image_rel, file, where, "series")
