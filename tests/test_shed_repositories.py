"""Tool Shed repositories and the ids workflows use: what `fairio galaxy test` publishes."""

from __future__ import annotations

import json

import pytest
import yaml
from galaxy.tool_util.parser import get_tool_source

from fairio_tools.errors import FairioError
from fairio_tools.galaxy.artifacts import (
    MAIN_TOOL_SHED,
    find_tools,
    find_workflows,
    shed_repositories,
    suite_members,
)
from fairio_tools.galaxy.harness import _check_workflow_tool_ids
from fairio_tools.galaxy.toolshed import RunningToolShed
from tests.conftest import ROOT

TOOLS = ROOT / "tools"


def _wrappers() -> dict[str, tuple[str, str, str]]:
    """Tool id → (owner, repository, version), read by Galaxy's own parser."""
    found = {}
    for path in find_tools(TOOLS):
        source = get_tool_source(str(path))
        shed = yaml.safe_load((path.parent / ".shed.yml").read_text())
        found[source.parse_id()] = (shed["owner"], shed["name"], source.parse_version())
    return found


def test_the_suite_includes_every_tool_repository_and_nothing_else():
    repositories = shed_repositories(TOOLS)
    tools = [r for r in repositories if not r.suite]
    assert [r.suite for r in repositories] == [False] * len(tools) + [True]
    assert {r.folder for r in tools} == {path.parent for path in find_tools(TOOLS)}
    assert sorted(suite_members(TOOLS)) == sorted((r.owner, r.name) for r in tools)


def test_every_workflow_step_names_the_main_tool_shed_id_of_a_wrapper():
    wrappers = _wrappers()
    steps = 0
    for path in find_workflows(ROOT / "workflows"):
        for step in json.loads(path.read_text())["steps"].values():
            if step["type"] != "tool":
                continue
            steps += 1
            short_id = step["tool_id"].split("/")[-2]
            owner, name, version = wrappers[short_id]
            expected = f"{MAIN_TOOL_SHED}/repos/{owner}/{name}/{short_id}/{version}"
            assert step["tool_id"] == step["content_id"] == expected, path
            assert step["tool_version"] == version
            # no revision of ours is on the main Tool Shed yet: a `tool_shed_repository` block
            # would need its changeset_revision (planemo autoupdate adds it once published)
            assert "tool_shed_repository" not in step
    assert steps >= 10


def _shed(host: str) -> RunningToolShed:
    return RunningToolShed(f"http://{host}/", "admin", "owner", 0.0)


def test_workflow_ids_are_checked_against_the_installed_tools(tmp_path):
    workflows = find_workflows(ROOT / "workflows")
    shed = _shed("127.0.0.1:9009")
    wrappers = _wrappers()
    installed = [
        {"id": f"127.0.0.1:9009/repos/{owner}/{name}/{tool_id}/{version}"}
        for tool_id, (owner, name, version) in wrappers.items()
    ]
    _check_workflow_tool_ids(workflows, installed, shed)  # all resolve: no error

    missing = [tool for tool in installed if "fairio_validate_ngff/" not in tool["id"]]
    with pytest.raises(FairioError, match=r"fairio_validate_ngff/.* is not installed"):
        _check_workflow_tool_ids(workflows, missing, shed)

    local = tmp_path / "local.ga"
    content = json.loads(workflows[0].read_text())
    step = next(s for s in content["steps"].values() if s["type"] == "tool")
    step["tool_id"] = step["tool_id"].split("/")[-2]
    local.write_text(json.dumps(content))
    with pytest.raises(FairioError, match="not a Tool Shed id"):
        _check_workflow_tool_ids([local], installed, shed)
