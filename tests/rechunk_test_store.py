"""Rewrite a Zarr v2 store's arrays as one chunk each, in place:
``python -m tests.rechunk_test_store STORE...``.

The Galaxy tools' test copies of the Bio-Formats reference stores keep every pixel, attribute,
codec and the nested ``/`` chunk keys of bioformats2raw's output; only the chunking changes
(bioformats2raw writes 96 x 96 tiles). A Tool Shed repository then holds a tenth of the files,
and the Tool Shed runs one ``hg add`` per file when a repository is published.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import zarr


def rechunk_array(folder: Path) -> None:
    """Rewrite the array in ``folder`` (with a ``.zarray``) as one chunk; the ``.zarray``
    keeps its text (Bio-Formats' JSON layout) but for the chunk shape."""
    text = (folder / ".zarray").read_text()
    pixels = np.asarray(zarr.open_array(str(folder), mode="r", zarr_format=2)[...])
    for child in folder.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
    chunks = "[ " + ", ".join(str(n) for n in pixels.shape) + " ]"
    text = re.sub(r'"chunks"\s*:\s*\[[^\]]*\]', f'"chunks" : {chunks}', text)
    assert json.loads(text)["chunks"] == list(pixels.shape)
    (folder / ".zarray").write_text(text)
    array = zarr.open_array(str(folder), mode="r+", zarr_format=2)
    array[...] = pixels


def rechunk_store(store: Path) -> None:
    """One chunk per array for every array below ``store``."""
    for zarray in sorted(store.rglob(".zarray")):
        rechunk_array(zarray.parent)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        rechunk_store(Path(argument))
