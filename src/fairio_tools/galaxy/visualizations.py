"""Galaxy's Vizarr viewer for ``ome_zarr`` and ``zarr`` datasets, installed from npm.

Galaxy's PyPI package ships no visualization plugins; Galaxy's own build installs them from
npm. We install the one that opens OME-Zarr, pinned by version and by the integrity npm
records for it, into the plugins folder of Galaxy's package (``static/plugins/
visualizations``, which Galaxy serves under ``/static/plugins/visualizations/``).
"""

from __future__ import annotations

import json
import py_compile
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from fairio_tools.errors import FairioError

VIZARR = "@galaxyproject/vizarr@0.1.8"
VIZARR_INTEGRITY = (
    "sha512-aNqs+Im0T4hospAIMG8kG71lzosrWYjKGRQUjF0h/"
    "ydqpWqDJ0S59adT8gH2HNJJZoq9GHhGALFpHF0DRs4eFQ=="
)
PLUGIN = "vizarr"
# Vizarr's bundle imports GeoTIFF's JPEG 2000 decoder from a CDN when it loads: where browsers
# cannot reach cdn.jsdelivr.net (an offline server, a strict network) the whole module fails
# and the viewer stays empty. OME-Zarr chunks are never JPEG 2000, so that one import is
# pointed at a local module that refuses JPEG 2000 with a message instead.
CDN_IMPORT = 'from"https://cdn.jsdelivr.net/gh/mozilla/pdf.js@30bd5f0/src/core/jpx.js"'
LOCAL_JPX = "jpx-unavailable.js"
JPX_STUB = """export class JpxImage {
  constructor() {
    throw new Error("JPEG 2000 tiles need pdf.js's decoder, not installed with this viewer");
  }
}
"""
INSTALLED = f"{VIZARR} (JPEG 2000 decoder local)"  # the marker: what is installed, how
# Galaxy 26.1 fills a plugin's "href" (where the browser loads its script from) with routes'
# url_for, which works only in a thread that has served a legacy WSGI request: elsewhere
# /api/plugins answers "*deprecated attribute, URL not filled in by server*" and the viewer
# loads nothing, at random. The harness's Galaxy is served at the root, where the href is
# the plugin's static path itself.
PLUGIN_MODULE = "visualization/plugins/plugin.py"
GALAXY_HREF = '"href": url_for(self.static_path),'
ROOT_HREF = '"href": self.static_path,  # fairio-tools: url_for needs a WSGI request thread'


def galaxy_package(galaxy_bin: Path) -> Path:
    """The ``galaxy`` package folder of the Galaxy environment of ``galaxy_bin``."""
    found = sorted(galaxy_bin.parent.glob("lib/python3*/site-packages/galaxy/webapps"))
    if not found:
        raise FairioError(f"no Galaxy package below {galaxy_bin.parent}/lib")
    return found[-1].parent


def plugins_folder(galaxy_bin: Path) -> Path:
    """The ``static/plugins/visualizations`` folder of the Galaxy package."""
    return galaxy_package(galaxy_bin) / "webapps/base/static/plugins/visualizations"


def plugin_href_at_root(galaxy_bin: Path) -> None:
    """Make Galaxy name every plugin's static folder in /api/plugins, whichever thread
    answers (see :data:`GALAXY_HREF`); done once, refused if Galaxy's code changed."""
    module = galaxy_package(galaxy_bin) / PLUGIN_MODULE
    text = module.read_text(encoding="utf-8")
    if ROOT_HREF in text:
        return
    if text.count(GALAXY_HREF) != 1:  # a new Galaxy pin: check whether it still needs this
        raise FairioError(f"{module} no longer sets a plugin's href as expected")
    module.write_text(text.replace(GALAXY_HREF, ROOT_HREF), encoding="utf-8")
    py_compile.compile(str(module), doraise=True)  # Galaxy's processes start compiled


def ensure_vizarr(galaxy_bin: Path, log: Callable[[str], None] = print) -> Path | None:
    """Install the Vizarr plugin (once) where Galaxy serves it and lists it reliably; return
    the plugins folder, or None without npm."""
    plugin_href_at_root(galaxy_bin)
    folder = plugins_folder(galaxy_bin)
    marker = folder / PLUGIN / ".fairio-package"
    if marker.is_file() and marker.read_text() == INSTALLED:
        return folder
    npm = shutil.which("npm")
    if npm is None:
        log("npm is not installed: Galaxy runs without the Vizarr viewer for OME-Zarr")
        return None
    log(f"Installing Galaxy's visualization {VIZARR} from npm (first run only) ...")
    with tempfile.TemporaryDirectory() as scratch:
        packed = subprocess.run(
            [npm, "pack", VIZARR, "--json", "--pack-destination", scratch],
            capture_output=True, text=True, timeout=300, cwd=scratch,
        )  # fmt: skip
        if packed.returncode != 0:
            raise FairioError(f"npm pack {VIZARR} failed: {packed.stderr.strip()[-500:]}")
        (entry,) = json.loads(packed.stdout)
        if entry.get("integrity") != VIZARR_INTEGRITY:
            raise FairioError(f"{VIZARR} from npm is not the package pinned (integrity differs)")
        with tarfile.open(Path(scratch) / entry["filename"]) as archive:
            archive.extractall(scratch, filter="data")
        target = folder / PLUGIN
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(Path(scratch) / "package" / "static", target / "static")
        _load_without_cdn(target / "static")
    marker.write_text(INSTALLED)
    return folder


def _load_without_cdn(static: Path) -> None:
    script = static / "index.js"
    text = script.read_text(encoding="utf-8")
    if text.count(CDN_IMPORT) != 1:  # only a new pin can change the bundle: review it then
        raise FairioError(f"{VIZARR}'s index.js no longer imports the decoder as expected")
    (static / LOCAL_JPX).write_text(JPX_STUB, encoding="utf-8")
    script.write_text(text.replace(CDN_IMPORT, f'from"./{LOCAL_JPX}"'), encoding="utf-8")
