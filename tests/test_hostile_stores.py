"""Hostile OME-Zarr stores through every command that reads pixels of a store.

Each store is a mutant of a real Bio-Formats store (``coins.ome.zarr``). Next to it lies a
canary: another real store (``camera.ome.zarr``) that no command was given. A mutant that links
into the canary, to a device or a FIFO, or declares absurd metadata must be refused: exit 2,
one stderr line naming the store, no output left behind, within the time and memory bounds.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from fairio_tools.atomic import INCOMPLETE_MARKER
from tests.conftest import run_bounded

REFERENCE = "images/bioformats2raw-reference"
LEVEL0_CHUNK = "0/0/0/0/0/0/0"


def _link(path: Path, target: str | Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    path.symlink_to(target)


def _zattrs(store: Path) -> dict:
    return json.loads((store / "0" / ".zattrs").read_text())


def _set_zattrs(store: Path, attributes: dict) -> None:
    (store / "0" / ".zattrs").write_text(json.dumps(attributes))


def _datasets(store: Path, change: Callable[[list], list]) -> None:
    attributes = _zattrs(store)
    multiscales = attributes["multiscales"][0]
    multiscales["datasets"] = change(multiscales["datasets"])
    _set_zattrs(store, attributes)


def _scale(value: float) -> Callable[[Path, Path], None]:
    def mutate(store: Path, canary: Path) -> None:
        def change(datasets: list) -> list:
            datasets[0]["coordinateTransformations"][0]["scale"][-1] = value
            return datasets

        _datasets(store, change)

    return mutate


def _declare_shape(store: Path, canary: Path) -> None:
    array = store / "0" / "0" / ".zarray"
    meta = json.loads(array.read_text())
    meta["shape"] = [1, 1, 1, 10**9, 10**9]
    array.write_text(json.dumps(meta))


def _corrupt_chunk(store: Path, canary: Path) -> None:
    chunk = store / LEVEL0_CHUNK
    data = bytearray(chunk.read_bytes())
    data[16:] = bytes((b * 7 + 13) % 256 for b in data[16:])
    chunk.write_bytes(bytes(data))


def _fifo(relative: str) -> Callable[[Path, Path], None]:
    def mutate(store: Path, canary: Path) -> None:
        (store / relative).unlink()
        os.mkfifo(store / relative)

    return mutate


def _directory(relative: str) -> Callable[[Path, Path], None]:
    def mutate(store: Path, canary: Path) -> None:
        (store / relative).unlink()
        (store / relative).mkdir()
        (store / relative / "0").write_bytes(b"\0" * 64)

    return mutate


def _multiscale(change: Callable[[dict], None]) -> Callable[[Path, Path], None]:
    def mutate(store: Path, canary: Path) -> None:
        attributes = _zattrs(store)
        change(attributes["multiscales"][0])
        _set_zattrs(store, attributes)

    return mutate


def _array(change: Callable[[dict], None]) -> Callable[[Path, Path], None]:
    def mutate(store: Path, canary: Path) -> None:
        array = store / "0" / "0" / ".zarray"
        meta = json.loads(array.read_text())
        change(meta)
        array.write_text(json.dumps(meta))

    return mutate


MUTANTS: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "chunk links into the canary": (
        lambda s, c: _link(s / LEVEL0_CHUNK, c / LEVEL0_CHUNK),
        "leads outside",
    ),
    "dataset folder links into the canary": (
        lambda s, c: _link(s / "0" / "0", c / "0" / "0"),
        "leads outside",
    ),
    "series group links into the canary": (lambda s, c: _link(s / "0", c / "0"), "outside"),
    "chunk links to /dev/zero": (lambda s, c: _link(s / LEVEL0_CHUNK, "/dev/zero"), "outside"),
    ".zattrs links to /dev/zero": (
        lambda s, c: _link(s / "0" / ".zattrs", "/dev/zero"),
        "outside",
    ),
    "chunk links inside to a device path": (
        lambda s, c: (s / "dev").symlink_to("/dev") or _link(s / LEVEL0_CHUNK, s / "dev/zero"),
        "outside",
    ),
    "chunk is a FIFO": (_fifo(LEVEL0_CHUNK), "FIFO"),
    ".zarray is a FIFO": (_fifo("0/0/.zarray"), "FIFO"),
    "chunk is a directory": (_directory(LEVEL0_CHUNK), "directory"),
    ".zarray is a directory": (_directory("0/0/.zarray"), "directory"),
    "200,000 datasets": (
        lambda s, c: _datasets(s, lambda d: [{"path": "0"}] * 200_000),
        "resolution levels listed: 200000, more than the limit of 64",
    ),
    "dataset path climbs out": (
        lambda s, c: _datasets(s, lambda d: [{**d[0], "path": "../../camera"}]),
        "'..'",
    ),
    "scale NaN": (_scale(float("nan")), "not a positive finite number"),
    "scale -1": (_scale(-1.0), "not a positive finite number"),
    "scale 0": (_scale(0.0), "not a positive finite number"),
    "declares 10^18 pixels": (_declare_shape, "more than the limit"),
    "corrupt chunk": (_corrupt_chunk, "cannot be read"),
    ".zattrs is not JSON": (
        lambda s, c: (s / "0" / ".zattrs").write_text('{"multiscales": [}'),
        "cannot be read",
    ),
    ".zattrs is a list": (lambda s, c: (s / "0" / ".zattrs").write_text("[1, 2]"), "store"),
    ".zattrs of 17 MB": (
        lambda s, c: (s / "0" / ".zattrs").write_text('{"x": "' + "a" * (17 << 20) + '"}'),
        "more than the limit",
    ),
    "interrupted write": (lambda s, c: (s / INCOMPLETE_MARKER).write_bytes(b""), "incomplete"),
    "axes are strings": (
        _multiscale(lambda m: m.update(axes=["t", "c", "z", "y", "x"])),
        "is not an object with a name",
    ),
    "axis names repeat": (
        _multiscale(lambda m: m["axes"][4].update(name="y")),
        "repeat a name",
    ),
    "no datasets": (_multiscale(lambda m: m.update(datasets=[])), "needs a list of datasets"),
    "translation is text": (
        _multiscale(
            lambda m: m["datasets"][0]["coordinateTransformations"].append(
                {"type": "translation", "translation": "abc"}
            )
        ),
        "does not give one number per axis",
    ),
    "scale 10**400": (_scale(10**400), "not a positive finite number"),
    "unknown NGFF version": (
        _multiscale(lambda m: m.update(version="9.9")),
        "not supported",
    ),
    "chunks of 0": (_array(lambda a: a.update(chunks=[0] * 5)), "chunks"),
    "shape 2**62 per axis": (_array(lambda a: a.update(shape=[2**62] * 5)), "more than the limit"),
}

COMMANDS = {
    "export-tiff": lambda store, out: ("export-tiff", store, out / "out.ome.tiff"),
    "label": lambda store, out: ("label", store, out / "labelled.ome.zarr"),
}


@pytest.fixture(scope="module")
def originals(shared_data) -> tuple[Path, Path]:
    return shared_data / REFERENCE / "coins.ome.zarr", shared_data / REFERENCE / "camera.ome.zarr"


LABEL_MUTANTS = (  # label shares the opener with export: the cases where its own code reads
    "chunk links into the canary",
    "chunk is a FIFO",
    "chunk is a directory",
    "dataset folder links into the canary",
    "dataset path climbs out",
    "200,000 datasets",
    "scale NaN",
    "declares 10^18 pixels",
    "corrupt chunk",
    "interrupted write",
    "axis names repeat",
    "no datasets",
    "translation is text",
    "unknown NGFF version",
    "chunks of 0",
)
CASES = [("export-tiff", m) for m in sorted(MUTANTS)] + [("label", m) for m in LABEL_MUTANTS]


def hostile_store(originals: tuple[Path, Path], tmp_path: Path, mutant: str | None) -> Path:
    """A copy of coins.ome.zarr changed by ``mutant`` (None: unchanged), the camera canary
    beside it, and an empty ``out`` folder next to both."""
    coins, camera = originals
    canary = tmp_path / "canary" / "camera.ome.zarr"
    shutil.copytree(camera, canary)
    store = tmp_path / "in" / "hostile.ome.zarr"
    shutil.copytree(coins, store)
    if mutant is not None:
        MUTANTS[mutant][0](store, canary)
    (tmp_path / "out").mkdir()
    return store


def assert_refused(result, out: Path, expected: str | None) -> None:
    """Exit 2, one line naming the store (holding ``expected``), nothing left in ``out``."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fairio: error: ") and "hostile.ome.zarr" in lines[0], lines[0]
    assert expected is None or expected in lines[0], lines[0]
    assert "internal error" not in lines[0]
    assert list(out.iterdir()) == []  # no output, no temporary left


@pytest.mark.parametrize(("command", "mutant"), CASES)
def test_hostile_store_is_refused(originals, tmp_path, mutant, command):
    store = hostile_store(originals, tmp_path, mutant)
    result = run_bounded(*COMMANDS[command](store, tmp_path / "out"))
    assert_refused(result, tmp_path / "out", MUTANTS[mutant][1])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unmodified_store_is_read(originals, tmp_path, command):
    """The same commands on the unmodified store succeed: the refusals above are the mutants'."""
    store = hostile_store(originals, tmp_path, None)
    (store / "link-inside").symlink_to(store / "0" / ".zattrs")  # a link inside is harmless
    result = run_bounded(*COMMANDS[command](store, tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").iterdir())) == 1
