"""The GitHub workflows: zizmor finds nothing, every run script parses, and no job that runs
pull-request code holds a write permission."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
MINE = ("pull-request.yml", "catalogue-review-comment.yml", "link-health.yml")


def test_workflows_exist():
    assert {path.name for path in WORKFLOWS} >= set(MINE)


def test_zizmor_offline_finds_nothing():
    zizmor = Path(sys.executable).parent / "zizmor"
    result = subprocess.run(
        [str(zizmor), "--offline", "--persona=auditor", *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


@pytest.mark.parametrize("name", MINE)
def test_run_scripts_are_valid_bash(name):
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                script = re.sub(r"\$\{\{.*?\}\}", "X", step["run"])
                result = subprocess.run(["bash", "-n", "-c", script], capture_output=True)
                assert result.returncode == 0, (step.get("name"), result.stderr)


def test_pull_request_code_never_gets_a_write_token():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        assert set(job["permissions"].values()) == {"read"}
        for step in job["steps"]:
            assert "secrets." not in str(step)


def test_comment_workflow_runs_only_default_branch_code():
    text = (ROOT / ".github" / "workflows" / "catalogue-review-comment.yml").read_text()
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["comment"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert "ref" not in checkout.get("with", {})  # the default branch, not the PR head
    review = next(s for s in steps if s.get("name", "").startswith("Review the entries"))
    assert "env" not in review  # no token while the review runs
