"""The NGFF check of a store as a bundle records it: the verdict of ``fairio validate-ngff``
(metadata and a sample of chunks) plus the image's axes and shape for the crate's description.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fairio_tools import __version__
from fairio_tools.errors import InputError
from fairio_tools.findings import Finding, Severity

VALIDATOR = f"fairio-tools {__version__} validate-ngff (metadata and sample chunks)"


@dataclass
class StoreCheck:
    """What the check found for one store: valid when ``errors`` is empty."""

    store: str
    ngff_version: str | None = None
    image_path: str = ""
    axes: list[str] = field(default_factory=list)
    shape: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    validator: str = VALIDATOR

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, **asdict(self)}


def check_store(store: Path) -> StoreCheck:
    """Validate ``store`` (image, or bioformats2raw layout: its first series is described).

    Raises InputError when ``store`` is not a Zarr store at all.
    """
    from fairio_tools.ngff.reader import open_images
    from fairio_tools.ngff.validate import validate_ngff

    report = validate_ngff(store)
    result = StoreCheck(
        store=store.name,
        ngff_version=report.facts.get("ngff_version") or None,
        errors=[_line(f) for f in report.findings if f.severity is Severity.ERROR],
        warnings=[_line(f) for f in report.findings if f.severity is Severity.WARNING],
    )
    if result.valid:
        try:
            image = open_images(str(store))[0]
        except InputError as error:  # valid NGFF that is no image (a plate, say)
            result.warnings.append(f"no multiscales image to describe: {error.message}")
        else:
            result.image_path = image.path
            result.axes = image.axis_names
            result.shape = [int(n) for n in image.levels[0].shape]
    return result


def _line(finding: Finding) -> str:
    where = finding.location()
    return f"{where}: {finding.message}" if where else finding.message
