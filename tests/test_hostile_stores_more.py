"""The hostile stores of :mod:`tests.test_hostile_stores` through ``predict`` and ``to-rdf``.

Same mutants of the real ``coins.ome.zarr``, same canary (``camera.ome.zarr``) beside it, same
bounds: exit 2, one stderr line naming the store, no output left behind. ``predict`` reads the
pixels before it loads the model, so only a representative set of mutants is run through it
(the model itself takes seconds); ``to-rdf`` reads only metadata, so it gets the mutants of
metadata documents and of the paths to them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_bounded
from tests.test_hostile_stores import MUTANTS, REFERENCE, assert_refused, hostile_store

TEST_DATA = Path(__file__).resolve().parents[1] / "tools" / "predict_with_model" / "test-data"
MODEL = TEST_DATA / "unet2d_nuclei_broad.zip"  # the small bioimage.io model package

COMMANDS = {
    "predict": lambda store, out: ("predict", MODEL, store, out / "out.ome.tiff"),
    "to-rdf": lambda store, out: ("to-rdf", store, "--output", out / "out.jsonld"),
}

PREDICT_MUTANTS = (
    "chunk links into the canary",
    "dataset folder links into the canary",
    "chunk is a FIFO",
    "chunk is a directory",
    "200,000 datasets",
    "scale NaN",
    "declares 10^18 pixels",
    "corrupt chunk",
    "interrupted write",
)
TO_RDF_MUTANTS = (  # to-rdf reads metadata documents only, never a chunk
    "dataset folder links into the canary",
    "series group links into the canary",
    ".zattrs links to /dev/zero",
    ".zarray is a FIFO",
    ".zarray is a directory",
    ".zattrs is not JSON",
    ".zattrs of 17 MB",
    "dataset path climbs out",
    "interrupted write",
)
CASES = [("predict", m) for m in PREDICT_MUTANTS] + [("to-rdf", m) for m in TO_RDF_MUTANTS]


@pytest.fixture(scope="module")
def originals(shared_data) -> tuple[Path, Path]:
    return shared_data / REFERENCE / "coins.ome.zarr", shared_data / REFERENCE / "camera.ome.zarr"


@pytest.mark.parametrize(("command", "mutant"), CASES)
def test_hostile_store_is_refused(originals, tmp_path, command, mutant):
    store = hostile_store(originals, tmp_path, mutant)
    result = run_bounded(*COMMANDS[command](store, tmp_path / "out"))
    # predict reads through the same reader as export-tiff, so it gives the same reasons;
    # to-rdf reads metadata documents only, in words of its own
    assert_refused(result, tmp_path / "out", MUTANTS[mutant][1] if command == "predict" else None)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unmodified_store_is_read(originals, tmp_path, command):
    """The same commands on the unmodified store succeed: the refusals above are the mutants'."""
    store = hostile_store(originals, tmp_path, None)
    (store / "link-inside").symlink_to(store / "0" / ".zattrs")  # a link inside is harmless
    result = run_bounded(*COMMANDS[command](store, tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").iterdir())) == 1
