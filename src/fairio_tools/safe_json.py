"""The one reader of untrusted JSON files (reports, JSON-LD, image-info JSON, crate metadata).

Strict RFC 8259 JSON: ``NaN`` and ``Infinity`` are refused, as are documents nested too deeply
for the parser and files over the caller's limit; every problem is an :class:`InputError`
naming the file. (Zarr metadata inside a store is read by ``ngff.zarr_metadata``, which
reports problems as validation findings instead.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fairio_tools.errors import InputError

MAX_JSON_BYTES = 64 * 1024 * 1024
"""Default limit on a JSON file's size."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes | str, path: str | Path) -> Any:
    """Parse JSON text that came from ``path``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise InputError("not JSON: not UTF-8 text", path=path) from None
    except RecursionError:
        raise InputError("not JSON: nested too deeply", path=path) from None
    except ValueError as error:  # JSONDecodeError, NaN, too many digits
        raise InputError(f"not JSON: {error}", path=path) from None


def load_json(path: str | Path, limit: int = MAX_JSON_BYTES) -> Any:
    """Read and parse the JSON file ``path`` (a regular file of at most ``limit`` bytes)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a regular file", path=path)
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror or error})", path=path) from None
    if len(data) > limit:
        raise InputError(f"larger than the limit of {limit} bytes", path=path)
    return parse_json(data, path)
