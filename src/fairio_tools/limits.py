"""Limits on the work one input may cause, each adjustable by admins through an environment
variable (set it in the Galaxy job configuration, for example). Inputs over a limit are refused
with exit 2 and one line naming the limit; see SECURITY.md."""

from __future__ import annotations

import os

from fairio_tools.errors import InputError


def _from_env(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise InputError(f"must be a whole number, got {text!r}", field=name) from None
    if value < 1:
        raise InputError(f"must be at least 1, got {value}", field=name)
    return value


GIB = 1024**3

MAX_CHUNK_BYTES = _from_env("FAIRIO_MAX_CHUNK_BYTES", 1 * GIB)
"""Largest stored chunk (or shard) of a Zarr array that is read."""
MAX_IN_MEMORY_BYTES = _from_env("FAIRIO_MAX_IN_MEMORY_BYTES", 4 * GIB)
"""Largest image a command that works on whole images (predict, label) loads into memory."""
MAX_DECLARED_BYTES = _from_env("FAIRIO_MAX_DECLARED_BYTES", 1024 * GIB)
"""Largest uncompressed size an array (or image) may declare; bigger declarations are refused
before any work is done."""
MAX_LEVELS = _from_env("FAIRIO_MAX_LEVELS", 64)
"""Most resolution levels (``datasets``) of one multiscales image that are walked."""
MAX_SERIES = _from_env("FAIRIO_MAX_SERIES", 10_000)
"""Most images (series) of one store or file that are walked."""
MAX_MODEL_BYTES = _from_env("FAIRIO_MAX_MODEL_BYTES", 4 * GIB)
"""Largest total a model zip may declare or unpack to (real models are a few hundred MB)."""
MAX_MODEL_ZIP_RATIO = _from_env("FAIRIO_MAX_MODEL_ZIP_RATIO", 100)
"""Most a model zip (or one member) may inflate, once over 64 MiB unpacked."""
