"""Optional parts of fairio-tools and the extras that install them.

What a Galaxy tool job runs (image-info, convert, validate-ngff, the metadata, RDF, model,
label and bundle commands) needs only the runtime dependencies. The portal, the link checker,
the catalogue's review and DALIA export, the Galaxy harness, Dask distributed, S3, torch and
TensorFlow (Keras and SavedModel weights) are extras; a command that needs a missing one stops
with one line naming what to install (exit 2), instead of an ImportError traceback.

``MODULES`` is the one list of the modules each extra provides (checked against
``pyproject.toml`` by ``tests/test_packaging.py``).
"""

from __future__ import annotations

import importlib.util
from urllib.parse import urlsplit

from fairio_tools.errors import FairioError

MODULES: dict[str, tuple[str, ...]] = {
    "portal": (
        "mkdocs",
        "material",
        "pymdownx",
        "docutils",
        "galaxy.tool_util",
        "aiohttp",
        "rapidfuzz",
    ),
    "links": ("aiohttp",),
    "catalogue": ("dalia_dif", "rapidfuzz"),
    "galaxy": ("requests",),
    "distributed": ("distributed",),
    "s3": ("s3fs",),
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "keras", "h5py"),
}
"""Extra name → the modules it installs that some command imports."""

_URL_EXTRAS = {"s3": "s3", "s3a": "s3"}
"""URL scheme → the extra whose fsspec filesystem reads and writes it."""


class MissingExtraError(FairioError):
    """A command needs an optional part of fairio-tools that is not installed."""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing or broken
        return False


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [module for module in MODULES[extra] if not _installed(module)]


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingExtraError` if ``extra`` is not installed; ``what`` needs it."""
    absent = missing(extra)
    if absent:
        raise MissingExtraError(
            f"{what} needs the optional '{extra}' dependencies ({', '.join(absent)} not "
            f"installed): pip install 'fairio-tools[{extra}]'"
        )


def require_for_url(location: object) -> None:
    """Raise :class:`MissingExtraError` if the filesystem of URL ``location`` is missing."""
    extra = _URL_EXTRAS.get(urlsplit(str(location)).scheme.lower())
    if extra:
        require(extra, f"{location}: an {urlsplit(str(location)).scheme}:// location")
