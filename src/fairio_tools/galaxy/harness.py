"""Test and serve our tools in a real Galaxy: the code behind ``fairio galaxy``."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

from fairio_tools.galaxy.config import GalaxyLayout, find_tools, find_workflows, write_config
from fairio_tools.galaxy.environment import ensure_galaxy_venv
from fairio_tools.galaxy.server import RunningGalaxy, free_port, running_galaxy


def _log(message: str) -> None:
    print(f"[galaxy-harness] {message}", flush=True)


def galaxy_venv(root: Path) -> Path:
    """Galaxy's environment: ``$FAIRIO_GALAXY_VENV`` if set (to share one) or ``.galaxy/venv``."""
    return Path(os.environ.get("FAIRIO_GALAXY_VENV") or root / ".galaxy" / "venv")


def _tools_bin() -> Path:
    """The ``bin`` folder of the environment fairio-tools itself is installed in."""
    return Path(sys.executable).parent


def run_planemo_tests(root: Path, targets: list[Path]) -> int:
    """Run ``planemo test`` against a fresh Galaxy; return non-zero if any test failed.

    Tools and workflows go to two planemo processes that run at once against the same
    Galaxy: planemo 0.75 mixes up the results of a run that holds both (it pairs workflow
    test cases with tool results), and the two together keep both cores busy.
    """
    targets = targets or [*find_tools(root), *find_workflows(root)]
    runs = {
        kind: [t for t in targets if (t.suffix == ".ga") == (kind == "workflow")]
        for kind in ("tool", "workflow")
    }
    runs = {kind: paths for kind, paths in runs.items() if paths}
    if not runs:
        _log("no tools or workflows to test")
        return 1
    galaxy_bin = ensure_galaxy_venv(galaxy_venv(root), log=_log)
    layout = GalaxyLayout(root / "build" / "galaxy-test")
    shutil.rmtree(layout.state, ignore_errors=True)  # every test run starts from nothing
    reports = root / "build" / "planemo"
    shutil.rmtree(reports, ignore_errors=True)  # no report of an earlier run can pass for this one
    reports.mkdir(parents=True)
    port, admin_key = free_port(), secrets.token_hex(16)
    write_config(layout, root=root, tools_bin=_tools_bin(), port=port, admin_key=admin_key)
    with running_galaxy(layout, galaxy_bin, port, admin_key, log=_log) as galaxy:
        (reports / "galaxy-startup.json").write_text(
            json.dumps({"startup_s": round(galaxy.startup_s, 1), "url": galaxy.url}) + "\n"
        )
        started = time.monotonic()
        running: dict[str, subprocess.Popen] = {}
        try:
            for kind, paths in runs.items():
                log_path = reports / f"{kind}_planemo.log"
                _log(f"planemo test on {len(paths)} {kind}(s); log: {log_path}")
                with log_path.open("w") as log_file:
                    running[kind] = subprocess.Popen(
                        _planemo_test_command(galaxy_bin, galaxy, reports, kind, paths),
                        cwd=root, stdout=log_file, stderr=subprocess.STDOUT,
                    )  # fmt: skip
            codes = {kind: process.wait() for kind, process in running.items()}
        finally:  # Ctrl-C or an error: no planemo outlives the Galaxy it talks to
            for process in running.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
        elapsed = time.monotonic() - started
    for kind, code in codes.items():
        print((reports / f"{kind}_planemo.log").read_text(errors="replace"), flush=True)
        report = reports / f"{kind}_test_output.html"
        _log(f"{kind} tests: planemo exit code {code}; report {report}")
    _log(f"planemo runs finished after {elapsed:.0f} s")
    return next((code for code in codes.values() if code), 0)  # a signal's code is negative


def _planemo_test_command(
    galaxy_bin: Path, galaxy: RunningGalaxy, reports: Path, kind: str, targets: list[Path]
) -> list[str]:
    return [
        str(galaxy_bin / "planemo"), "test",
        "--engine", "external_galaxy",
        "--galaxy_url", galaxy.url,
        "--galaxy_admin_key", galaxy.admin_key,
        "--galaxy_user_key", galaxy.user_key,
        "--test_output", str(reports / f"{kind}_test_output.html"),
        "--test_output_json", str(reports / f"{kind}_test_output.json"),
        "--no_conda_auto_init",
        *map(str, targets),
    ]  # fmt: skip


def run_planemo_lint(root: Path) -> int:
    """Lint every tool and workflow with planemo; return non-zero if any lint failed."""
    galaxy_bin = ensure_galaxy_venv(galaxy_venv(root), log=_log)
    planemo = str(galaxy_bin / "planemo")
    code = 0
    tools = find_tools(root)
    if tools:
        _log(f"planemo lint --fail_level warn on {len(tools)} tool(s)")
        code |= subprocess.call([planemo, "lint", "--fail_level", "warn", *map(str, tools)])
        _log("gialint (Galaxy image-analysis conventions)")
        gialint = [str(galaxy_bin / "python"), "-m", "gialint", "--tool_path", str(root / "tools")]
        code |= subprocess.call(gialint, cwd=root)
    for workflow in find_workflows(root):
        _log(f"planemo workflow_lint --iwc {workflow.parent}")
        code |= subprocess.call([planemo, "workflow_lint", "--iwc", str(workflow.parent)])
    return code


def serve_forever(root: Path, port: int, portal_dir: Path | None, state: Path) -> None:
    """Start Galaxy with our tools and workflows (and the portal), run until Ctrl-C."""
    galaxy_bin = ensure_galaxy_venv(galaxy_venv(root), log=_log)
    layout = GalaxyLayout(state)
    port = port or free_port()
    admin_key = _persistent_key(layout)
    write_config(layout, root=root, tools_bin=_tools_bin(), port=port, admin_key=admin_key)
    portal = None
    try:
        with running_galaxy(layout, galaxy_bin, port, admin_key, log=_log) as galaxy:
            imported = _import_workflows(galaxy, find_workflows(root))
            if portal_dir is not None:
                portal_port = free_port()
                portal = subprocess.Popen(
                    [sys.executable, "-m", "http.server", str(portal_port),
                     "--bind", "127.0.0.1", "--directory", str(portal_dir)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            _log(f"Galaxy:  {galaxy.url}  (admin: admin@fairio.local / fairio-admin)")
            _log(f"Tools:   {len(find_tools(root))} in section 'FAIR bioimage data'")
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


def _persistent_key(layout: GalaxyLayout) -> str:
    layout.state.mkdir(parents=True, exist_ok=True)
    key_file = layout.state / "admin_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(16))
    return key_file.read_text().strip()


def _import_workflows(galaxy: RunningGalaxy, workflows: list[Path]) -> int:
    """Import each workflow for the admin user unless one of the same name exists."""
    headers = {"x-api-key": galaxy.user_key}
    existing = requests.get(f"{galaxy.url}/api/workflows", headers=headers, timeout=30)
    existing.raise_for_status()
    names = {w["name"] for w in existing.json()}
    count = 0
    for path in workflows:
        content = json.loads(path.read_text())
        if content.get("name") in names:
            continue
        response = requests.post(
            f"{galaxy.url}/api/workflows",
            json={"workflow": content, "publish": True},
            headers=headers,
            timeout=60,
        )
        if response.ok:
            count += 1
        else:
            _log(f"could not import {path}: {response.status_code} {response.text[:200]}")
    return count
