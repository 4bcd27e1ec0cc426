"""Test and serve our tools in a real Galaxy: the code behind ``fairio galaxy``."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree

import requests
import yaml

from fairio_tools.atomic import atomic_path
from fairio_tools.errors import FairioError
from fairio_tools.galaxy.artifacts import (
    MAIN_TOOL_SHED,
    find_tools,
    find_workflows,
    shed_repositories,
)
from fairio_tools.galaxy.config import (
    TOOL_SECTION,
    GalaxyLayout,
    persistent_secrets,
    write_config,
)
from fairio_tools.galaxy.environment import ensure_galaxy_venv
from fairio_tools.galaxy.served import served_galaxy_problems
from fairio_tools.galaxy.server import RunningGalaxy, free_port, running_galaxy
from fairio_tools.galaxy.toolshed import (
    RunningToolShed,
    ToolShedLayout,
    install,
    publish,
    running_tool_shed,
    write_tool_shed_config,
)
from fairio_tools.galaxy.visualizations import ensure_vizarr
from fairio_tools.galaxy.welcome import write_welcome


def _log(message: str) -> None:
    print(f"[galaxy-harness] {message}", flush=True)


def galaxy_venv(root: Path) -> Path:
    """Galaxy's environment: ``$FAIRIO_GALAXY_VENV`` if set (to share one) or ``.galaxy/venv``."""
    return Path(os.environ.get("FAIRIO_GALAXY_VENV") or root / ".galaxy" / "venv")


def _tools_bin() -> Path:
    """The ``bin`` folder of the environment fairio-tools itself is installed in."""
    return Path(sys.executable).parent


def run_planemo_tests(root: Path, targets: list[Path]) -> int:
    """Publish our repositories to a fresh Tool Shed, install them into a fresh Galaxy, test.

    Tool tests run with Galaxy's own runner (``galaxy-tool-test``) against the installed
    tools, addressed by their Tool Shed ids; workflows run with ``planemo test``. Both run at
    once against the same Galaxy (planemo 0.75 mixes up the results of a run that holds tools
    and workflows), and planemo renders both reports. Returns non-zero if anything failed.
    """
    targets = targets or [*find_tools(root / "tools"), *find_workflows(root / "workflows")]
    workflows = [t for t in targets if t.suffix == ".ga"]
    tools = [t for t in targets if t.suffix != ".ga"]
    galaxy_bin = ensure_galaxy_venv(galaxy_venv(root), log=_log)
    state = root / "build" / "galaxy-test"
    shutil.rmtree(state, ignore_errors=True)  # every test run starts from nothing
    reports = root / "build" / "planemo"
    shutil.rmtree(reports, ignore_errors=True)  # no report of an earlier run can pass for this one
    reports.mkdir(parents=True)
    timings: dict[str, float] = {}
    with installed_galaxy(root, galaxy_bin, state, reports, timings) as (galaxy, shed, installed):
        started = time.monotonic()
        running: dict[str, subprocess.Popen] = {}
        workflows_record = state / "workflows.json"
        imported = _import_workflows(galaxy, find_workflows(root / "workflows"), workflows_record)
        _log(f"imported {imported} workflows, as make run does")
        _write_welcome(galaxy, GalaxyLayout(state / "galaxy"), root, None)
        try:
            if tools:
                ids = _tool_shed_ids(tools, installed) if targets != _all(root) else []
                running["tool"] = _start(
                    "tool", _tool_test_command(galaxy_bin, galaxy, reports, ids), root, reports
                )
            if workflows:
                _check_workflow_tool_ids(workflows, installed, shed)
                running["workflow"] = _start(
                    "workflow", _workflow_test_command(galaxy_bin, galaxy, reports, workflows),
                    root, reports,
                )  # fmt: skip
            # meanwhile: what a biologist meets in the Galaxy that make run serves
            served = served_galaxy_problems(galaxy, installed, root, root / "build/screenshots")
            codes = _wait_for(running, galaxy)
        finally:  # Ctrl-C or an error: no test runner outlives the Galaxy it talks to
            for process in running.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
        timings["tests_s"] = time.monotonic() - started
    for kind in running:
        print((reports / f"{kind}_planemo.log").read_text(errors="replace"), flush=True)
    if "tool" in codes:
        codes["tool"] = _tool_report(galaxy_bin, reports, shed, installed, codes["tool"])
    for kind, code in codes.items():
        _log(f"{kind} tests: exit code {code}; report {reports / f'{kind}_test_output.html'}")
    for problem in served:
        _log(f"served Galaxy: {problem}")
    codes["served"] = 1 if served else 0
    (reports / "timings.json").write_text(json.dumps({k: round(v, 1) for k, v in timings.items()}))
    _log("timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    return next((code for code in codes.values() if code), 0)  # a signal's code is negative


def _wait_for(running: dict[str, subprocess.Popen], galaxy: RunningGalaxy) -> dict[str, int]:
    """Each test runner's exit code; fail at once if Galaxy's Celery worker dies (jobs
    would wait for their metadata forever)."""
    while any(process.poll() is None for process in running.values()):
        galaxy.check_celery()
        time.sleep(5)
    return {kind: process.returncode for kind, process in running.items()}


def _all(root: Path) -> list[Path]:
    return [*find_tools(root / "tools"), *find_workflows(root / "workflows")]


@contextmanager
def installed_galaxy(
    root: Path,
    galaxy_bin: Path,
    state: Path,
    reports: Path,
    timings: dict[str, float],
    *,
    port: int = 0,
    standard_tools: bool = False,
) -> Iterator[tuple[RunningGalaxy, RunningToolShed, list[dict]]]:
    """A Tool Shed holding our repositories and a Galaxy that installed them from it.

    The Tool Shed comes up first; planemo publishes to it while Galaxy starts. State kept in
    ``state`` from an earlier run is reused (the Tool Shed keeps its port and keys, so the
    ids of tools Galaxy installed from it stay valid); publishing again adds a revision only
    where a repository changed. ``standard_tools`` adds Galaxy's own upload, collection and
    text tools to the panel (``make run``; the tests test only ours).
    """
    shed_layout = ToolShedLayout(state / "toolshed")
    layout = GalaxyLayout(state / "galaxy")
    shed_port, shed_admin_key = _tool_shed_identity(shed_layout)
    port = port or free_port()
    shed_url = f"http://127.0.0.1:{shed_port}/"
    identity = persistent_secrets(layout)  # restarts keep sessions, ids and history links
    write_config(
        layout, tools_bin=_tools_bin(), port=port, identity=identity, tool_shed_url=shed_url,
        galaxy_tools=_galaxy_tools(galaxy_bin) if standard_tools else None,
        visualizations=ensure_vizarr(galaxy_bin, _log),
    )  # fmt: skip
    suite = shed_repositories(root / "tools")[-1]
    with (
        running_tool_shed(shed_layout, galaxy_bin, shed_port, shed_admin_key, suite.owner,
                          log=_log) as shed,
        ThreadPoolExecutor(1) as pool,
    ):  # fmt: skip
        timings["tool_shed_start_s"] = shed.startup_s
        started = time.monotonic()
        published = pool.submit(
            publish, root / "tools", shed, galaxy_bin, reports / "shed_publish.log", _log
        )
        with running_galaxy(layout, galaxy_bin, port, identity.admin_key, log=_log) as galaxy:
            timings["galaxy_start_s"] = galaxy.startup_s
            published.result()
            timings["publish_s"] = time.monotonic() - started
            started = time.monotonic()
            installed = install(galaxy, shed, suite, TOOL_SECTION[1], log=_log)
            timings["install_s"] = time.monotonic() - started
            yield galaxy, shed, installed


def _galaxy_tools(galaxy_bin: Path) -> Path:
    """The ``galaxy/tools`` folder of the Galaxy package in Galaxy's environment."""
    found = sorted(galaxy_bin.parent.glob("lib/python3*/site-packages/galaxy/tools"))
    if not found:
        raise FairioError(f"no Galaxy package below {galaxy_bin.parent}/lib")
    return found[-1]


def _write_welcome(galaxy: RunningGalaxy, layout: GalaxyLayout, root: Path, portal) -> None:
    """The local Galaxy's home page, with run buttons for the imported workflows."""
    listed = requests.get(
        f"{galaxy.url}/api/workflows", headers={"x-api-key": galaxy.user_key}, timeout=30
    )
    listed.raise_for_status()
    ids = {workflow["name"]: workflow["id"] for workflow in listed.json()}
    write_welcome(layout.welcome_file, root, ids, portal)


def _tool_shed_identity(layout: ToolShedLayout) -> tuple[int, str]:
    """The Tool Shed's port and admin key: those of its configuration, else new ones."""
    if layout.config_file.is_file():
        config = yaml.safe_load(layout.config_file.read_text())["tool_shed"]
        return int(config["tool_shed_url"].rsplit(":", 1)[1]), config["bootstrap_admin_api_key"]
    port, admin_key = free_port(), secrets.token_hex(16)
    write_tool_shed_config(layout, port, admin_key, secrets.token_hex(16))
    return port, admin_key


def _start(kind: str, command: list[str], root: Path, reports: Path) -> subprocess.Popen:
    log_path = reports / f"{kind}_planemo.log"
    _log(f"{kind} tests: {' '.join(command[:2])} ...; log: {log_path}")
    with log_path.open("w") as log_file:
        return subprocess.Popen(command, cwd=root, stdout=log_file, stderr=subprocess.STDOUT)


def _tool_shed_ids(tools: list[Path], installed: list[dict]) -> list[str]:
    """The Tool Shed ids of the installed tools that the wrappers ``tools`` define."""
    by_short_id = {tool["id"].split("/")[-2]: tool["id"] for tool in installed}
    ids = []
    for path in tools:  # a wrapper, a tool's folder or the tools folder
        for wrapper in [path] if path.is_file() else [*path.glob("*.xml"), *find_tools(path)]:
            short_id = ElementTree.parse(wrapper).getroot().get("id")
            if short_id in by_short_id:
                ids.append(by_short_id[short_id])
    if not ids:
        raise FairioError(f"none of {', '.join(map(str, tools))} is an installed tool")
    return sorted(set(ids))


def _tool_test_command(
    galaxy_bin: Path, galaxy: RunningGalaxy, reports: Path, tool_ids: list[str]
) -> list[str]:
    """``galaxy-tool-test`` on every installed tool (or ``tool_ids``), two tests at a time."""
    base = [
        str(galaxy_bin / "galaxy-tool-test"),
        "--galaxy-url", galaxy.url, "--key", galaxy.user_key, "--admin-key", galaxy.admin_key,
        "--output-json", str(reports / "tool_test_output.json"),
        "--output", str(reports / "tool_outputs"),
        "--parallel-tests", "2", "--suite-name", "fairio-tools",
    ]  # fmt: skip
    if not tool_ids:
        return base
    # one run per tool, appending to the same report
    return ["sh", "-c", " && ".join(
        shlex.join([*base, "--append", "--tool-id", tool_id]) for tool_id in tool_ids
    )]  # fmt: skip


def _tool_report(
    galaxy_bin: Path, reports: Path, shed: RunningToolShed, installed: list[dict], code: int
) -> int:
    """Render the tool report with planemo; non-zero unless every test of a tool installed
    from our Tool Shed passed (and every installed tool was tested, when all were)."""
    results = reports / "tool_test_output.json"
    if not results.is_file():
        _log(f"no tool test results: {results}")
        return code or 1
    subprocess.call([
        str(galaxy_bin / "planemo"), "test_reports", str(results),
        "--test_output", str(reports / "tool_test_output.html"),
    ], stdout=subprocess.DEVNULL)  # fmt: skip
    tests = [test["data"] for test in json.loads(results.read_text())["tests"]]
    statuses = [test.get("status") for test in tests]
    tested = {f"{test['tool_id']}/{test['tool_version']}" for test in tests}
    foreign = sorted(tested - {tool["id"] for tool in installed})
    failed = len(tests) - statuses.count("success")
    _log(
        f"tool tests: {statuses.count('success')} of {len(tests)} passed, on "
        f"{len(tested)} tools installed from {shed.url}"
    )
    if foreign:
        _log(f"tests of tools not installed from our Tool Shed: {', '.join(foreign)}")
    return 1 if failed or foreign or not tests else 0


def _check_workflow_tool_ids(workflows: list[Path], installed: list[dict], shed) -> None:
    """Every tool step names a Tool Shed id that Galaxy resolves to an installed tool.

    Workflows name the main Tool Shed (IWC); Galaxy runs such a step with the same
    repository's tool from any Tool Shed it knows, here the harness's.
    """
    ids = {tool["id"] for tool in installed}
    problems = []
    for path in workflows:
        for step in json.loads(path.read_text())["steps"].values():
            tool_id = step.get("tool_id")
            if step.get("type") != "tool" or not tool_id:
                continue
            if not tool_id.startswith(f"{MAIN_TOOL_SHED}/repos/"):
                problems.append(f"{path}: step {step['id']} names {tool_id!r}, not a Tool Shed id")
            elif f"{shed.host}/repos/{tool_id.split('/repos/', 1)[1]}" not in ids:
                problems.append(f"{path}: step {step['id']}: {tool_id} is not installed")
    if problems:
        raise FairioError("workflows name tools Galaxy does not have:\n" + "\n".join(problems))


def _workflow_test_command(
    galaxy_bin: Path, galaxy: RunningGalaxy, reports: Path, targets: list[Path]
) -> list[str]:
    return [
        str(galaxy_bin / "planemo"), "test",
        "--engine", "external_galaxy",
        "--galaxy_url", galaxy.url,
        "--galaxy_admin_key", galaxy.admin_key,
        "--galaxy_user_key", galaxy.user_key,
        "--no_shed_install",  # the harness installed them from its own Tool Shed
        "--test_output", str(reports / "workflow_test_output.html"),
        "--test_output_json", str(reports / "workflow_test_output.json"),
        "--no_conda_auto_init",
        *map(str, targets),
    ]  # fmt: skip


def run_planemo_lint(root: Path) -> int:
    """Lint every tool and workflow with planemo; return non-zero if any lint failed."""
    galaxy_bin = ensure_galaxy_venv(galaxy_venv(root), log=_log)
    planemo = str(galaxy_bin / "planemo")
    code = 0
    tools = find_tools(root / "tools")
    if tools:
        _log(f"planemo lint --fail_level warn on {len(tools)} tool(s)")
        code |= subprocess.call([planemo, "lint", "--fail_level", "warn", *map(str, tools)])
        _log("planemo shed_lint --tools -r tools/ (Tool Shed repositories and their tools)")
        code |= subprocess.call([
            planemo, "shed_lint", "--tools", "--recursive", "--report_level", "warn",
            "--fail_level", "warn",
            "--skip_file", str(root / "tools" / ".shed_lint_skip"), str(root / "tools"),
        ])  # fmt: skip
        _log("gialint (Galaxy image-analysis conventions)")
        gialint = [str(galaxy_bin / "python"), "-m", "gialint", "--tool_path", str(root / "tools")]
        code |= subprocess.call(gialint, cwd=root)
    for workflow in find_workflows(root / "workflows"):
        _log(f"planemo workflow_lint --iwc {workflow.parent}")
        # tool_ids asks the main Tool Shed whether each tool id exists there: CI is offline,
        # and `fairio galaxy test` checks every id against the Tool Shed it publishes to
        code |= subprocess.call(
            [planemo, "workflow_lint", "--iwc", "--skip", "tool_ids", str(workflow.parent)]
        )
    return code


def serve_forever(root: Path, port: int, portal_dir: Path | None, state: Path) -> None:
    """Publish our tools to a local Tool Shed, start Galaxy with them installed from it and
    our workflows imported (and the portal); run until Ctrl-C."""
    galaxy_bin = ensure_galaxy_venv(galaxy_venv(root), log=_log)
    reports = state / "logs"
    reports.mkdir(parents=True, exist_ok=True)
    portal = None
    try:
        with installed_galaxy(
            root, galaxy_bin, state, reports, {}, port=port, standard_tools=True
        ) as (galaxy, shed, installed):  # fmt: skip
            imported = _import_workflows(
                galaxy, find_workflows(root / "workflows"), state / "workflows.json"
            )
            if portal_dir is not None:
                portal_port = free_port()
                portal = subprocess.Popen(
                    [sys.executable, "-m", "http.server", str(portal_port),
                     "--bind", "127.0.0.1", "--directory", str(portal_dir)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            portal_url = f"http://127.0.0.1:{portal_port}/" if portal is not None else None
            _write_welcome(galaxy, GalaxyLayout(state / "galaxy"), root, portal_url)
            _log(f"Galaxy:  {galaxy.url}  (admin: admin@fairio.local / fairio-admin)")
            _log(f"Tools:   {len(installed)} installed from the Tool Shed {shed.url}")
            _log(f"Workflows imported: {imported}")
            if portal is not None:
                _log(f"Portal:  http://127.0.0.1:{portal_port}/")
            _log("Press Ctrl-C to stop.")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        _log("stopping")
    finally:
        if portal is not None:
            portal.terminate()


def _import_workflows(galaxy: RunningGalaxy, workflows: list[Path], record: Path) -> int:
    """Import each workflow for the admin user; one imported earlier (same name) gets a new
    version where its ``.ga`` changed since (``record`` keeps the digest last imported).

    Returns how many were imported or updated.
    """
    headers = {"x-api-key": galaxy.user_key}
    existing = requests.get(f"{galaxy.url}/api/workflows", headers=headers, timeout=30)
    existing.raise_for_status()
    ids = {w["name"]: w["id"] for w in existing.json()}
    imported = json.loads(record.read_text()) if record.is_file() else {}
    count = 0
    for path in workflows:
        raw = path.read_bytes()
        content, digest = json.loads(raw), hashlib.sha256(raw).hexdigest()
        name = content.get("name")
        if name in ids and imported.get(name) == digest:
            continue
        if name in ids:  # changed since: a new version of the same workflow (same id)
            response = requests.put(
                f"{galaxy.url}/api/workflows/{ids[name]}",
                json={"workflow": content},
                headers=headers,
                timeout=60,
            )
        else:
            response = requests.post(
                f"{galaxy.url}/api/workflows",
                json={"workflow": content, "publish": True},
                headers=headers,
                timeout=60,
            )
        if response.ok:
            count += 1
            imported[name] = digest
        else:
            _log(f"could not import {path}: {response.status_code} {response.text[:200]}")
    with atomic_path(record) as temporary:
        temporary.write_text(json.dumps(imported, indent=1, sort_keys=True))
    return count
