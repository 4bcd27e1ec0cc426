"""``fairio validate-ngff`` in the OME-NGFF specification's own conformance runner: every case
of 0.4, 0.5 (built into stores) and 0.6rc0 (attributes and stores), plain and ``--strict``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_fairio
from tests.ngff_conformance import (
    CONFORMANCE,
    DISAGREEMENTS,
    RUNNER,
    build_suite_cases,
    run_conformance,
)
from tests.ngff_corpus import DEFECTS, export_corpus

RUNS = [("0.4", "zarr"), ("0.5", "zarr"), ("0.6rc0", "zarr"), ("0.6rc0", "attributes")]


@pytest.fixture(scope="module")
def runners(shared_data, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("conformance")
    built = {version: build_suite_cases(version, folder / version) for version in ("0.4", "0.5")}
    return {**built, "0.6rc0": RUNNER}


def _expected_cases(version: str, mode: str, strict: bool) -> int:
    """How many cases the spec ships for one run, counted from its own files."""
    prefix = "strict" if strict else "spec"
    if version == "0.6rc0":
        pattern = "*.ome.zarr" if mode == "zarr" else "*.json"
        return len(list((CONFORMANCE / version / "tests" / mode / prefix).rglob(pattern)))
    suites = (CONFORMANCE / version / "tests").glob("*_suite.json")
    return sum(
        len(json.loads(suite.read_text())["tests"])
        for suite in suites
        if suite.name.startswith("strict_") == strict
    )


@pytest.mark.parametrize("strict", [False, True], ids=["spec", "strict"])
@pytest.mark.parametrize(("version", "mode"), RUNS, ids=[f"{v}-{m}" for v, m in RUNS])
def test_the_spec_runner_agrees_except_where_the_text_decides(runners, version, mode, strict):
    statuses = run_conformance(runners[version], mode, strict)
    assert len(statuses) == _expected_cases(version, mode, strict)
    assert "error" not in statuses.values(), statuses  # every case got a verdict
    disagreeing = {name for name, status in statuses.items() if status != "pass"}
    documented = {case for (v, m, case) in DISAGREEMENTS if (v, m) == (version, mode)}
    documented = {case for case in documented if case.startswith("strict/") == strict}
    assert disagreeing == documented


def test_every_documented_disagreement_gives_its_reason():
    for key, reason in DISAGREEMENTS.items():
        assert key[2].split("/")[1] == "valid", key  # the text makes a 'valid' case invalid
        assert "MUST" in reason or "schemas" in reason, (key, reason)  # the deciding text


def test_the_runner_runs_the_real_command(runners):
    """The runner as the spec ships it, calling the installed ``fairio`` per case."""
    fairio = str(Path(sys.executable).parent / "fairio")
    cases = ["-p", "^spec/(valid|invalid)/image/(duplicate_axes|custom_type_axes)$"]
    command = [sys.executable, str(runners["0.5"]), "zarr", *cases, "--", fairio,
               "validate-ngff", "--conformance", "--metadata-only"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            env={**os.environ})  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(result.stdout.splitlines()) == [
        "spec/invalid/image/duplicate_axes\tpass",
        "spec/valid/image/custom_type_axes\tpass",
    ]


def test_conformance_output_is_one_json_verdict_with_exit_0(tmp_path):
    store = tmp_path / "broken.ome.zarr"
    store.mkdir()
    (store / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    (store / ".zattrs").write_text(json.dumps({"multiscales": [{"axes": [], "datasets": []}]}))
    result = run_fairio("validate-ngff", "--conformance", store)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is False and "schema" in verdict["message"]
    missing = run_fairio("validate-ngff", "--conformance", tmp_path / "nothing")
    assert missing.returncode == 0
    assert json.loads(missing.stdout) == {
        "valid": False,
        "message": f"{tmp_path / 'nothing'}: no such file or directory",
    }


def _plate_attributes(**plate: object) -> dict:
    wells = [{"path": "A/1", "rowIndex": 0, "columnIndex": 0}]
    return {"plate": {"version": "0.4", "rows": [{"name": "A"}], "columns": [{"name": "1"}],
                      "wells": wells, **plate}}  # fmt: skip


@pytest.mark.parametrize("strict", [False, True])
def test_should_rules_are_named_warnings_and_errors_when_strict(tmp_path, strict):
    document = tmp_path / "plate.json"
    document.write_text(json.dumps(_plate_attributes()))  # no plate name: a SHOULD
    args = ["--strict"] if strict else []
    result = run_fairio("validate-ngff", "--attributes", document, *args)
    assert result.returncode == (1 if strict else 0), result.stdout + result.stderr
    severity = "error" if strict else "warning"
    (line,) = [line for line in result.stdout.splitlines() if "plate-name-missing" in line]
    assert line.split()[0] == severity, result.stdout
    document.write_text(json.dumps(_plate_attributes(name="named")))
    assert run_fairio("validate-ngff", "--attributes", document, *args).returncode == 0


def test_our_defect_corpus_exported_for_the_runner(tmp_path):
    """The one-defect corpus in the runner's layout: every verdict as the corpus says, for the
    whole store (arrays and chunks read), plain and strict."""
    runner = tmp_path / "conformance" / "ome_zarr_conformance.py"
    count = export_corpus(tmp_path)
    cases = list((tmp_path / "tests" / "zarr").rglob("*.ome.zarr"))
    assert len(cases) == count
    listed = [(d, v) for d in DEFECTS if not d.deep for v in d.versions]
    folders = [str(case.relative_to(tmp_path / "tests" / "zarr").parent.parent) for case in cases]
    assert folders.count("spec/invalid") == sum(d.severity == "error" for d, _ in listed)
    assert folders.count("strict/invalid") == sum(d.should for d, _ in listed) >= 10
    for strict in (False, True):
        statuses = run_conformance(runner, "zarr", strict, metadata_only=False)
        assert statuses and set(statuses.values()) == {"pass"}, statuses


@pytest.mark.parametrize(("text", "code"), [("[1, 2]", "invalid-zarr-metadata"),
                                            ('{"ome": NaN}', "invalid-json")])  # fmt: skip
def test_an_unusable_attributes_document_is_an_invalid_verdict(tmp_path, text, code):
    document = tmp_path / "attributes.json"
    document.write_text(text)
    result = run_fairio("validate-ngff", "--attributes", "--conformance", document)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is False and code in verdict["message"]
