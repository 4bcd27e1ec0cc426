"""The Galaxy harness: its configuration, its failure path, and a real served Galaxy."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
import yaml

from fairio_tools import __version__
from fairio_tools.errors import FairioError
from fairio_tools.galaxy.artifacts import find_tools, find_workflows
from fairio_tools.galaxy.config import GalaxyLayout, write_config
from fairio_tools.galaxy.harness import galaxy_venv
from fairio_tools.galaxy.server import running_galaxy
from tests.conftest import ROOT


def test_config_installs_from_the_tool_shed_and_resolves_requirements(tmp_path):
    layout = GalaxyLayout(tmp_path / "state")
    tools_bin = Path(sys.executable).parent
    shed = "http://127.0.0.1:9009/"
    write_config(layout, tools_bin=tools_bin, port=8123, admin_key="k" * 32, tool_shed_url=shed)

    galaxy = yaml.safe_load(layout.config_file.read_text())["galaxy"]
    # no tool comes from tools/: the panel is what Galaxy installs from the Tool Shed
    assert galaxy["tool_config_file"] == str(layout.shed_tool_conf)
    shed_conf = ElementTree.parse(layout.shed_tool_conf).getroot()
    assert shed_conf.get("tool_path") == str(layout.state / "shed_tools") and not len(shed_conf)
    sheds = ElementTree.parse(galaxy["tool_sheds_config_file"]).getroot()
    assert [tool_shed.get("url") for tool_shed in sheds] == [shed]
    env_sh = layout.deps / "fairio-tools" / __version__ / "env.sh"
    assert env_sh.read_text() == f'export PATH="{tools_bin}:$PATH"\n'
    assert "<galaxy_packages" in layout.resolvers_conf.read_text()
    assert galaxy["database_connection"].startswith("sqlite:///")
    assert galaxy["job_config"]["execution"]["default"] == "local"
    assert galaxy["conda_auto_install"] is False


def test_every_tool_requires_this_package_version():
    tools = find_tools(ROOT / "tools")
    assert tools, "no tools found"
    macros = (ROOT / "tools" / "macros.xml").read_text()
    assert f'<token name="@TOOL_VERSION@">{__version__}</token>' in macros
    for tool in tools:
        assert (tool.parent / "macros.xml").resolve() == (ROOT / "tools/macros.xml").resolve()
        assert (tool.parent / ".shed.yml").is_file(), tool


def test_failed_start_reports_the_log_tail(tmp_path):
    fake_bin = tmp_path / "venv" / "bin"
    fake_bin.mkdir(parents=True)
    gunicorn = fake_bin / "gunicorn"
    gunicorn.write_text("#!/bin/sh\necho 'sqlalchemy.exc.OperationalError: database is locked'\n"
                        "exit 3\n")  # fmt: skip
    gunicorn.chmod(0o755)
    layout = GalaxyLayout(tmp_path / "state")
    layout.state.mkdir()
    with (
        pytest.raises(FairioError, match="database is locked") as raised,
        running_galaxy(layout, fake_bin, 1, "key", log=lambda _: None),
    ):
        pass
    assert "exited with code 3" in str(raised.value)


@pytest.mark.galaxy
def test_served_galaxy_lists_our_tool_and_renders_in_chromium(tmp_path):
    """What `make run` does: Galaxy comes up, lists the tool, renders, stops on Ctrl-C."""
    venv = galaxy_venv(ROOT)
    if not (venv / "bin" / "gunicorn").exists():
        pytest.fail(f"Galaxy environment missing at {venv}: run `make galaxy-env` first")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run `make browser` first")
    serve = subprocess.Popen(
        [str(Path(sys.executable).parent / "fairio"), "galaxy", "serve", "--root", str(ROOT),
         "--port", "0", "--state", str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = _wait_for_line(serve, re.compile(r"Galaxy:\s+(http://127\.0\.0\.1:\d+)"))
        panel = requests.get(f"{url}/api/tools", params={"in_panel": "false"}, timeout=60)
        by_short_id = {  # Galaxy's own tools (upload, data fetch) have plain ids
            tool["id"].split("/")[-2]: tool for tool in panel.json() if "/repos/" in tool["id"]
        }
        tool = by_short_id["fairio_image_info"]
        # installed from the Tool Shed that serve started, not loaded from tools/
        assert re.fullmatch(
            r"127\.0\.0\.1:\d+/repos/fairio/fairio_image_info/fairio_image_info/[^/]+", tool["id"]
        ), tool["id"]
        assert tool["tool_shed_repository"]["name"] == "fairio_image_info"
        assert {short for short in by_short_id if short.startswith("fairio_")} == {
            ElementTree.parse(path).getroot().get("id") for path in find_tools(ROOT / "tools")
        }
        # the workflows name main Tool Shed ids; Galaxy resolves each step to an installed tool
        workflows = requests.get(f"{url}/api/workflows", headers=_admin(tmp_path), timeout=60)
        assert len(workflows.json()) == len(find_workflows(ROOT / "workflows"))
        for workflow in workflows.json():
            shown = requests.get(
                f"{url}/api/workflows/{workflow['id']}/download", params={"style": "editor"},
                headers=_admin(tmp_path), timeout=60,
            ).json()  # fmt: skip
            for step in shown["steps"].values():
                if step["type"] == "tool":
                    assert not step.get("errors"), (workflow["name"], step)
                    assert step["tool_id"].split("/")[-2] in by_short_id
        # Galaxy builds its tool search index in the background after start-up.
        deadline, found = time.monotonic() + 300, []
        while tool["id"] not in found and time.monotonic() < deadline:
            found = requests.get(f"{url}/api/tools", params={"q": "image"}, timeout=60).json()
            time.sleep(3)
        assert tool["id"] in found
        screenshot = ROOT / "build" / "screenshots" / "galaxy-home.png"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.unlink(missing_ok=True)
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,900",
             "--virtual-time-budget=20000", f"--screenshot={screenshot}", url],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
        assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
        dom = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=20000",
             "--dump-dom", f"{url}/?tool_id={tool['id']}"],
            check=True, capture_output=True, text=True, timeout=180,
        ).stdout  # fmt: skip
        assert "Image metadata" in dom
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            output, _ = serve.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            serve.terminate()  # also handled: stops Galaxy, then fail below
            output, _ = serve.communicate(timeout=120)
            pytest.fail("Ctrl-C did not stop `fairio galaxy serve` within 120 s:\n" + output)
    assert serve.returncode == 0, output
    assert "Galaxy stopped" in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/version", timeout=5)


def _admin(tmp_path: Path) -> dict[str, str]:
    """The admin API key that serve keeps in its state folder."""
    key = (tmp_path / "state" / "galaxy" / "admin_key").read_text().strip()
    return {"x-api-key": key}


def _wait_for_line(process: subprocess.Popen, pattern: re.Pattern, timeout: float = 900) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), True)
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("fairio galaxy serve ended early:\n" + "".join(seen))
        seen.append(line)
        match = pattern.search(line)
        if match:
            return match.group(1)
    raise AssertionError("Galaxy did not come up:\n" + "".join(seen))
