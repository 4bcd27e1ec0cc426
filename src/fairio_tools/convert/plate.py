"""High-content screening: the OME-XML ``Plate`` of a source, laid out as an NGFF plate.

The layout is the one bioformats2raw writes: ``<row>/<column>/<field>`` below the root, rows
named ``A``, ``B``, ... ``AA`` from the 0-based OME ``Row``, columns ``1``, ``2``, ... from
the 0-based ``Column``, fields numbered in the order of the well's ``WellSample`` elements.
One store holds one plate (bioformats2raw writes only the first); the others are reported.

A ``WellSample`` names its image by ``ImageRef``; files of the 2010-06 schema and older may
give only its ``Index``, which is then read as the index of the image (series). Plate
acquisitions are written when every field says which one it belongs to (``WellSampleRef``);
otherwise they stay in the OME-XML only, since NGFF needs an acquisition on every field of a
plate with several.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairio_tools import limits
from fairio_tools.errors import InputError
from fairio_tools.images.ome_xml import parse_ome_root
from fairio_tools.ngff import writer
from fairio_tools.ngff.format import NgffFormat

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

MAX_SIDE = 26 * 27
"""Rows and columns of a plate: row names run from ``A`` to ``ZZ`` (as bioformats2raw names
them); no plate has more columns either (the largest have 48 x 72 wells)."""


@dataclass
class PlateField:
    """One field of view: the series it is, where it goes, its acquisition."""

    series: int
    path: str
    acquisition: int | None


@dataclass
class PlateLayout:
    """One plate of a source: its wells and fields, as NGFF writes them."""

    index: int
    name: str
    rows: list[str]
    columns: list[str]
    wells: dict[tuple[str, str], list[PlateField]]
    acquisitions: list[dict[str, Any]]
    other_plates: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    """OME screening metadata NGFF has no place for (kept in ``OME/METADATA.ome.xml``)."""
    notes: list[str] = field(default_factory=list)

    @property
    def fields(self) -> list[PlateField]:
        """Every field of every well, in well order."""
        return [f for fields in self.wells.values() for f in fields]

    def root_attributes(self, fmt: NgffFormat) -> dict[str, Any]:
        """The ``plate`` attribute of the root group."""
        field_count = max((len(fields) for fields in self.wells.values()), default=0)
        return writer.plate_attributes(
            fmt, self.name, self.rows, self.columns, list(self.wells), self.acquisitions,
            field_count,
        )  # fmt: skip

    def write_wells(self, root: Any, fmt: NgffFormat) -> None:
        """Write the ``well`` attribute of every well group below ``root``."""
        for (row, column), fields in self.wells.items():
            images = [(f.path.rsplit("/", 1)[1], f.acquisition) for f in fields]
            root[f"{row}/{column}"].attrs.update(
                fmt.group_attributes(writer.well_attributes(fmt, images))
            )


def row_name(index: int) -> str:
    """``A`` ... ``Z``, ``AA`` ... ``ZZ`` for 0-based rows 0 ... 701."""
    name = chr(ord("A") + index % 26)
    return name if index < 26 else chr(ord("A") + index // 26 - 1) + name


def read_plate(xml: str, path: Path, image_count: int, plate: int) -> PlateLayout | None:
    """Plate number ``plate`` of the OME-XML ``xml`` (of ``path``, holding ``image_count``
    images), or None when the document has no plate with any well sample."""
    root = parse_ome_root(xml, path)
    plates = [p for p in root.findall("{*}Plate") if p.find("{*}Well/{*}WellSample") is not None]
    if not plates:
        return None
    if not 0 <= plate < len(plates):
        raise InputError(
            f"has no plate {plate}: its OME-XML holds {len(plates)} plates with well samples "
            f"(0 to {len(plates) - 1})",
            path=path,
            field="plate",
        )
    element = plates[plate]
    image_ids = {image.get("ID"): i for i, image in enumerate(root.findall("{*}Image"))}
    layout = PlateLayout(
        index=plate,
        name=element.get("Name") or element.get("ID") or f"plate {plate}",
        rows=[],
        columns=[],
        wells={},
        acquisitions=[],
        other_plates=[p.get("Name") or p.get("ID") or "" for p in plates if p is not element],
    )
    acquisition_of = _acquisitions(element, layout, path)
    layout.unmapped = _unmapped(root, element)
    seen: dict[int, str] = {}
    max_row, max_column = -1, -1
    for well in element.findall("{*}Well"):
        row, column = _position(well, "Row", path), _position(well, "Column", path)
        key = (row_name(row), str(column + 1))
        if key in layout.wells:
            raise InputError(f"plate {layout.name!r} has two wells at {'/'.join(key)}", path=path)
        fields = []
        for sample in well.findall("{*}WellSample"):
            series = _series(sample, image_ids, image_count, path, layout.notes)
            if series is None:
                continue
            where = f"{key[0]}/{key[1]}/{len(fields)}"
            if series in seen:
                raise InputError(
                    f"image {series} is a field of both {seen[series]} and {where} of plate "
                    f"{layout.name!r}",
                    path=path,
                )
            seen[series] = where
            fields.append(PlateField(series, where, acquisition_of.get(sample.get("ID"))))
        if fields:
            layout.wells[key] = fields
            max_row, max_column = max(max_row, row), max(max_column, column)
    if not layout.wells:
        return None
    rows = max(_size(element, "Rows", path), max_row + 1)
    columns = max(_size(element, "Columns", path), max_column + 1)
    layout.rows = [row_name(r) for r in range(rows)]
    layout.columns = [str(c + 1) for c in range(columns)]
    if layout.acquisitions and any(f.acquisition is None for f in layout.fields):
        layout.notes.append(
            f"plate acquisitions ({len(layout.acquisitions)}) not written: not every field "
            "says which acquisition it belongs to (WellSampleRef); they stay in the OME-XML"
        )
        layout.acquisitions = []
        for f in layout.fields:
            f.acquisition = None
    return layout


_UNMAPPED_SAMPLE_ATTRIBUTES = ("PositionX", "PositionY", "Timepoint")


def _unmapped(root: Element, plate: Element) -> list[str]:
    """What of the screen and this plate NGFF cannot hold, by name."""
    names = []
    if root.find("{*}Screen") is not None:
        names.append("Screen (and its Reagents)")
    samples = plate.findall("{*}Well/{*}WellSample")
    for attribute in _UNMAPPED_SAMPLE_ATTRIBUTES:
        if any(sample.get(attribute) is not None for sample in samples):
            names.append(f"WellSample {attribute}")
    if plate.find("{*}Well/{*}ReagentRef") is not None:
        names.append("Well ReagentRef")
    return names


def _acquisitions(plate: Element, layout: PlateLayout, path: Path) -> dict[str | None, int]:
    """Fill ``layout.acquisitions``; the acquisition id of each well sample ID it names."""
    of_sample: dict[str | None, int] = {}
    acquisitions = plate.findall("{*}PlateAcquisition")
    limits.enforce("FAIRIO_MAX_SERIES", len(acquisitions), "plate acquisitions", path)
    for index, acquisition in enumerate(acquisitions):
        entry: dict[str, Any] = {"id": index}
        name = acquisition.get("Name") or acquisition.get("ID")
        if name:
            entry["name"] = name
        maximum = acquisition.get("MaximumFieldCount", "")
        if _is_number(maximum) and int(maximum) > 0:
            entry["maximumfieldcount"] = int(maximum)
        description = acquisition.find("{*}Description")
        if description is not None and (description.text or "").strip():
            entry["description"] = description.text.strip()
        layout.acquisitions.append(entry)
        for ref in acquisition.findall("{*}WellSampleRef"):
            of_sample.setdefault(ref.get("ID"), index)
    return of_sample


def _series(
    sample: Element, image_ids: dict[str | None, int], count: int, path: Path, notes: list[str]
) -> int | None:
    """The image a well sample shows, or None (with a note) when it names none of the file."""
    ref = sample.find("{*}ImageRef")
    label = sample.get("ID") or "a WellSample"
    if ref is not None:
        series = image_ids.get(ref.get("ID"))
        if series is None or series >= count:
            notes.append(f"{label} refers to image {ref.get('ID')!r}, which the file lacks")
            return None
        return series
    index = sample.get("Index", "")
    if _is_number(index) and int(index) < count:
        return int(index)
    notes.append(f"{label} names no image (no ImageRef, Index {index!r}): not a field")
    return None


def _position(well: Element, attribute: str, path: Path) -> int:
    text = well.get(attribute, "")
    if not _is_number(text) or int(text) >= MAX_SIDE:
        raise InputError(
            f"OME-XML Well {well.get('ID') or ''} {attribute}={text!r} is not a well position "
            f"(0 to {MAX_SIDE - 1})",
            path=path,
        )
    return int(text)


def _size(plate: Element, attribute: str, path: Path) -> int:
    text = plate.get(attribute)
    if text is None:
        return 0
    if not _is_number(text) or int(text) > MAX_SIDE:
        raise InputError(
            f"OME-XML Plate {attribute}={text!r} is not a plate size (at most {MAX_SIDE})",
            path=path,
        )
    return int(text)


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()
