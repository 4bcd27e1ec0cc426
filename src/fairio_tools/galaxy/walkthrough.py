"""The Getting-started page's first conversion, done in the served Galaxy: upload a real
image, convert it, look at the preview, open the store in Vizarr. The API does what needs no
eyes; Chromium (playwright) takes the page's screenshots and checks that Vizarr drew the
image's pixels, not an empty canvas."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import requests

from fairio_tools.galaxy.config import ADMIN_EMAIL, ADMIN_PASSWORD
from fairio_tools.galaxy.server import RunningGalaxy
from fairio_tools.galaxy.visualizations import PLUGIN

IMAGE = "tools/convert_to_ome_zarr/test-data/xyz_8bit__mitotic_plate_calibrated.tiff"
NAME = "mitosis.tif"  # the name a biologist's upload would carry
JOB_WAIT_S = 600
VIEW_WAIT_S = 120
DRAWN_LEVELS = 16  # the mitosis plane spans dozens of grey levels; an empty canvas has one
# what Vizarr 0.1.8 from npm opens: an image at the root (it does not follow the
# bioformats2raw layout), uncompressed (the package lacks its codec modules)
VIEWABLE = {"layout": "image", "compression": "none"}
# what the page shows, named as portal/docs/getting-started.md uses them
SHOTS = ("getting-started-history", "getting-started-preview", "getting-started-vizarr")


def first_conversion_problems(
    galaxy: RunningGalaxy, convert_id: str, root: Path, screenshots: Path
) -> list[str]:
    """Run the walkthrough; everything a biologist would find wrong, one line each."""
    try:
        return _first_conversion(_Api(galaxy), galaxy, convert_id, root, screenshots)
    except requests.RequestException as error:  # Galaxy refused a request: say which, once
        return [f"the first conversion stopped: {error}"]


def _first_conversion(
    api: _Api, galaxy: RunningGalaxy, convert_id: str, root: Path, screenshots: Path
) -> list[str]:
    history = api.post("histories", json={"name": "Getting started"})["id"]
    upload = api.upload(history, root / IMAGE, NAME)
    if not api.wait_ok(upload):
        return [f"the upload of {NAME} did not finish: {api.dataset(upload)['state']}"]
    run = api.post(
        "tools",
        json={"tool_id": convert_id, "history_id": history, "inputs": VIEWABLE | {
            "input": {"src": "hda", "id": upload}}},
    )  # fmt: skip
    outputs = {o["output_name"]: o["id"] for o in run["outputs"]}
    problems = [
        f"convert's {name} output ended {api.dataset(dataset)['state']}"
        for name, dataset in outputs.items()
        if not api.wait_ok(dataset)
    ]
    if problems:
        return problems
    names = {name: api.dataset(dataset)["name"] for name, dataset in outputs.items()}
    if names.get("output") != f"{NAME}: OME-Zarr":  # named after the input, not "data 1"
        problems.append(f"convert's output is named {names.get('output')!r}, not after {NAME}")
    return problems + _browser_problems(galaxy, history, outputs, screenshots)


class _Api:
    def __init__(self, galaxy: RunningGalaxy) -> None:
        self.url, self.headers = f"{galaxy.url}/api", {"x-api-key": galaxy.user_key}

    def post(self, path: str, **kwargs) -> dict:
        response = requests.post(f"{self.url}/{path}", headers=self.headers, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def dataset(self, dataset: str) -> dict:
        response = requests.get(f"{self.url}/datasets/{dataset}", headers=self.headers, timeout=60)
        response.raise_for_status()
        return response.json()

    def upload(self, history: str, path: Path, name: str) -> str:
        """The upload form's request: the file as multipart, its type given."""
        target = {"destination": {"type": "hdas"},
                  "elements": [{"src": "files", "name": name, "ext": "tiff"}]}  # fmt: skip
        with path.open("rb") as handle:
            sent = self.post(
                "tools/fetch",
                data={"history_id": history, "targets": json.dumps([target])},
                files={"files_0|file_data": (name, handle)},
            )
        return sent["outputs"][0]["id"]

    def wait_ok(self, dataset: str) -> bool:
        deadline = time.monotonic() + JOB_WAIT_S
        while time.monotonic() < deadline:
            state = self.dataset(dataset)["state"]
            if state in ("ok", "error", "failed_metadata", "deferred", "discarded"):
                return state == "ok"
            time.sleep(2)
        return False


def _browser_problems(galaxy: RunningGalaxy, history: str, outputs: dict, shots: Path) -> list[str]:
    from playwright.sync_api import Error, sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    for name in SHOTS:
        (shots / f"{name}.png").unlink(missing_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )  # fmt: skip  (headless Chromium draws WebGL in software; ANGLE flags break it)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(VIEW_WAIT_S * 1000)
        step = "log in"
        try:
            _log_in(page, galaxy.url)
            page.request.put(f"{galaxy.url}/history/set_as_current", params={"id": history})
            step = "the history"
            page.goto(galaxy.url)
            page.get_by_text(f"{NAME}: OME-Zarr").first.wait_for()
            page.screenshot(path=str(shots / "getting-started-history.png"))
            step = "the preview"
            page.goto(f"{galaxy.url}/datasets/{outputs['preview']}/preview")
            page.wait_for_function(_SHOWN, arg=outputs["preview"])
            page.screenshot(path=str(shots / "getting-started-preview.png"))
            step = "Vizarr"
            levels = _vizarr_levels(page, galaxy.url, outputs["output"])
            page.screenshot(path=str(shots / "getting-started-vizarr.png"))
        except Error as error:  # a step that never showed: name it, keep what was taken
            first = str(error).splitlines()[0]
            return [f"the first conversion in Chromium stopped at {step}: {first}"]
        finally:
            browser.close()
    if levels < DRAWN_LEVELS:
        return [f"Vizarr drew no image ({levels} grey levels on its canvas)"]
    return []


# the dataset's own image, loaded (Galaxy's page holds other images: its logo, icons)
_SHOWN = """id => [...document.images].some(
    image => image.src.includes(id) && image.complete && image.naturalWidth > 0)"""


def _log_in(page, url: str) -> None:
    page.goto(f"{url}/login/start")
    page.locator("input[name=login]").fill(ADMIN_EMAIL)
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("button[type=submit]").first.click()
    page.wait_for_url(lambda address: "/login" not in address)


def _vizarr_levels(page, url: str, dataset: str) -> int:
    """Open the store in Galaxy's Vizarr viewer; the grey levels its canvas shows once the
    chunks are drawn (one level: an empty canvas)."""
    from PIL import Image

    page.goto(f"{url}/visualizations/display?visualization={PLUGIN}&dataset_id={dataset}")
    canvas = page.frame_locator("iframe#galaxy_visualization").locator("canvas").first
    canvas.wait_for()
    deadline, levels = time.monotonic() + VIEW_WAIT_S, 0
    while levels < DRAWN_LEVELS and time.monotonic() < deadline:
        drawn = Image.open(io.BytesIO(canvas.screenshot())).convert("L")
        levels = len([count for count in drawn.histogram() if count])
        time.sleep(1)
    return levels
