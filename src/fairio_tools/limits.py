"""Limits on the work one input may cause, each adjustable by admins through an environment
variable (set it in the Galaxy job configuration, for example). Inputs over a limit are refused
with exit 2 and one line naming the limit; see SECURITY.md."""

from __future__ import annotations

import os

from fairio_tools.errors import InputError

_VALUES: dict[str, int] = {}


def _from_env(name: str, default: int) -> int:
    _VALUES[name] = default
    text = os.environ.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"must be a positive integer, got {text!r}", field=name)
    _VALUES[name] = value
    return value


def enforce(variable: str, value: int, what: str, path: object) -> None:
    """Refuse ``path`` when ``value`` (``what`` it counts) is over the limit ``variable``."""
    limit = _VALUES[variable]
    if value > limit:
        raise InputError(
            f"{what}: {value}, more than the limit of {limit}",
            path=path,  # type: ignore[arg-type]
            hint=refusal_hint(variable, limit),
        )


GIB = 1024**3

MAX_CHUNK_BYTES = _from_env("FAIRIO_MAX_CHUNK_BYTES", 1 * GIB)
"""Largest stored chunk (or shard) of a Zarr array that is read."""
MAX_DECLARED_BYTES = _from_env("FAIRIO_MAX_DECLARED_BYTES", 1024 * GIB)
"""Largest uncompressed size a Zarr array may declare; bigger declarations are refused
before any work is done."""
MAX_LEVELS = _from_env("FAIRIO_MAX_LEVELS", 64)
"""Most resolution levels (``datasets``) of one multiscales image that are walked."""
MAX_SERIES = _from_env("FAIRIO_MAX_SERIES", 10_000)
"""Most images (series) of one store or file that are walked."""
MAX_MODEL_BYTES = _from_env("FAIRIO_MAX_MODEL_BYTES", 4 * GIB)
"""Largest total a model zip may declare or unpack to (real models are a few hundred MB)."""
MAX_MODEL_ZIP_RATIO = _from_env("FAIRIO_MAX_MODEL_ZIP_RATIO", 100)
"""Most a model zip (or one member) may inflate, once over 64 MiB unpacked."""

# Image files (TIFF, PNG, JPEG) and whole-image reads


def _job_memory_share(default: int) -> int:
    """A quarter of the job's memory when Galaxy says how much it has (``GALAXY_MEMORY_MB``),
    else ``default``."""
    text = os.environ.get("GALAXY_MEMORY_MB", "").strip()
    try:
        megabytes = int(text)
    except ValueError:
        return default
    return megabytes * (1 << 20) // 4 if megabytes > 0 else default


MAX_DECODED_BYTES = _from_env("FAIRIO_MAX_DECODED_BYTES", _job_memory_share(256 << 20))
"""Largest image decoded whole into memory, in bytes of pixels: PNG and JPEG (which cannot be
read by region) everywhere, the TIFF or OME-Zarr level that ``label`` and ``predict`` read at
once, and one band of rows that ``export-tiff`` reads.
256 MiB is a 16384 x 16384 8-bit grey image, or 8192 x 8192 RGBA; decoding it stays under
1 GiB of memory. In a Galaxy job given ``GALAXY_MEMORY_MB``, the default is a quarter of it."""

MAX_IMAGE_PIXELS = _from_env("FAIRIO_MAX_IMAGE_PIXELS", 8192 * 8192)
"""Most pixels (width x height) of a PNG or JPEG. Both compress so well (a 300 KB PNG can
declare 89 megapixels) that the file size says nothing about the work of decoding it."""

MAX_SEGMENT_BYTES = _from_env("FAIRIO_MAX_SEGMENT_BYTES", 256 << 20)
"""Largest compressed TIFF strip or tile, decoded, in bytes. A strip is always decoded whole,
so one strip declaring gigabytes would need that much memory however the file is read."""

COMPRESSION_CHECK_ABOVE = _from_env("FAIRIO_COMPRESSION_CHECK_ABOVE_BYTES", 1 << 30)
"""Declared pixel bytes above which a TIFF must not compress by more than
``MAX_COMPRESSION_RATIO``. Below it (1 GiB) any ratio a codec can reach is accepted: a real
image of zeros or sparse labels compresses thousands of times."""

MAX_COMPRESSION_RATIO = _from_env("FAIRIO_MAX_COMPRESSION_RATIO", 1000)
"""Declared pixel bytes per stored byte allowed above ``COMPRESSION_CHECK_ABOVE``."""

ABSURD_COMPRESSION_RATIO = 1 << 20
"""No TIFF codec shrinks pixels a million-fold: a header claiming so is corrupt (any size)."""

MAX_OME_IMAGES = _from_env("FAIRIO_MAX_OME_IMAGES", 512)
"""Most OME ``Image`` elements (series) one OME-TIFF may declare: each becomes an image
group of its own when converted (about 10 ms each), so thousands take minutes."""

MAX_OME_PLANES = _from_env("FAIRIO_MAX_OME_PLANES", 1_000_000)
"""Most planes (SizeZ x SizeC x SizeT, over all images) one OME-XML may declare."""

MAX_OME_XML_BYTES = _from_env("FAIRIO_MAX_OME_XML_BYTES", 32 << 20)
"""Largest OME-XML document (the TIFF ImageDescription) that is parsed."""
MAX_BEADS = _from_env("FAIRIO_MAX_BEADS", 2000)
"""Most candidate beads (local maxima) of one PSF image that are measured."""


def refusal_hint(variable: str, value: int) -> str:
    """The hint of a refusal caused by a limit: its value and how an admin raises it."""
    return f"limit {variable}={value}; a server admin can raise it"
