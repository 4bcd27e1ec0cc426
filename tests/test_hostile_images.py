"""Crafted image files (mutants of real ones): never read outside the input, never write
non-finite calibration, refuse bombs and corrupt data with exit 2 and one line naming the file.
"""

from __future__ import annotations

import io
import json
import struct
import uuid
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from PIL import Image

from fairio_tools.cli.app import main
from tests.conftest import run_bounded, run_measured

CANARY = 0xBEEF
"""Pixel value filling every canary file: it must never appear in an output."""


def _fairio(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def _assert_refused(result, path: Path, *expected: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"fairio: error: {path}"), lines[0]
    for text in expected:
        assert text in lines[0], lines[0]


def _strict_json(text: str):
    """Parse JSON the way a strict parser does: NaN and Infinity are errors."""

    def refuse(constant: str):
        raise ValueError(f"invalid JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _plane(shared_data: Path) -> np.ndarray:
    """A real uint16 plane (198 x 356) that holds no canary value."""
    plane = tifffile.imread(shared_data / "images/misc/input1_tyx.tiff")[0]
    assert not (plane == CANARY).any()
    return plane


def _store_values(store: Path) -> np.ndarray:
    """Every pixel value of every array in an OME-Zarr store."""
    values = []

    def visit(group):
        for _, array in group.arrays():
            values.append(np.unique(array[...]))
        for _, child in group.groups():
            visit(child)

    visit(zarr.open_group(str(store), mode="r"))
    return np.unique(np.concatenate(values))


# --- 1. a single OME-TIFF never opens the other files its OME-XML names ---------------------


def _ome_xml(own_uuid: str, other_uuid: str, other_name: str, plane: np.ndarray) -> str:
    height, width = plane.shape
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="{own_uuid}">'
        '<Image ID="Image:0" Name="set"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" '
        f'Type="uint16" SizeX="{width}" SizeY="{height}" SizeZ="2" SizeC="1" SizeT="1" '
        'PhysicalSizeX="0.5" PhysicalSizeY="0.5"><Channel ID="Channel:0:0" SamplesPerPixel="1"/>'
        f'<TiffData FirstZ="0" IFD="0" PlaneCount="1"><UUID FileName="main.ome.tif">{own_uuid}'
        "</UUID></TiffData>"
        f'<TiffData FirstZ="1" IFD="0" PlaneCount="1"><UUID FileName="{other_name}">{other_uuid}'
        "</UUID></TiffData></Pixels></Image></OME>"
    )


def _canary_ome_tiff(path: Path, shape: tuple[int, int], file_uuid: str) -> None:
    data = np.full(shape, CANARY, dtype=np.uint16)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="{file_uuid}">'
        '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" '
        f'SizeX="{shape[1]}" SizeY="{shape[0]}" SizeZ="1" SizeC="1" SizeT="1">'
        '<Channel ID="Channel:0:0" SamplesPerPixel="1"/><TiffData IFD="0" PlaneCount="1"/>'
        "</Pixels></Image></OME>"
    )
    tifffile.imwrite(path, data, description=xml, metadata=None)


@pytest.mark.parametrize("where", ["absolute", "parent", "link"])
def test_ome_tiff_never_opens_the_files_it_names_outside_its_folder(shared_data, tmp_path, where):
    plane = _plane(shared_data)
    upload = tmp_path / "upload"
    upload.mkdir()
    canary_dir = {"absolute": tmp_path / "elsewhere", "parent": tmp_path, "link": tmp_path}
    canary_dir[where].mkdir(exist_ok=True)
    canary = canary_dir[where] / "canary.ome.tif"
    canary_uuid = f"urn:uuid:{uuid.uuid4()}"
    _canary_ome_tiff(canary, plane.shape, canary_uuid)
    (upload / "link.ome.tif").symlink_to(canary)  # a sibling that is a link out
    name = {"absolute": str(canary), "parent": "../canary.ome.tif", "link": "link.ome.tif"}
    source = upload / "main.ome.tif"
    xml = _ome_xml(f"urn:uuid:{uuid.uuid4()}", canary_uuid, name[where], plane)
    tifffile.imwrite(source, plane, description=xml, metadata=None)
    with tifffile.TiffFile(source) as tif:  # the threat is real: tifffile follows the name
        assert (tif.series[0].asarray() == CANARY).any()

    result = _fairio("image-info", source)
    assert result.exit_code == 0, result.output
    info = _strict_json(result.stdout)
    assert info["other_files_not_read"] == [name[where]]
    assert "multi-file" in info["notes"][0]
    assert info["series"][0]["shape"] == list(plane.shape)  # only this file's plane

    output = tmp_path / "out" / "image.ome.zarr"
    output.parent.mkdir()
    report_path = tmp_path / "report.json"
    result = _fairio("convert", source, output, "--json", report_path)
    assert result.exit_code == 0, result.output
    assert CANARY not in _store_values(output)
    level0 = zarr.open_array(str(output / "0" / "0"), mode="r")
    np.testing.assert_array_equal(level0[0, 0, 0], plane)
    report = _strict_json(report_path.read_text())
    dropped = [item["item"] for item in report["not_carried"]]
    assert any(name[where] in item for item in dropped), dropped
    assert any("multi-file" in note for note in report["notes"])


def test_ome_tiff_reads_the_sibling_files_of_its_set(shared_data, tmp_path):
    plane = _plane(shared_data)
    canary_uuid = f"urn:uuid:{uuid.uuid4()}"
    _canary_ome_tiff(tmp_path / "canary.ome.tif", plane.shape, canary_uuid)
    source = tmp_path / "main.ome.tif"
    xml = _ome_xml(f"urn:uuid:{uuid.uuid4()}", canary_uuid, "canary.ome.tif", plane)
    tifffile.imwrite(source, plane, description=xml, metadata=None)
    result = _fairio("image-info", source)
    assert result.exit_code == 0, result.output
    info = _strict_json(result.stdout)
    assert info["set_files"] == ["main.ome.tif", "canary.ome.tif"]
    assert info["series"][0]["shape"] == [1, 1, 2, *plane.shape]


def test_binary_only_ome_tiff_names_its_companion(shared_data, tmp_path):
    source = tmp_path / "multifile-Z1.ome.tiff"  # alone: its companion is not next to it
    source.write_bytes((shared_data / "images/ome-samples/multifile" / source.name).read_bytes())
    result = _fairio("image-info", source)
    assert result.exit_code == 0, result.output
    assert _strict_json(result.stdout)["other_files_not_read"] == ["multifile.companion.ome"]


def test_ome_xml_entities_are_refused(shared_data, tmp_path):
    plane = _plane(shared_data)
    xml = (
        '<?xml version="1.0"?><!DOCTYPE OME [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Image ID="Image:0" Name="&b;"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" '
        'Type="uint16" SizeX="356" SizeY="198" SizeZ="1" SizeC="1" SizeT="1"/></Image></OME>'
    )
    source = tmp_path / "entities.ome.tif"
    tifffile.imwrite(source, plane, description=xml, metadata=None)
    _assert_refused(_fairio("image-info", source), source, "OME-XML")


# --- 2. calibration that is not a finite positive number is never written -------------------


def _ome_with(shared_data, path: Path, **attributes: str) -> Path:
    data = tifffile.imread(shared_data / "images/misc/zyx_uint16.tiff")
    depth, height, width = data.shape
    extra = " ".join(f'{key}="{value}"' for key, value in attributes.items())
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" '
        f'SizeX="{width}" SizeY="{height}" SizeZ="{depth}" SizeC="1" SizeT="1" {extra}>'
        '<Channel ID="Channel:0:0" SamplesPerPixel="1"/>'
        f'<TiffData IFD="0" PlaneCount="{depth}"/></Pixels></Image></OME>'
    )
    tifffile.imwrite(path, data, description=xml, metadata=None)
    return path


def _imagej_with(shared_data, path: Path, **metadata) -> Path:
    source = shared_data / "images/bioformats2raw-reference/xyz_8bit__mitotic_plate_calibrated.tiff"
    data = tifffile.imread(source)
    tifffile.imwrite(
        path, data, imagej=True, resolution=(2.0, 2.0), metadata={"unit": "um", **metadata}
    )
    return path


def _zero_x_resolution(shared_data, path: Path) -> Path:
    data = tifffile.imread(shared_data / "images/misc/zyx_uint16.tiff")
    tifffile.imwrite(path, data, resolution=((0, 1), (4, 1)), resolutionunit=3, metadata=None)
    return path


CALIBRATION_CASES = {
    "ome-nan": (lambda d, p: _ome_with(d, p, PhysicalSizeX="NaN", PhysicalSizeY="0.5"), "x"),
    "ome-inf": (lambda d, p: _ome_with(d, p, PhysicalSizeX="INF", PhysicalSizeY="0.5"), "x"),
    "ome-negative": (lambda d, p: _ome_with(d, p, PhysicalSizeX="-1", PhysicalSizeY="0.5"), "x"),
    "ome-zero-z": (lambda d, p: _ome_with(d, p, PhysicalSizeZ="0", PhysicalSizeX="0.5"), "z"),
    "imagej-spacing-nan": (lambda d, p: _imagej_with(d, p, spacing=float("nan")), "z"),
    "imagej-finterval-negative": (lambda d, p: _imagej_with(d, p, finterval=-1), "t"),
    "tiff-xresolution-zero": (_zero_x_resolution, "x"),
}


@pytest.mark.parametrize("case", sorted(CALIBRATION_CASES))
def test_non_finite_calibration_is_dropped_with_a_note(shared_data, tmp_path, case):
    make, axis = CALIBRATION_CASES[case]
    source = make(shared_data, tmp_path / f"{case}.tif")
    result = _fairio("image-info", source)
    assert result.exit_code == 0, result.output
    series = _strict_json(result.stdout)["series"][0]
    if axis == "t":
        assert series["time_interval"] is None
    else:
        assert axis not in series["physical_sizes"]
    assert any("not written" in note for note in series["notes"]), series["notes"]

    output = tmp_path / "out.ome.zarr"
    report_path = tmp_path / "report.json"
    result = _fairio("convert", source, output, "--json", report_path)
    assert result.exit_code == 0, result.output
    metadata = _strict_json((output / "0" / "zarr.json").read_text())
    for dataset in metadata["attributes"]["ome"]["multiscales"][0]["datasets"]:
        scale = dataset["coordinateTransformations"][0]["scale"]
        assert all(np.isfinite(scale)) and min(scale) > 0, scale
    notes = _strict_json(report_path.read_text())["notes"]
    assert any("not written" in note for note in notes), notes


# --- 3. bombs: refused before the work, within bounded time and memory ----------------------


def _png(width: int, height: int) -> bytes:
    """A valid 8-bit grey PNG of zeros (``height`` a multiple of 50), compressed ~200-fold."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(1)
    rows = b"\x00" * ((width + 1) * 50)
    idat = b"".join(compressor.compress(rows) for _ in range(height // 50)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _jpeg_declaring(shared_data, width: int, height: int) -> bytes:
    """A JPEG of a real image with its frame header (SOF) claiming another size."""
    data = bytearray(_jpeg(shared_data))
    at = 2
    while data[at + 1] not in (0xC0, 0xC1, 0xC2):  # walk the marker segments up to the SOF
        at += 2 + struct.unpack_from(">H", data, at + 2)[0]
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


def _tiled_bomb() -> bytes:
    """A 3 KB TIFF declaring 65536 x 65536 8-bit pixels in 256 zstd tiles (4 GiB of zeros):
    every tile entry points to the same small frame."""
    import imagecodecs

    tile, side = 4096, 65536
    frame = imagecodecs.zstd_encode(np.zeros((tile, tile), np.uint8).tobytes())
    count = (side // tile) ** 2
    tags = [  # (tag, type, values): 3 SHORT, 4 LONG
        (256, 4, [side]), (257, 4, [side]), (258, 3, [8]), (259, 3, [50000]), (262, 3, [1]),
        (277, 3, [1]), (322, 3, [tile]), (323, 3, [tile]), (324, 4, None), (325, 4, None),
    ]  # fmt: skip
    return _classic_tiff(tags, frame, count)


def _classic_tiff(tags: list, data: bytes, count: int) -> bytes:
    """Little-endian TIFF, one IFD; tags with values None are the offsets (273, 324) and
    byte counts (279, 325) of ``count`` segments that all hold ``data``."""
    ifd_size = 2 + 12 * len(tags) + 4
    arrays_at = 8 + ifd_size
    data_at = arrays_at + 8 * count
    entries = b""
    for tag, kind, values in tags:
        if values is None:
            where = arrays_at if tag in (273, 324) else arrays_at + 4 * count
            if count == 1:  # a single value is stored in the entry itself
                where = data_at if tag in (273, 324) else len(data)
            entries += struct.pack("<HHII", tag, kind, count, where)
        elif kind == 3:
            entries += struct.pack("<HHIHH", tag, kind, 1, values[0], 0)
        else:
            entries += struct.pack("<HHII", tag, kind, 1, values[0])
    arrays = struct.pack(f"<{count}I", *([data_at] * count))
    arrays += struct.pack(f"<{count}I", *([len(data)] * count))
    ifd = struct.pack("<H", len(tags)) + entries + b"\x00" * 4
    return b"II*\x00" + struct.pack("<I", 8) + ifd + arrays + data


def _one_huge_strip() -> bytes:
    """A TIFF whose single zstd strip declares 32768 x 32768 8-bit pixels (1 GiB) from 70 KB."""
    side = 32768
    tags = [
        (256, 4, [side]), (257, 4, [side]), (258, 3, [8]), (259, 3, [50000]), (262, 3, [1]),
        (273, 4, None), (277, 3, [1]), (278, 4, [side]), (279, 4, None),
    ]  # fmt: skip
    return _classic_tiff(tags, b"\x28\xb5\x2f\xfd" + bytes(70_000), 1)


def _ome_images(shared_data, path: Path, count: int) -> Path:
    plane = _plane(shared_data)
    images = "".join(
        f'<Image ID="Image:{i}"><Pixels ID="Pixels:{i}" DimensionOrder="XYZCT" Type="uint16" '
        'SizeX="356" SizeY="198" SizeZ="1" SizeC="1" SizeT="1"/></Image>'
        for i in range(count)
    )
    xml = f'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">{images}</OME>'
    tifffile.imwrite(path, plane, description=xml, metadata=None)
    return path


BOMBS = {
    "png-89-megapixels": (lambda d, p: p.write_bytes(_png(9450, 9450)), "FAIRIO_MAX_IMAGE_PIXELS"),
    "jpeg-declaring-4-gigapixels": (
        lambda d, p: p.write_bytes(_jpeg_declaring(d, 65000, 65000)),
        "FAIRIO_MAX_IMAGE_PIXELS",
    ),
    "tiff-4-gib-in-3-kb": (lambda d, p: p.write_bytes(_tiled_bomb()), "FAIRIO_MAX_COMPRESSION"),
    "tiff-one-1-gib-strip": (lambda d, p: p.write_bytes(_one_huge_strip()), "FAIRIO_MAX_SEGMENT"),
    "ome-20000-images": (lambda d, p: _ome_images(d, p, 20000), "FAIRIO_MAX_OME_IMAGES"),
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_bombs_are_refused_quickly(shared_data, tmp_path, case):
    make, limit = BOMBS[case]
    source = tmp_path / f"{case}.img"
    make(shared_data, source)
    _assert_refused(_fairio("image-info", source), source, limit)
    result, peak = run_measured("convert", source, tmp_path / "out.ome.zarr")  # 60 s at most
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fairio: error: {source}"), result.stderr
    assert limit in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]
    assert 0 < peak < 1 << 30, peak


def test_limits_are_adjustable_by_environment(shared_data, tmp_path):
    coins = shared_data / "images/bioformats2raw-reference/coins.png"
    assert _fairio("image-info", coins).exit_code == 0  # under the default limits
    result = run_bounded("image-info", coins, env={"FAIRIO_MAX_DECODED_BYTES": "1000"})
    assert result.returncode == 2 and "FAIRIO_MAX_DECODED_BYTES=1000" in result.stderr
    result = run_bounded("image-info", coins, env={"FAIRIO_MAX_OME_IMAGES": "many"})
    assert result.returncode == 2 and "FAIRIO_MAX_OME_IMAGES" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# --- 4. corrupt data: exit 2 naming the file from every command that reads pixels ----------


def _compressed(shared_data, path: Path, compression: str) -> Path:
    plane = _plane(shared_data)
    data = (plane >> 8).astype(np.uint8) if compression == "jpeg" else plane
    tifffile.imwrite(path, data, compression=compression, rowsperstrip=32)
    buffer = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        segments = list(zip(page.dataoffsets, page.databytecounts, strict=True))
    for offset, count in segments:
        for at in range(offset + 2, offset + count, 5):
            buffer[at] ^= 0x5A
    path.write_bytes(bytes(buffer))
    return path


def _patched(shared_data, path: Path, tag_name: str, value, **write) -> Path:
    plane = _plane(shared_data)
    data = write.pop("data", plane)
    tifffile.imwrite(path, data, metadata=None, **write)
    buffer = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages.first.tags[tag_name]
        kind = "H" if tag.dtype == 3 else "I"
        values = value(tag.value) if callable(value) else [value] * tag.count
        inline = tag.count * struct.calcsize(kind) <= 4
        where = tag.offset + 8 if inline else tag.valueoffset
        struct.pack_into(f"<{tag.count}{kind}", buffer, where, *values)
    path.write_bytes(bytes(buffer))
    return path


def _strip_offsets_as_text(shared_data, path: Path) -> Path:
    """StripOffsets declared as ASCII (TIFF type 2) instead of numbers."""
    tifffile.imwrite(path, _plane(shared_data), metadata=None, rowsperstrip=8)
    buffer = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        struct.pack_into("<H", buffer, tif.pages.first.tags["StripOffsets"].offset + 2, 2)
    path.write_bytes(bytes(buffer))
    return path


def _rgb_planar(shared_data) -> np.ndarray:
    plane = (_plane(shared_data) >> 8).astype(np.uint8)
    return np.stack([plane, plane[::-1], plane[:, ::-1]])


def _corrupt_png(shared_data, path: Path) -> Path:
    data = bytearray((shared_data / "images/bioformats2raw-reference/coins.png").read_bytes())
    start = data.find(b"IDAT") + 100
    for at in range(start, start + 2000, 3):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _jpeg(shared_data) -> bytes:
    """The real camera image as JPEG (camera.jpg in the reference data is really a PNG)."""
    buffer = io.BytesIO()
    with Image.open(shared_data / "images/bioformats2raw-reference/camera.jpg") as image:
        image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _truncated_jpeg(shared_data, path: Path) -> Path:
    data = _jpeg(shared_data)
    path.write_bytes(data[: len(data) // 2])
    return path


CORRUPT = {
    **{
        f"{codec}-data": (lambda d, p, c=codec: _compressed(d, p, c), False)
        for codec in ("lzw", "zlib", "zstd", "packbits", "jpeg")
    },
    "rows-per-strip-0": (lambda d, p: _patched(d, p, "RowsPerStrip", 0, rowsperstrip=32), True),
    "strip-byte-counts-beyond-eof": (
        lambda d, p: _patched(
            d, p, "StripByteCounts", lambda v: [*v[:-1], 0xFFFF], rowsperstrip=32
        ),
        True,
    ),
    "planar-2-bad-offsets": (
        lambda d, p: _patched(
            d,
            p,
            "StripOffsets",
            lambda v: [1 << 31] * len(v),
            data=_rgb_planar(d),
            photometric="rgb",
            planarconfig="separate",
            rowsperstrip=64,
        ),
        True,
    ),
    "bits-per-sample-55": (lambda d, p: _patched(d, p, "BitsPerSample", 55), True),
    "strip-offsets-as-text": (_strip_offsets_as_text, True),
    "image-width-0": (lambda d, p: _patched(d, p, "ImageWidth", 0), True),
    "png-corrupt-idat": (_corrupt_png, True),
    "jpeg-truncated": (_truncated_jpeg, True),
}
"""case -> (make, whether the header alone shows the damage, so image-info refuses too)."""


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_input_is_exit_2_from_every_command(shared_data, tmp_path, case):
    make, header_shows_it = CORRUPT[case]
    upload = tmp_path / "upload"
    upload.mkdir()
    source = make(shared_data, upload / f"{case}.img")
    result = _fairio("image-info", source)
    if header_shows_it:
        _assert_refused(result, source)
    else:  # image-info reads TIFF headers only; the header of these is intact
        assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    out.mkdir()
    _assert_refused(_fairio("convert", source, out / "image.ome.zarr"), source)
    _assert_refused(_fairio("label", source, out / "labels.tif", "--threshold", "1"), source)
    assert list(out.iterdir()) == []
    assert [p.name for p in upload.iterdir()] == [source.name]


def test_predict_reads_its_image_through_the_same_layer(shared_data, tmp_path):
    """``predict`` reads its input with ``models.image_io.read_image``: one plane, no canary,
    and corrupt pixels are an InputError naming the file (building a model here is slow)."""
    from fairio_tools.errors import InputError
    from fairio_tools.models.image_io import read_image

    plane = _plane(shared_data)
    canary_uuid = f"urn:uuid:{uuid.uuid4()}"
    _canary_ome_tiff(tmp_path / "canary.ome.tif", plane.shape, canary_uuid)
    upload = tmp_path / "upload"
    upload.mkdir()
    source = upload / "main.ome.tif"
    xml = _ome_xml(f"urn:uuid:{uuid.uuid4()}", canary_uuid, "../canary.ome.tif", plane)
    tifffile.imwrite(source, plane, description=xml, metadata=None)
    np.testing.assert_array_equal(read_image(source).data, plane)
    corrupt = _compressed(shared_data, upload / "corrupt.tif", "zstd")
    with pytest.raises(InputError, match="cannot be read as TIFF") as raised:
        read_image(corrupt)
    assert raised.value.path == str(corrupt)


def test_tiles_sharing_their_bytes_count_once(tmp_path):
    """The 4 GiB bomb again, each tile entry now claiming the whole data block: the summed
    byte counts look plausible (256 x 40 KB), the distinct bytes (40 KB) do not."""
    import imagecodecs

    frame = imagecodecs.zstd_encode(np.zeros((4096, 4096), np.uint8).tobytes())
    block = frame + bytes(40_000 - len(frame))
    source = tmp_path / "shared-tiles.tif"
    tags = [
        (256, 4, [65536]), (257, 4, [65536]), (258, 3, [8]), (259, 3, [50000]), (262, 3, [1]),
        (277, 3, [1]), (322, 3, [4096]), (323, 3, [4096]), (324, 4, None), (325, 4, None),
    ]  # fmt: skip
    source.write_bytes(_classic_tiff(tags, block, 256))
    _assert_refused(_fairio("image-info", source), source, "FAIRIO_MAX_COMPRESSION_RATIO")
