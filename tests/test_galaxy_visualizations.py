"""Galaxy's Vizarr plugin: taken from npm only as pinned, put where Galaxy finds and serves it.

``npm`` is replaced by a script that packs a local folder, as ``npm pack`` does, so that the
integrity check and the install are tested without the registry (the Galaxy stage installs
and checks the real package: ``served.py``)."""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from fairio_tools.errors import FairioError
from fairio_tools.galaxy import visualizations
from fairio_tools.galaxy.config import GalaxyLayout, persistent_secrets, write_config

PLUGIN_TO_DICT = """from galaxy.web import url_for


class VisualizationPlugin:
    static_path = "/static/plugins/visualizations/vizarr/static"

    def to_dict(self):
        return {
            "href": url_for(self.static_path),
        }
"""


def _galaxy(tmp_path: Path) -> Path:
    package = tmp_path / "venv/lib/python3.11/site-packages/galaxy"
    (package / "webapps/base/static").mkdir(parents=True)
    (package / "visualization/plugins").mkdir(parents=True)
    (package / visualizations.PLUGIN_MODULE).write_text(PLUGIN_TO_DICT)
    (tmp_path / "venv/bin").mkdir()
    return tmp_path / "venv/bin"


def _href(galaxy_bin: Path) -> str:
    """The href Galaxy's plugin module gives, run with url_for failing as it does in an ASGI
    thread that never served a WSGI request."""
    namespace = {}
    module = visualizations.galaxy_package(galaxy_bin) / visualizations.PLUGIN_MODULE
    code = module.read_text().replace("from galaxy.web import url_for", "")
    exec(compile(code, str(module), "exec"), namespace)  # our own fixture text, not input
    namespace["url_for"] = lambda path: "*deprecated attribute, URL not filled in by server*"
    return namespace["VisualizationPlugin"]().to_dict()["href"]


def test_plugins_are_named_by_their_static_folder_in_any_thread(tmp_path):
    galaxy_bin = _galaxy(tmp_path)
    assert _href(galaxy_bin).startswith("*deprecated")  # Galaxy 26.1 as published
    visualizations.plugin_href_at_root(galaxy_bin)
    visualizations.plugin_href_at_root(galaxy_bin)  # once: a second call changes nothing
    assert _href(galaxy_bin) == "/static/plugins/visualizations/vizarr/static"
    module = visualizations.galaxy_package(galaxy_bin) / visualizations.PLUGIN_MODULE
    module.write_text("def to_dict(self):\n    return {}\n")  # a Galaxy that changed
    with pytest.raises(FairioError, match="no longer sets a plugin's href"):
        visualizations.plugin_href_at_root(galaxy_bin)


def _fake_npm(tmp_path: Path, monkeypatch) -> Path:
    package = tmp_path / "src/package/static"
    package.mkdir(parents=True)
    (package / "vizarr.xml").write_text("<visualization><test>ome_zarr</test></visualization>")
    (package / "index.js").write_text(f"import{{JpxImage as q}}{visualizations.CDN_IMPORT};\n")
    tarball = tmp_path / "galaxyproject-vizarr-0.1.8.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(tmp_path / "src/package", arcname="package")
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    calls = tmp_path / "calls"
    npm = tmp_path / "bin/npm"
    npm.parent.mkdir()
    entry = {"filename": tarball.name, "integrity": f"sha512-{digest}"}
    npm.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        f'cp {tarball} "$5/"\n'  # npm pack SPEC --json --pack-destination DIR
        f"echo '{json.dumps([entry])}'\n"
    )
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{npm.parent}:/usr/bin:/bin")
    monkeypatch.setattr(visualizations, "VIZARR_INTEGRITY", entry["integrity"])
    return calls


def test_installs_the_pinned_package_once_where_galaxy_serves_plugins(tmp_path, monkeypatch):
    calls = _fake_npm(tmp_path, monkeypatch)
    galaxy_bin = _galaxy(tmp_path)
    folder = visualizations.ensure_vizarr(galaxy_bin, log=lambda _: None)
    assert folder == visualizations.plugins_folder(galaxy_bin)
    assert folder.as_posix().endswith("galaxy/webapps/base/static/plugins/visualizations")
    assert "ome_zarr" in (folder / "vizarr/static/vizarr.xml").read_text()
    # the viewer loads without the CDN: its one import of a remote module is a local file
    script = (folder / "vizarr/static/index.js").read_text()
    assert "https://" not in script and f'from"./{visualizations.LOCAL_JPX}"' in script
    local = folder / "vizarr/static" / visualizations.LOCAL_JPX
    assert "export class JpxImage" in local.read_text()
    assert visualizations.ensure_vizarr(galaxy_bin, log=lambda _: None) == folder
    (call,) = calls.read_text().splitlines()  # the second call found it installed
    assert call.startswith(f"pack {visualizations.VIZARR} --json --pack-destination ")

    layout = GalaxyLayout(tmp_path / "state")
    write_config(
        layout, tools_bin=tmp_path, port=8080, identity=persistent_secrets(layout),
        tool_shed_url="http://127.0.0.1:9009/", visualizations=folder,
    )  # fmt: skip
    assert f"visualization_plugins_directory: {folder}" in layout.config_file.read_text()


def test_refuses_a_package_that_is_not_the_one_pinned(tmp_path, monkeypatch):
    _fake_npm(tmp_path, monkeypatch)
    monkeypatch.setattr(visualizations, "VIZARR_INTEGRITY", "sha512-somethingelse")
    galaxy_bin = _galaxy(tmp_path)
    with pytest.raises(FairioError, match="integrity differs"):
        visualizations.ensure_vizarr(galaxy_bin, log=lambda _: None)
    assert not (visualizations.plugins_folder(galaxy_bin) / "vizarr").exists()


def test_without_npm_galaxy_runs_without_the_viewer(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    said = []
    assert visualizations.ensure_vizarr(_galaxy(tmp_path), log=said.append) is None
    assert "without the Vizarr viewer" in said[0]
