"""Instrument and acquisition metadata scored against the 4DN-BINA-OME tiers 1-3.

The tiers' fields live in ``nbo_tiers.yaml`` (the specification cited there); each is looked
up on the components ``images.instrument`` resolves for every OME Image. A tier is met when
every field of it and of the tiers below is present; every missing field is named, per
channel or plane where it is missing for some only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from fairio_tools.images.instrument import ImageParts, image_parts, read_ome_xml_text

TIERS = (1, 2, 3)
PER_CHANNEL = {
    "channel",
    "light_source",
    "light_source_settings",
    "detector",
    "detector_settings",
    "filter",
}


@dataclass
class FieldResult:
    id: str
    tier: int
    label: str
    present: bool
    value: str | None = None
    detail: str | None = None


@dataclass
class TierResult:
    tier: int
    description: str
    required: int
    present: int
    met: bool
    missing: list[str]


@dataclass
class ImageScore:
    index: int
    name: str | None
    highest_tier_met: int
    tiers: list[TierResult]
    fields: list[FieldResult]
    notes: list[str] = field(default_factory=list)


@dataclass
class MicroscopyMetadataReport:
    source: str
    specification: dict[str, str]
    images: list[ImageScore]
    not_in_ome_xml: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_score_report(data: Any) -> bool:
    """Whether ``data`` (a loaded JSON file) is a :class:`MicroscopyMetadataReport`."""
    return (
        isinstance(data, dict)
        and {"source", "specification", "images", "not_in_ome_xml"} <= data.keys()
        and isinstance(data["images"], list)
        and isinstance(data["specification"], dict)
        and all(isinstance(i, dict) and _is_tier(i.get("highest_tier_met")) for i in data["images"])
    )


def _is_tier(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= TIERS[-1]


@lru_cache(maxsize=1)
def tier_table() -> dict[str, Any]:
    """The shipped tier requirements (``nbo_tiers.yaml``)."""
    from fairio_tools.safe_yaml import load_yaml

    return load_yaml(Path(__file__).with_name("nbo_tiers.yaml"))


def score_microscopy_metadata(path: Path) -> MicroscopyMetadataReport:
    """Score every image of an OME-TIFF, OME-XML, CZI or LIF file against the NBO tiers."""
    table = tier_table()
    text, notes = read_ome_xml_text(path)
    report = MicroscopyMetadataReport(
        source=str(path),
        specification=table["specification"],
        images=[_score(p, table) for p in image_parts(text, path)],
        not_in_ome_xml=list(table["not_in_ome_xml"]),
    )
    for image in report.images:
        image.notes[:0] = notes
    return report


def _score(parts: ImageParts, table: dict[str, Any]) -> ImageScore:
    fields = [
        _field(spec, parts)
        for spec in table["fields"]
        if spec.get("when") != "z_stack" or parts.z_stack
    ]
    tiers, met = [], True
    for tier in TIERS:
        own = [f for f in fields if f.tier == tier]
        missing = [f.id for f in own if not f.present]
        met = met and not missing
        tiers.append(
            TierResult(tier, table["tiers"][tier], len(own), len(own) - len(missing), met, missing)
        )
    highest = max([t.tier for t in tiers if t.met], default=0)
    return ImageScore(parts.index, parts.name, highest, tiers, fields, parts.notes)


def _field(spec: dict[str, Any], parts: ImageParts) -> FieldResult:
    result = FieldResult(spec["id"], int(spec["tier"]), spec["label"], False)
    component = spec["component"]
    if component in PER_CHANNEL:
        if not parts.channels:
            result.detail = "the image declares no channel"
            return result
        values, lacking = [], []
        for n, channel in enumerate(parts.channels):
            elements = channel.filters if component == "filter" else [getattr(channel, component)]
            found = [_value(e, spec) for e in elements] if elements else [None]
            if any(v is None for v in found):
                lacking.append(n)
            else:
                values.extend(found)
        result.present = not lacking
        if lacking and len(lacking) < len(parts.channels):
            result.detail = f"missing in channel(s) {', '.join(map(str, lacking))}"
        result.value = _join(values)
        return result
    if component == "plane":
        if not parts.planes:
            result.detail = "the image declares no Plane elements"
            return result
        values = [_value(p, spec) for p in parts.planes]
        lacking = sum(v is None for v in values)
        result.present = lacking == 0
        if lacking > 0:
            result.detail = f"missing in {lacking} of {len(values)} planes"
        result.value = _join([v for v in values if v is not None])
        return result
    value = _value(getattr(parts, component), spec)
    result.present, result.value = value is not None, value
    return result


def _value(element: Any, spec: dict[str, Any]) -> str | None:
    """The field's value on ``element`` when it passes the field's check, else None."""
    if element is None:
        return None
    check = spec["check"]
    if check == "element":
        return element.tag.rsplit("}", 1)[-1]
    name = spec["attribute"]
    if check == "child":
        for tag in (name, *spec.get("aliases", ())):
            child = element.find("{*}" + tag)
            text = None if child is None else (child.text or "").strip()
            if text:
                return text
        return None
    if check == "child_attributes":
        child = element.find("{*}" + name)
        if child is None or child.get("CutIn") is None or child.get("CutOut") is None:
            return None
        return f"{child.get('CutIn')}-{child.get('CutOut')} {child.get('CutInUnit', 'nm')}"
    text = (element.get(name) or "").strip()
    if not text:
        return None
    if check == "text":
        return text
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or (check == "positive" and number <= 0):
        return None
    unit = element.get(f"{name}Unit")
    return f"{text} {unit}" if unit else text


def _join(values: list[str]) -> str | None:
    unique = list(dict.fromkeys(values))
    return None if not unique else ", ".join(unique[:8]) + (" ..." if len(unique) > 8 else "")
