"""What a biologist meets in the Galaxy that ``make run`` serves, checked on the Galaxy that
``fairio galaxy test`` starts the same way: our tools in the panel as Tool Shed installs, the
workflows imported with every step resolved, the tool search, the pages rendered in Chromium,
and the Getting-started page's first conversion (``walkthrough.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

import requests

from fairio_tools.galaxy.artifacts import find_tools
from fairio_tools.galaxy.server import RunningGalaxy
from fairio_tools.galaxy.visualizations import PLUGIN
from fairio_tools.galaxy.walkthrough import first_conversion_problems

SEARCH_WAIT_S = 300  # Galaxy builds its tool search index in the background after start-up


def served_galaxy_problems(
    galaxy: RunningGalaxy, installed: list[dict], root: Path, screenshots: Path
) -> list[str]:
    """Everything wrong with the served Galaxy, one line each (empty when all is well)."""
    problems = []
    by_short_id = {tool["id"].split("/")[-2]: tool for tool in installed}
    wrappers = {ElementTree.parse(path).getroot().get("id") for path in find_tools(root / "tools")}
    if missing := sorted(wrappers - set(by_short_id)):
        problems.append(f"not installed from the Tool Shed: {', '.join(missing)}")
    headers = {"x-api-key": galaxy.user_key}
    workflows = requests.get(f"{galaxy.url}/api/workflows", headers=headers, timeout=60).json()
    for workflow in workflows:
        shown = requests.get(
            f"{galaxy.url}/api/workflows/{workflow['id']}/download",
            params={"style": "editor"}, headers=headers, timeout=60,
        ).json()  # fmt: skip
        for step in shown["steps"].values():
            # the editor names a step whose tool Galaxy cannot resolve in its `errors`
            if step["type"] == "tool" and step.get("errors"):
                problems.append(
                    f"workflow {workflow['name']!r} step {step['id']}: {step['errors']}"
                )
    welcome = requests.get(f"{galaxy.url}/static/welcome.html", timeout=60).text
    runs = {f"/workflows/run?id={workflow['id']}" for workflow in workflows}
    if "Start with a workflow" not in welcome or not all(run in welcome for run in runs):
        problems.append("the welcome page does not offer every imported workflow")
    problems += _vizarr_problems(galaxy)
    tool = by_short_id.get("fairio_image_info")
    if tool is None:
        return problems
    deadline, found = time.monotonic() + SEARCH_WAIT_S, []
    while tool["id"] not in found and time.monotonic() < deadline:
        found = requests.get(f"{galaxy.url}/api/tools", params={"q": "image"}, timeout=60).json()
        time.sleep(3)
    if tool["id"] not in found:
        problems.append(f"the tool search does not find {tool['id']} for 'image'")
    problems += _browser_problems(galaxy.url, tool, screenshots)
    if convert := by_short_id.get("fairio_convert_to_ome_zarr"):
        problems += first_conversion_problems(galaxy, convert["id"], root, screenshots)
    return problems


def _vizarr_problems(galaxy: RunningGalaxy) -> list[str]:
    """Galaxy lists the Vizarr viewer for OME-Zarr and serves its script."""
    headers = {"x-api-key": galaxy.user_key}
    plugins = requests.get(f"{galaxy.url}/api/plugins", headers=headers, timeout=60).json()
    vizarr = next((p for p in plugins if p.get("name") == PLUGIN), None)
    if vizarr is None:
        return [f"Galaxy lists no {PLUGIN!r} visualization ({len(plugins)} plugins listed)"]
    script = requests.get(
        f"{galaxy.url}/static/plugins/visualizations/{PLUGIN}/static/index.js", timeout=60
    )
    problems = []
    if "ome_zarr" not in json.dumps(vizarr):  # its data sources: the datatypes it opens
        problems.append(f"the {PLUGIN} visualization does not open ome_zarr datasets")
    static = f"/static/plugins/visualizations/{PLUGIN}/static"
    if vizarr.get("href") != static:  # where the browser loads the viewer's script from
        problems.append(f"Galaxy names {vizarr.get('href')!r} as the {PLUGIN} folder, not {static}")
    if script.status_code != 200 or len(script.content) < 100_000:
        problems.append(f"Galaxy does not serve the {PLUGIN} script ({script.status_code})")
    return problems


def _browser_problems(url: str, tool: dict, screenshots: Path) -> list[str]:
    chromium = shutil.which("chromium")
    if chromium is None:
        return ["Debian's chromium is not installed: run `make browser` first"]
    screenshots.mkdir(parents=True, exist_ok=True)
    screenshot = screenshots / "galaxy-home.png"
    screenshot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        base = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--window-size=1400,900",
            "--virtual-time-budget=20000",
        ]  # fmt: skip
        subprocess.run([*base, f"--screenshot={screenshot}", url], capture_output=True, timeout=180)
        dom = subprocess.run(
            [*base, "--dump-dom", f"{url}/?tool_id={tool['id']}"],
            capture_output=True, text=True, timeout=180,
        ).stdout  # fmt: skip
    problems = []
    if not screenshot.is_file() or screenshot.stat().st_size < 20_000:
        problems.append(f"Galaxy's home page did not render (screenshot {screenshot})")
    if json.dumps(tool["name"])[1:-1] not in dom:
        problems.append(f"the form of {tool['id']} did not render ({tool['name']!r} missing)")
    return problems
