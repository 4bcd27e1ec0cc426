"""What each OME-NGFF version means on disk: Zarr format, attribute nesting, codecs.

Every difference between NGFF 0.4 (Zarr v2), 0.5 and 0.6rc0 (Zarr v3) lives here, so readers and
writers never test a version number themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fairio_tools.errors import InputError

COMPRESSIONS = ("blosc", "zstd", "none")
"""``blosc``: Blosc with zstd level 5 and byte shuffle; ``zstd``: plain Zstandard level 5."""


@dataclass(frozen=True)
class NgffFormat:
    """One NGFF version and the Zarr format it is stored in."""

    version: str
    zarr_format: int

    @property
    def nests_under_ome(self) -> bool:
        """0.5 keeps all OME attributes under one ``"ome"`` key that carries the version."""
        return self.zarr_format == 3

    @property
    def metadata_file(self) -> str:
        """The file that holds a group's attributes."""
        return "zarr.json" if self.zarr_format == 3 else ".zattrs"

    def group_attributes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Wrap OME attributes (``multiscales``, ``omero``, ``labels``, ...) for storage."""
        if self.nests_under_ome:
            return {"ome": {"version": self.version, **attributes}}
        return attributes

    def multiscale(
        self, axes: list[dict[str, str]], datasets: list[dict[str, Any]], name: str | None
    ) -> dict[str, Any]:
        """One entry of ``multiscales`` (0.4 puts the version inside it, 0.5 on ``ome``)."""
        entry: dict[str, Any] = {"axes": axes, "datasets": datasets}
        if name:
            entry["name"] = name
        if not self.nests_under_ome:
            entry = {"version": self.version, **entry}
        return entry

    def image_label(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """The ``image-label`` attribute of a label image."""
        if self.nests_under_ome:
            return attributes
        return {"version": self.version, **attributes}

    def array_options(self, axes: list[str], compression: str) -> dict[str, Any]:
        """Keyword arguments for ``zarr.create_array`` (codecs, separator, dimension names)."""
        if compression not in COMPRESSIONS:
            raise InputError(
                f"unknown compression {compression!r}",
                field="compression",
                hint=f"use one of {', '.join(COMPRESSIONS)}",
            )
        if self.zarr_format == 2:
            import numcodecs

            codec = {
                "blosc": numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE),
                "zstd": numcodecs.Zstd(level=5),
                "none": None,
            }[compression]
            return {
                "compressors": codec,
                "chunk_key_encoding": {"name": "v2", "separator": "/"},
                "fill_value": 0,
            }
        from zarr.codecs import BloscCodec, BloscShuffle, ZstdCodec

        codec = {
            "blosc": BloscCodec(cname="zstd", clevel=5, shuffle=BloscShuffle.shuffle),
            "zstd": ZstdCodec(level=5),
            "none": None,
        }[compression]
        return {
            "compressors": codec,
            "dimension_names": list(axes),
            "fill_value": 0,
        }

    def unwrap(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The OME attributes of a stored group, whatever the nesting."""
        if self.nests_under_ome:
            return dict(stored.get("ome", {}))
        return stored


NGFF_0_4 = NgffFormat("0.4", 2)
NGFF_0_5 = NgffFormat("0.5", 3)
FORMATS = {f.version: f for f in (NGFF_0_4, NGFF_0_5)}
DEFAULT_VERSION = "0.5"

ZARR_FORMAT_OF_VERSION = {"0.4": 2, "0.5": 3, "0.6rc0": 3}
"""Every NGFF version the validator reads, and the Zarr format each is stored in (``FORMATS``
are the versions the writer writes)."""

COORDINATE_SYSTEM_VERSIONS = ("0.6rc0",)
"""Versions whose multiscales name ``coordinateSystems`` (with the axes) and whose
transformations map ``input`` to ``output``, instead of one ``axes`` list."""

DIMENSION_NAMES_VERSIONS = ("0.5",)
"""Versions whose arrays MUST name their dimensions (``dimension_names``) after the axes."""


def format_for_version(version: str) -> NgffFormat:
    """The NGFF format for a version string given by the user."""
    try:
        return FORMATS[version]
    except KeyError:
        raise InputError(
            f"unsupported NGFF version {version!r}",
            field="ngff-version",
            hint=f"use one of {', '.join(FORMATS)}",
        ) from None


def detect_format(stored: dict[str, Any], zarr_format: int) -> NgffFormat | None:
    """The NGFF format of a stored group from its attributes, or None if it has none."""
    if zarr_format == 3 and isinstance(stored.get("ome"), dict):
        return FORMATS.get(str(stored["ome"].get("version")), NGFF_0_5)
    if zarr_format == 2:
        return NGFF_0_4
    return None
