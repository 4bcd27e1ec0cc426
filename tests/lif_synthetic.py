"""Write small Leica LIF files for tests, in the layout liffile reads (LIF version 2: a
binary header with the UTF-16 XML description, then one memory block per image).

Each image is uint8; its pixels are given outermost dimension first, the channels just
outside the ``Y, X`` frame, as LAS X stores them. Dimensions are LAS X's ``DimID``\\ s:
1 X, 2 Y, 3 Z, 4 T, 5 emission wavelength (λ), 9 excitation wavelength, 10 mosaic position.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np


@dataclass
class Dimension:
    dim_id: int
    size: int
    length: float = 0.0
    origin: float = 0.0
    unit: str = "m"


@dataclass
class Image:
    """``pixels``: (outer dimensions, innermost last ... , channels, y, x) where the outer
    dimensions are ``outer`` in reverse (the last of ``outer`` is the outermost)."""

    name: str
    pixels: np.ndarray
    x: Dimension
    y: Dimension
    outer: list[Dimension]
    luts: list[str]


def _image_xml(image: Image, block: str) -> str:
    ny, nx = image.y.size, image.x.size
    frame = nx * ny
    channels = "".join(
        f'<ChannelDescription DataType="0" ChannelTag="0" Resolution="8" '
        f'NameOfMeasuredQuantity="" Min="0" Max="255" Unit="" LUTName={quoteattr(lut)} '
        f'IsLUTInverted="0" BytesInc="{c * frame}" BitInc="0"/>'
        for c, lut in enumerate(image.luts)
    )
    stride = {1: 1, 2: nx}
    step = frame * len(image.luts)
    dims = [image.x, image.y]
    for dim in image.outer:
        stride[dim.dim_id] = step
        step *= dim.size
        dims.append(dim)
    descriptions = "".join(
        f'<DimensionDescription DimID="{d.dim_id}" NumberOfElements="{d.size}" '
        f'Origin="{d.origin}" Length="{d.length}" Unit="{d.unit}" BitInc="0" '
        f'BytesInc="{stride[d.dim_id]}"/>'
        for d in dims
    )
    return (
        f"<Element Name={quoteattr(image.name)}><Data><Image><ImageDescription>"
        f"<Channels>{channels}</Channels><Dimensions>{descriptions}</Dimensions>"
        f"</ImageDescription></Image></Data>"
        f'<Memory Size="{image.pixels.nbytes}" MemoryBlockID="{block}"/><Children/></Element>'
    )


def _block(block: str, data: bytes) -> bytes:
    name = block.encode("utf-16-le")
    return struct.pack("<IIBQBI", 0x70, 0, 0x2A, len(data), 0x2A, len(block)) + name + data


def write_lif(path: Path, images: list[Image]) -> None:
    """A LIF file holding ``images`` in one project folder."""
    children = "".join(_image_xml(image, f"MemBlock_{n + 1}") for n, image in enumerate(images))
    xml = (
        '<LMSDataContainerHeader Version="2"><Element Name="project"><Data/>'
        f'<Memory Size="0" MemoryBlockID="MemBlock_0"/><Children>{children}</Children>'
        "</Element></LMSDataContainerHeader>"
    )
    text = xml.encode("utf-16-le")
    out = bytearray(struct.pack("<IIBI", 0x70, len(text) + 5, 0x2A, len(xml)) + text)
    out += _block("MemBlock_0", b"")
    for n, image in enumerate(images):
        out += _block(f"MemBlock_{n + 1}", np.ascontiguousarray(image.pixels, np.uint8).tobytes())
    path.write_bytes(bytes(out))
