"""What a Keras HDF5 weights file would run besides Keras's own layers, read before Keras
loads it.

A Keras model's architecture is a JSON document (the file's ``model_config`` attribute). A
``Lambda`` layer in it carries Python code (marshalled bytecode, or a function named by
module), and a ``module`` reference outside Keras names code to import. Such a file counts as
package code: it runs only with the same opt-in as a ``pytorch_state_dict`` architecture, and
even then Keras's own safe mode (on in bioimageio.core's loader) refuses marshalled lambdas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairio_tools.errors import InputError
from fairio_tools.safe_json import MAX_JSON_BYTES, parse_json

CODE_CLASSES = ("Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__")
"""Keras classes whose configuration is Python code or names a Python callable."""


def keras_code(path: Path) -> str | None:
    """The code the Keras HDF5 file ``path`` carries (e.g. ``Lambda layer 'scale'``), or None."""
    import h5py

    try:
        with h5py.File(path, "r") as file:
            config = file.attrs.get("model_config")
    except (OSError, ValueError) as error:
        raise InputError(f"not a readable Keras HDF5 file ({error})", path=path) from None
    if config is None:
        raise InputError("a Keras HDF5 file without a model_config (weights only)", path=path)
    if isinstance(config, bytes):
        text = config
    elif isinstance(config, str):
        text = config.encode("utf-8")
    else:
        raise InputError("the Keras model_config is not text", path=path)
    if len(text) > MAX_JSON_BYTES:
        raise InputError(f"the Keras model_config exceeds {MAX_JSON_BYTES} bytes", path=path)
    found = _code_in(parse_json(text, path))
    return None if found is None else f"{found} in {path.name}"


def _code_in(node: Any, depth: int = 0) -> str | None:
    if depth > 200:
        return "a model_config nested too deeply to check"
    if isinstance(node, dict):
        class_name = node.get("class_name")
        if class_name in CODE_CLASSES:
            config = node.get("config")
            name = config.get("name") if isinstance(config, dict) else None
            return f"{class_name} layer {name!r}" if name else f"a {class_name}"
        module = node.get("module")
        if isinstance(module, str) and module.split(".")[0] != "keras":
            return f"a reference to Python module {module!r}"
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _code_in(child, depth + 1)
        if found is not None:
            return found
    return None
