"""The OME-NGFF specification's conformance cases and its runner, driving ``fairio validate-ngff``.

0.6rc0 ships its cases in the runner's layout (``tests/{attributes,zarr}/{spec,strict}/
{valid,invalid}/<kind>/<case>``) and the runner ``conformance/ome_zarr_conformance.py``, which
appends each case's path to a validator command and compares the ``{"valid": ...}`` it prints
with the verdict the case's folder names. 0.4 and 0.5 ship ``*_suite.json`` files instead; their
cases are built here into the same layout, one store per case whose root group holds the case's
attributes (``.zgroup`` and ``.zattrs`` for 0.4 on Zarr v2, ``zarr.json`` for 0.5 on Zarr v3),
as 0.6rc0's Zarr cases are, and a copy of the 0.6rc0 runner runs over them.

Run ``python -m tests.ngff_conformance`` for the agreement table of every version and suite.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
import types
from collections import Counter
from concurrent.futures import Future
from pathlib import Path

from click.testing import CliRunner

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ngff-conformance"
RUNNER = CONFORMANCE / "0.6rc0" / "conformance" / "ome_zarr_conformance.py"

COMMAND = ["fairio", "validate-ngff", "--conformance", "--metadata-only"]
"""The validator command the runner calls for Zarr cases (the store's path is appended);
``--attributes`` replaces ``--metadata-only`` for attributes documents, ``--strict`` is added
for the strict cases."""

_SCALE_LENGTH = (
    "'The length of the scale and translation array MUST be the same as the length of "
    "\"axes\".' (0.4 and 0.5, multiscales): the case's scale has 2 values for 3 axes"
)
_SCALE_LENGTH_06 = (
    "RFC-5 (which 0.6rc0 implements), coordinateTransformations: 'Parameter values MUST be "
    "compatible with input and output space dimensionality': the case's scale has 2 values "
    "for a 3-axis coordinate system"
)
_PLATE_PATH = (
    "'The path MUST consist of a name in the rows list, a file separator (/), and a name "
    "from the columns list, in that order.' (plate, wells): the case's path names the column "
    "first"
)
_STRING_INPUT_OUTPUT = (
    "the 0.6rc0 schemas (coordinate_transformations.schema, inputOutput) and every 0.6rc0 "
    'attributes case give a transformation\'s input and output as objects ({"path": ...}, '
    "{\"name\": ...}), as RFC-5's response 2 decided ('an explicit expression of input path "
    "and coordinate system in separate fields'); this Zarr case still writes plain strings, "
    "which the spec's own jsonschema dingus rejects too"
)
_UNDEFINED_SYSTEM = (
    "RFC-5, coordinateTransformations: they 'describe the mapping between two coordinate "
    "systems (defined by \"coordinateSystems\")', whose names 'MUST be ... unique among all "
    "entries under coordinateSystems': the case's multiscale transformation maps from "
    "'intrinsic', which no coordinateSystems entry defines"
)
_PLATE_CASES = (
    "spec/valid/plate/minimal_acquisitions", "spec/valid/plate/minimal_no_acquisitions",
    "spec/valid/plate/non_alphanumeric_row", "strict/valid/plate/strict_acquisitions",
    "strict/valid/plate/strict_no_acquisitions",
)  # fmt: skip
_STALE_06_ZARR = (
    *(f"spec/valid/image/{name}" for name in (
        "custom_type_axes", "invalid_axis_units", "mismatch_axes_units", "missing_name",
        "untyped_axes")),
    *(f"strict/valid/image/{name}" for name in (
        "image", "image_metadata", "image_omero", "multiscales_example",
        "multiscales_transformations")),
)  # fmt: skip

DISAGREEMENTS: dict[tuple[str, str, str], str] = {
    ("0.4", "zarr", "spec/valid/image/mismatch_axes_units"): _SCALE_LENGTH,
    ("0.6rc0", "attributes", "spec/valid/image/mismatch_axes_units"): _SCALE_LENGTH_06,
    ("0.6rc0", "attributes", "strict/valid/image/image_omero"): _UNDEFINED_SYSTEM,
    **{("0.4", "zarr", case): _PLATE_PATH for case in _PLATE_CASES},
    **{("0.6rc0", mode, case): _PLATE_PATH for case in _PLATE_CASES
       for mode in ("zarr", "attributes")},
    **{("0.6rc0", "zarr", case): _STRING_INPUT_OUTPUT for case in _STALE_06_ZARR},
}  # fmt: skip
"""Cases whose expected verdict contradicts their own spec's text: the validator follows the
text, and the sentence that decides is given."""


def build_suite_cases(version: str, target: Path) -> Path:
    """Write every case of ``<version>/tests/*_suite.json`` as a store in the runner's layout
    under ``target/tests/zarr``, with a copy of the runner in ``target/conformance``; return
    the runner's path."""
    zarr_format = 2 if version == "0.4" else 3
    seen: Counter[str] = Counter()
    for suite_file in sorted((CONFORMANCE / version / "tests").glob("*_suite.json")):
        suite = json.loads(suite_file.read_text())
        kind = suite_file.name.removesuffix("_suite.json")
        strictness = "strict" if kind.startswith("strict_") else "spec"
        kind = kind.removeprefix("strict_")
        for case in suite["tests"]:
            verdict = "valid" if case["valid"] else "invalid"
            name = f"{strictness}/{verdict}/{kind}/{Path(case['formerly']).stem}"
            seen[name] += 1
            if seen[name] > 1:
                name += f"-{seen[name]}"
            store = target / "tests" / "zarr" / f"{name}.ome.zarr"
            store.mkdir(parents=True)
            if zarr_format == 2:
                (store / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
                (store / ".zattrs").write_text(json.dumps(case["data"]))
            else:
                group = {"zarr_format": 3, "node_type": "group", "attributes": case["data"]}
                (store / "zarr.json").write_text(json.dumps(group))
    runner = target / "conformance" / RUNNER.name
    runner.parent.mkdir(parents=True)
    shutil.copy(RUNNER, runner)
    return runner


def _load_runner(runner: Path):
    """The runner as a module (a fresh one per path: it finds its cases beside itself)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"ome_zarr_conformance_{id(runner)}", runner)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def _in_process(args: list[str], **_: object) -> subprocess.CompletedProcess:
    """What ``subprocess.run(args, text=True, capture_output=True)`` returns for a fairio
    command, run in this process (one Python start per case would take minutes)."""
    from fairio_tools.cli.app import main as cli

    assert args[0] == "fairio", args
    result = CliRunner().invoke(cli, args[1:])
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


class _Inline:
    """An executor that runs each task as it is submitted, in this thread."""

    _max_workers = 1

    def __init__(self, threads: int | None = None) -> None:
        pass

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, function, *args) -> Future:
        future: Future = Future()
        future.set_result(function(*args))
        return future


def run_conformance(
    runner: Path, mode: str, strict: bool, metadata_only: bool = True
) -> dict[str, str]:
    """Run the spec's runner over the ``mode`` cases (``zarr`` or ``attributes``) of one
    strictness, calling ``fairio validate-ngff`` in this process (on the root group's
    metadata, or the whole store where not ``metadata_only``); return each case's status
    (``pass``, ``fail`` or ``error``) as the runner prints it."""
    module = _load_runner(runner)
    command = [*COMMAND, "--strict"] if strict else list(COMMAND)
    if mode == "attributes":
        command[command.index("--metadata-only")] = "--attributes"
    elif not metadata_only:
        command.remove("--metadata-only")
    selection = ["-p", "^strict/"] if strict else ["-S"]
    output = io.StringIO()
    module.sp = types.SimpleNamespace(run=_in_process)
    module.ThreadPoolExecutor = _Inline  # CliRunner swaps sys.stdout: one case at a time
    with contextlib.redirect_stdout(output), contextlib.suppress(SystemExit):
        module.main(["ome_zarr_conformance.py", mode, *selection, "--", *command])
    return dict(line.split("\t") for line in output.getvalue().splitlines() if "\t" in line)


def agreement(work: Path) -> list[dict]:
    """One row per version, mode, strictness and kind: cases, agreeing, and the failing or
    erroring cases with whether :data:`DISAGREEMENTS` documents them."""
    rows = []
    runners = {"0.6rc0": RUNNER}
    for version in ("0.4", "0.5"):
        runners[version] = build_suite_cases(version, work / version)
    for version, runner in runners.items():
        modes = ("zarr", "attributes") if version == "0.6rc0" else ("zarr",)
        for mode in modes:
            for strict in (False, True):
                statuses = run_conformance(runner, mode, strict)
                kinds = sorted({name.split("/")[2] for name in statuses})
                for kind in kinds:
                    cases = {n: s for n, s in statuses.items() if n.split("/")[2] == kind}
                    others = sorted(n for n, s in cases.items() if s != "pass")
                    rows.append({
                        "version": version, "mode": mode, "suite": kind,
                        "strict": strict, "cases": len(cases),
                        "agreeing": len(cases) - len(others),
                        "disagreeing": [(n, cases[n], (version, mode, n) in DISAGREEMENTS)
                                        for n in others],
                    })  # fmt: skip
    return rows


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        rows = agreement(Path(folder))
    print("| version | mode | suite | strict | cases | agreeing | disagreeing (documented?) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        other = ", ".join(f"{n} {s}{' (documented)' if d else ''}" for n, s, d in
                          row["disagreeing"])  # fmt: skip
        print(f"| {row['version']} | {row['mode']} | {row['suite']} | "
              f"{'yes' if row['strict'] else 'no'} | {row['cases']} | {row['agreeing']} | "
              f"{other} |")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
