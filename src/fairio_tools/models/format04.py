"""Read format 0.4 descriptions the way the reference runner runs them.

fairio-tools reads every description as spec 0.5, which bioimage.io converts 0.4 ones to.
One 0.4 idiom the conversion rejects although the reference runs it: an output with a halo
and a fixed ``shape`` (e.g. ``unet2d_fixed_shape``: input and output both ``[1, 1, 256,
256]``, halo 8). Such an output is re-stated, before conversion, as what it means: the
shape of the input with the same axes and the same fixed shape (``reference_tensor``,
``scale`` 1, ``offset`` 0). Nothing else is changed; bioimageio.core's own test (``model-test``)
still reads the description exactly as written.
"""

from __future__ import annotations

import copy
from typing import Any


def convertible(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` with 0.4 fixed-shape outputs with a halo re-stated by reference."""
    if not str(content.get("format_version", "")).startswith("0.4"):
        return content
    inputs = content.get("inputs")
    outputs = content.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        return content
    result = copy.deepcopy(content)
    for output in result["outputs"]:
        if not isinstance(output, dict) or not _fixed(output.get("shape")):
            continue
        if not any(isinstance(h, int) and h > 0 for h in output.get("halo") or []):
            continue
        same = [
            i for i in inputs
            if isinstance(i, dict) and i.get("axes") == output.get("axes")
            and i.get("shape") == output["shape"] and isinstance(i.get("name"), str)
        ]  # fmt: skip
        if same:
            count = len(output["shape"])
            output["shape"] = {
                "reference_tensor": same[0]["name"],
                "scale": [1.0] * count,
                "offset": [0] * count,
            }
    return result


def _fixed(shape: Any) -> bool:
    return isinstance(shape, list) and all(isinstance(n, int) for n in shape)
