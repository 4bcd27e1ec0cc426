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
    def coordinate_systems(self) -> bool:
        """0.6rc0 names ``coordinateSystems`` and maps each level into one by ``input`` and
        ``output``; earlier versions list ``axes`` once per multiscale."""
        return self.version in COORDINATE_SYSTEM_VERSIONS

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
        if self.coordinate_systems:
            systems = [{"name": PHYSICAL_SYSTEM, "axes": axes}]
            entry = {"coordinateSystems": systems, "datasets": datasets}
        if name:
            entry["name"] = name
        if not self.nests_under_ome:
            entry = {"version": self.version, **entry}
        return entry

    def dataset(self, path: str, scale: list[float]) -> dict[str, Any]:
        """One entry of ``datasets``: a level's path and its scale (0.6rc0: from the array
        into the multiscale's coordinate system)."""
        transform: dict[str, Any] = {"type": "scale", "scale": scale}
        if self.coordinate_systems:
            transform |= {"input": {"path": path}, "output": {"name": PHYSICAL_SYSTEM}}
        return {"path": path, "coordinateTransformations": [transform]}

    def axes_of(self, multiscale: dict[str, Any]) -> Any:
        """The axes of a stored multiscale (0.6rc0: of the coordinate system its first level
        maps into); None where the metadata does not say."""
        if not self.coordinate_systems:
            return multiscale.get("axes")
        try:
            target = multiscale["datasets"][0]["coordinateTransformations"][0]["output"]["name"]
            systems = multiscale["coordinateSystems"]
            return next(s["axes"] for s in systems if isinstance(s, dict) and s["name"] == target)
        except (KeyError, IndexError, TypeError, StopIteration):
            return None

    def level_transformations(self, dataset: dict[str, Any]) -> Any:
        """A stored level's scale and translation transformations (0.6rc0: a sequence of
        them is unpacked, an identity is none)."""
        transforms = dataset.get("coordinateTransformations", [])
        if not self.coordinate_systems or not isinstance(transforms, list):
            return transforms
        flat: list[Any] = []
        for transform in transforms:
            kind = transform.get("type") if isinstance(transform, dict) else None
            if kind == "sequence" and isinstance(transform.get("transformations"), list):
                flat.extend(transform["transformations"])
            elif kind != "identity":
                flat.append(transform)
        return flat

    def image_label(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """The ``image-label`` attribute of a label image."""
        return self.versioned(attributes)

    def versioned(self, entry: dict[str, Any]) -> dict[str, Any]:
        """An ``image-label``, ``plate`` or ``well`` object: 0.4 puts the version inside it,
        later versions on ``ome``."""
        if self.nests_under_ome:
            return entry
        return {"version": self.version, **entry}

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


PHYSICAL_SYSTEM = "physical"
"""The name of the coordinate system a 0.6rc0 writer maps its levels into."""

NGFF_0_4 = NgffFormat("0.4", 2)
NGFF_0_5 = NgffFormat("0.5", 3)
NGFF_0_6 = NgffFormat("0.6rc0", 3)
FORMATS = {f.version: f for f in (NGFF_0_4, NGFF_0_5)}
"""The versions every writer writes (images, labels, predictions)."""
READ_FORMATS = {**FORMATS, NGFF_0_6.version: NGFF_0_6}
"""The versions the readers read."""
EXPERIMENTAL_FORMATS = {"0.6": NGFF_0_6}
"""Versions ``convert`` writes while their specification is not final (0.6 is 0.6rc0)."""
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
        return {**FORMATS, **EXPERIMENTAL_FORMATS}[version]
    except KeyError:
        raise InputError(
            f"unsupported NGFF version {version!r}",
            field="ngff-version",
            hint=f"use one of {', '.join([*FORMATS, *EXPERIMENTAL_FORMATS])}",
        ) from None


def detect_format(stored: dict[str, Any], zarr_format: int) -> NgffFormat | None:
    """The NGFF format of a stored group from its attributes, or None if it has none."""
    if zarr_format == 3 and isinstance(stored.get("ome"), dict):
        return READ_FORMATS.get(str(stored["ome"].get("version")), NGFF_0_5)
    if zarr_format == 2:
        return NGFF_0_4
    return None
