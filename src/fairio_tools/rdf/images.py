"""Image metadata as RDF: from ``fairio image-info`` JSON, OME-XML or NGFF attributes.

All three sources become one :class:`ImageDescription`, which becomes RDF in one place:
``schema:ImageObject`` for discovery, OME terms (``ome:SizeX``, ``ome:PhysicalSizeX``, ...) for
what a microscopist needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rdflib import RDF, XSD, BNode, Graph, Literal
from rdflib.term import Node

from fairio_tools.errors import InputError
from fairio_tools.ngff.axes import ngff_unit
from fairio_tools.rdf.vocabulary import OME, SCHEMA, fairio_namespace

MEDIA_TYPES = {
    "ome-tiff": "image/tiff",
    "imagej-tiff": "image/tiff",
    "tiff": "image/tiff",
    "png": "image/png",
    "jpeg": "image/jpeg",
}


@dataclass
class ImageDescription:
    name: str
    encoding_format: str
    axes: str = ""
    shape: list[int] = field(default_factory=list)
    dtype: str | None = None
    physical_sizes: dict[str, tuple[float, str | None]] = field(default_factory=dict)
    time_increment: tuple[float, str | None] | None = None
    channels: list[str] = field(default_factory=list)
    content_size: int | None = None
    ngff_version: str | None = None
    levels: int | None = None


def add_image(graph: Graph, image: ImageDescription) -> Node:
    node = BNode()
    fairio = fairio_namespace()
    graph.add((node, RDF.type, SCHEMA.ImageObject))
    graph.add((node, SCHEMA.name, Literal(image.name)))
    graph.add((node, SCHEMA.encodingFormat, Literal(image.encoding_format)))
    if image.content_size is not None:
        graph.add((node, SCHEMA.contentSize, Literal(f"{image.content_size} B")))
    if image.ngff_version:
        graph.add((node, fairio.ngffVersion, Literal(image.ngff_version)))
    if image.levels is not None:
        graph.add((node, fairio.resolutionLevels, Literal(image.levels)))
    pixels = BNode()
    graph.add((node, OME.Pixels, pixels))
    graph.add((pixels, RDF.type, OME.Pixels))
    if image.axes:
        graph.add((pixels, fairio.axes, Literal(image.axes)))
    known_shape = len(image.shape) == len(image.axes)
    for axis, size in zip(image.axes, image.shape if known_shape else [], strict=False):
        if axis in "xyzct":
            graph.add((pixels, OME[f"Size{axis.upper()}"], Literal(int(size))))
    if known_shape and "x" in image.axes and "y" in image.axes:
        graph.add((node, SCHEMA.width, Literal(int(image.shape[image.axes.index("x")]))))
        graph.add((node, SCHEMA.height, Literal(int(image.shape[image.axes.index("y")]))))
    if image.dtype:
        graph.add((pixels, OME.Type, Literal(image.dtype)))
    for axis, (value, unit) in sorted(image.physical_sizes.items()):
        if axis in "xyz":
            graph.add((pixels, OME[f"PhysicalSize{axis.upper()}"], _decimal(value)))
            if unit:
                graph.add((pixels, OME[f"PhysicalSize{axis.upper()}Unit"], Literal(unit)))
    if image.time_increment is not None:
        value, unit = image.time_increment
        graph.add((pixels, OME.TimeIncrement, _decimal(value)))
        if unit:
            graph.add((pixels, OME.TimeIncrementUnit, Literal(unit)))
    for index, label in enumerate(image.channels):
        channel = BNode()
        graph.add((pixels, OME.Channel, channel))
        graph.add((channel, RDF.type, OME.Channel))
        graph.add((channel, SCHEMA.name, Literal(label or f"channel {index}")))
        graph.add((channel, SCHEMA.position, Literal(index)))
    return node


def _decimal(value: float) -> Literal:
    """A measured number as xsd:decimal, written exactly (rdflib's Turtle rounds doubles)."""
    return Literal(format(Decimal(repr(float(value))), "f"), datatype=XSD.decimal)


def from_image_info(info: dict[str, Any], path: Path) -> list[ImageDescription]:
    """One description per series of a ``fairio image-info`` report."""
    try:
        file_name = Path(info["path"]).name
        images = []
        for series in info["series"]:
            axes = "".join(series["axes"])
            sizes = {
                axis: (float(q["value"]), q.get("unit"))
                for axis, q in (series.get("physical_sizes") or {}).items()
            }
            interval = series.get("time_interval")
            name = series.get("name") or file_name
            if len(info["series"]) > 1:
                name = f"{name} (series {series['index']})"
            images.append(
                ImageDescription(
                    name=name,
                    encoding_format=MEDIA_TYPES.get(info["format"], info["format"]),
                    axes=axes,
                    shape=[int(n) for n in series["shape"]],
                    dtype=series.get("dtype"),
                    physical_sizes=sizes,
                    time_increment=(float(interval["value"]), interval.get("unit"))
                    if interval
                    else None,
                    channels=list(series.get("channel_names") or []),
                    content_size=info.get("file_size"),
                )
            )
        return images
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(
            f"not a complete image-info report (missing or wrong {error})", path=path
        ) from None


def from_ome_xml(text: str, path: Path) -> list[ImageDescription]:
    """One description per ``Image`` of an OME-XML document (entities and DTDs refused)."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(text)
    except DefusedXmlException as error:
        raise InputError(
            "OME-XML refused: it declares entities or refers to external resources "
            f"({type(error).__name__})",
            path=path,
        ) from None
    except ElementTree.ParseError as error:
        raise InputError(f"OME-XML cannot be parsed: {error}", path=path) from None
    images = []
    for index, image in enumerate(root.iterfind(".//{*}Image")):  # iter() has no {*}
        pixels = image.find("{*}Pixels")
        if pixels is None:
            continue
        order = (pixels.get("DimensionOrder") or "XYZCT").lower()[::-1]  # XYZCT -> tczyx
        try:
            shape = [int(pixels.get(f"Size{a.upper()}", "1")) for a in order]
            sizes = {
                a: (float(pixels.get(f"PhysicalSize{a.upper()}")),
                    ngff_unit(pixels.get(f"PhysicalSize{a.upper()}Unit", "µm")))
                for a in "zyx" if pixels.get(f"PhysicalSize{a.upper()}") is not None
            }  # fmt: skip
            increment = pixels.get("TimeIncrement")
            time = (
                (float(increment), ngff_unit(pixels.get("TimeIncrementUnit", "s")))
                if increment is not None
                else None
            )
        except ValueError as error:
            raise InputError(
                f"OME-XML Pixels has a non-numeric value: {error}", path=path
            ) from None
        channels = [c.get("Name") or "" for c in pixels.findall("{*}Channel")]
        images.append(
            ImageDescription(
                name=image.get("Name") or f"{path.name} image {index}",
                encoding_format="OME-XML",
                axes=order,
                shape=shape,
                dtype=pixels.get("Type"),
                physical_sizes=sizes,
                time_increment=time,
                channels=channels,
            )
        )
    if not images:
        raise InputError("OME-XML describes no Image with Pixels", path=path)
    return images


def from_ngff(attributes: dict[str, Any], path: Path, store: Path | None) -> ImageDescription:
    """The image an NGFF group describes (0.4 attributes, or 0.5 under ``ome``).

    ``path`` is the image's folder (or attributes file), ``store`` the root of the store it
    lies in (None for a loose attributes file): arrays are read confined to ``store``.
    """
    from fairio_tools.ngff.zarr_metadata import MetadataError, read_node, unsafe_path_reason

    ome = attributes.get("attributes", attributes)  # a whole zarr.json, or its attributes
    ome = ome.get("ome", ome)
    multiscales = ome.get("multiscales")
    if not isinstance(multiscales, list) or not multiscales or not isinstance(multiscales[0], dict):
        raise InputError(
            "no NGFF 'multiscales' image metadata",
            path=path,
            hint="give an NGFF image (its folder, .zattrs or zarr.json)",
        )
    multiscale = multiscales[0]
    axes = [a for a in multiscale.get("axes", []) if isinstance(a, dict)]
    names = "".join(str(a.get("name", "?")) for a in axes)
    datasets = [d for d in multiscale.get("datasets", []) if isinstance(d, dict)]
    image = ImageDescription(
        name=multiscale.get("name") or path.name,
        encoding_format="OME-Zarr",
        axes=names,
        ngff_version=str(ome.get("version") or multiscale.get("version") or ""),
        levels=len(datasets),
    )
    if datasets:
        for transform in datasets[0].get("coordinateTransformations", []):
            scale = transform.get("scale") if isinstance(transform, dict) else None
            if isinstance(scale, list) and len(scale) == len(axes):
                for axis, value in zip(axes, scale, strict=True):
                    # without a unit, NGFF says a scale is only a factor between levels
                    if not axis.get("unit") or not isinstance(value, int | float):
                        continue
                    if not _positive_finite(value):
                        raise InputError(
                            f"scale value {value!r} is not a positive finite number", path=path
                        )
                    if axis.get("type") == "space" and axis.get("name") in ("x", "y", "z"):
                        image.physical_sizes[axis["name"]] = (float(value), axis["unit"])
                    if axis.get("type") == "time":
                        image.time_increment = (float(value), axis["unit"])
        level0 = datasets[0].get("path")
        if store is not None and isinstance(level0, str):
            # the level-0 array is read confined to the image; a path out, a link out or a
            # broken document is a hostile or broken store: refused, never silently skipped
            reason = unsafe_path_reason(level0)
            if reason is not None:
                raise InputError(f"dataset path {level0!r} {reason}", path=store)
            relative = path.relative_to(store).as_posix() if path != store else ""
            try:  # confined to the whole store: a series folder linking out is refused too
                node = read_node(store, f"{relative}/{level0}" if relative else level0)
            except MetadataError as error:
                raise InputError(error.message, path=store / error.file) from None
            if node is not None and node.array is not None:
                image.shape = list(node.array.shape)
                image.dtype = node.array.dtype
    omero = ome.get("omero")
    if isinstance(omero, dict) and isinstance(omero.get("channels"), list):
        image.channels = [str(c.get("label", "")) for c in omero["channels"] if isinstance(c, dict)]
    return image


def _positive_finite(value: float) -> bool:
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:  # an integer no float can hold
        return False
