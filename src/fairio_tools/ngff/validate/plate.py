"""High-content screening: plates and wells."""

from __future__ import annotations

from fairio_tools.ngff.zarr_metadata import (
    ZarrNode,
)


class PlateChecks:
    """Plates and wells."""

    def plate(self, rel: str, node: ZarrNode, ome: dict, pointer: str) -> None:
        plate = ome.get("plate")
        file = node.metadata_file
        self.schema(node, "plate")
        if not isinstance(plate, dict):
            return
        pointer = f"{pointer}/plate"
        self.plate_shoulds(node, plate, pointer)
        names: dict[str, list] = {}
        for key in ("rows", "columns"):
            entries = plate.get(key) if isinstance(plate.get(key), list) else []
            names[key] = [e.get("name") if isinstance(e, dict) else None for e in entries]
            seen: set = set()
            for index, name in enumerate(names[key]):
                if name is not None and name in seen:
                    self.error(
                        "plate-duplicate-name",
                        f"{key[:-1]} name {name!r} is used twice",
                        file,
                        f"{pointer}/{key}/{index}/name",
                        f"give every {key[:-1]} a unique name",
                    )
                seen.add(name)
        acquisitions = plate.get("acquisitions")
        acquisition_ids = (
            {a.get("id") for a in acquisitions if isinstance(a, dict)}
            if isinstance(acquisitions, list)
            else None
        )
        wells = plate.get("wells") if isinstance(plate.get("wells"), list) else []
        for index, well in enumerate(wells):
            if not isinstance(well, dict):
                continue
            where = f"{pointer}/wells/{index}"
            row, column = well.get("rowIndex"), well.get("columnIndex")
            if not (isinstance(row, int) and 0 <= row < len(names["rows"])) or not (
                isinstance(column, int) and 0 <= column < len(names["columns"])
            ):
                self.error(
                    "well-index",
                    f"well rowIndex {row!r} / columnIndex {column!r} is outside the plate's "
                    f"{len(names['rows'])} rows and {len(names['columns'])} columns",
                    file,
                    where,
                    "use 0-based indices into 'rows' and 'columns'",
                )
            elif well.get("path") != f"{names['rows'][row]}/{names['columns'][column]}":
                self.error(
                    "well-path-mismatch",
                    f"well path {well.get('path')!r} does not name row "
                    f"{names['rows'][row]!r} and column {names['columns'][column]!r} of its "
                    "indices",
                    file,
                    f"{where}/path",
                    "write the path as '<row name>/<column name>'",
                )
            well_rel = self.follow(rel, well.get("path"), "well", file, f"{where}/path")
            if well_rel is None or self.metadata_only:
                continue
            well_node = self.node(well_rel)
            if well_node is False:
                continue
            if well_node is None:
                self.error(
                    "missing-well",
                    f"well {well.get('path')!r} is listed but holds nothing",
                    file,
                    f"{where}/path",
                    "write the well group, or remove it from 'wells'",
                )
                continue
            well_ome, well_pointer = self.ome_attributes(well_node)
            if well_ome is not None:
                self.well(well_rel, well_node, well_ome, well_pointer, acquisition_ids)

    def well(self, rel: str, node: ZarrNode, ome: dict, pointer: str, acquisitions) -> None:
        well = ome.get("well")
        self.schema(node, "well")
        if not isinstance(well, dict) or not isinstance(well.get("images"), list):
            if not isinstance(well, dict):
                self.error("missing-well", "group has no 'well' metadata", node.metadata_file)
            return
        file, pointer = node.metadata_file, f"{pointer}/well"
        self.version_should(node, well, "well", pointer)
        for index, field_of_view in enumerate(well["images"]):
            if not isinstance(field_of_view, dict):
                continue
            where = f"{pointer}/images/{index}"
            acquisition = field_of_view.get("acquisition")
            if (
                acquisitions is not None
                and acquisition is not None
                and (acquisition not in acquisitions)
            ):
                self.error(
                    "well-acquisition",
                    f"field refers to acquisition {acquisition!r}, which the plate does not define",
                    file,
                    f"{where}/acquisition",
                    "use an 'id' from the plate's 'acquisitions'",
                )
            image_rel = self.follow(rel, field_of_view.get("path"), "field", file, f"{where}/path")
            if image_rel is None or self.metadata_only:
                continue
            self.nested_image(image_rel, file, f"{where}/path", "field of view")

    def plate_shoulds(self, node: ZarrNode, plate: dict, pointer: str) -> None:
        """What a plate SHOULD have: a name, acquisitions with a name and a field count."""
        file = node.metadata_file
        self.version_should(node, plate, "plate", pointer)
        if "name" not in plate:
            self.should(
                "plate-name-missing",
                "the plate has no 'name'; the spec says it SHOULD",
                file,
                pointer,
                'add "name": "<plate name>"',
            )
        acquisitions = plate.get("acquisitions")
        if not isinstance(acquisitions, list):
            return
        for index, acquisition in enumerate(acquisitions):
            if not isinstance(acquisition, dict):
                continue
            missing = [key for key in ("name", "maximumfieldcount") if key not in acquisition]
            if missing:
                self.should(
                    "acquisition-incomplete",
                    f"acquisition {acquisition.get('id')!r} has no {' or '.join(missing)}; the "
                    "spec says it SHOULD",
                    file,
                    f"{pointer}/acquisitions/{index}",
                    "name each acquisition and give its maximum number of fields per well",
                )
