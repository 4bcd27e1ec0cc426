"""The Galaxy harness: its configuration, its failure path, and a real served Galaxy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from fairio_tools import __version__
from fairio_tools.errors import FairioError
from fairio_tools.galaxy import harness
from fairio_tools.galaxy.artifacts import find_tools, find_workflows
from fairio_tools.galaxy.config import (
    GalaxyLayout,
    GalaxySecrets,
    persistent_secrets,
    write_config,
)
from fairio_tools.galaxy.harness import galaxy_venv
from fairio_tools.galaxy.server import RunningGalaxy, running_galaxy
from fairio_tools.galaxy.welcome import write_welcome
from tests.conftest import ROOT


def test_config_installs_from_the_tool_shed_and_resolves_requirements(tmp_path):
    layout = GalaxyLayout(tmp_path / "state")
    tools_bin = Path(sys.executable).parent
    shed = "http://127.0.0.1:9009/"
    identity = GalaxySecrets(id_secret="s" * 32, admin_key="k" * 32)
    write_config(layout, tools_bin=tools_bin, port=8123, identity=identity, tool_shed_url=shed)

    galaxy = yaml.safe_load(layout.config_file.read_text())["galaxy"]
    # no tool comes from tools/: the panel is what Galaxy installs from the Tool Shed
    assert galaxy["tool_config_file"] == [str(layout.shed_tool_conf)]
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
    # metadata and uploads go to the Celery worker the harness starts beside Galaxy
    assert galaxy["enable_celery_tasks"] is True
    assert galaxy["metadata_strategy"] == "directory_celery"
    assert str(layout.state) in galaxy["amqp_internal_connection"]
    assert str(layout.state) in galaxy["celery_conf"]["result_backend"]
    # each start gets its own queue: a leftover worker of an earlier start cannot serve it
    write_config(layout, tools_bin=tools_bin, port=8123, identity=identity, tool_shed_url=shed)
    again = yaml.safe_load(layout.config_file.read_text())["galaxy"]
    assert again["amqp_internal_connection"] != galaxy["amqp_internal_connection"]


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


def test_a_dead_celery_worker_fails_the_run_with_its_log(tmp_path):
    log = tmp_path / "celery.log"
    log.write_text("kombu.exceptions.OperationalError: no such table: kombu_queue\n")
    worker = subprocess.Popen(["sh", "-c", "exit 4"])
    worker.wait()
    galaxy = RunningGalaxy("http://127.0.0.1:1", "a", "u", 1.0, worker, log)
    with pytest.raises(FairioError, match="exited with code 4") as raised:
        galaxy.check_celery()
    assert "no such table" in str(raised.value)


ENCODE_ID = """
import sys, yaml
from galaxy.security.idencoding import IdEncodingHelper
config = yaml.safe_load(open(sys.argv[1]))["galaxy"]
print(IdEncodingHelper(id_secret=config["id_secret"]).encode_id(int(sys.argv[2])))
"""


def _galaxy_encoded_id(config_file: Path, dataset_id: int) -> str:
    """The id Galaxy itself (its IdEncodingHelper, in Galaxy's venv) shows for a row id."""
    python = galaxy_venv(ROOT) / "bin" / "python"
    command = [str(python), "-c", ENCODE_ID, str(config_file), str(dataset_id)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def test_restarts_keep_the_id_secret_and_admin_key_so_old_ids_resolve(tmp_path):
    layout = GalaxyLayout(tmp_path / "state")
    options = {"tools_bin": Path(sys.executable).parent, "port": 8123, "tool_shed_url": "x"}
    first = persistent_secrets(layout)
    write_config(layout, identity=first, **options)
    before = _galaxy_encoded_id(layout.config_file, 7)
    assert layout.secrets_file.stat().st_mode & 0o077 == 0  # kept from other users

    second = persistent_secrets(layout)  # the next start, on the same state
    write_config(layout, identity=second, **options)
    assert second == first
    config = yaml.safe_load(layout.config_file.read_text())["galaxy"]
    assert config["bootstrap_admin_api_key"] == first.admin_key
    # the dataset id a bundle recorded before the restart still names the same dataset
    assert _galaxy_encoded_id(layout.config_file, 7) == before

    other = GalaxyLayout(tmp_path / "other")  # another instance has another identity
    write_config(other, identity=persistent_secrets(other), **options)
    assert _galaxy_encoded_id(other.config_file, 7) != before


class _FakeWorkflowApi:
    """Galaxy's /api/workflows as far as the import uses it: stored workflows by name."""

    def __init__(self):
        self.stored: dict[str, dict] = {}  # id -> latest content
        self.calls: list[str] = []

    def get(self, url, **_):
        listing = [{"id": i, "name": c["name"]} for i, c in self.stored.items()]
        return _Response(listing)

    def post(self, url, json, **_):
        self.calls.append("import")
        self.stored[f"w{len(self.stored)}"] = json["workflow"]
        return _Response({})

    def put(self, url, json, **_):
        self.calls.append("update")
        self.stored[url.rsplit("/", 1)[1]] = json["workflow"]
        return _Response({})


class _Response:
    ok = True

    def __init__(self, body):
        self.body = body

    def raise_for_status(self):
        pass

    def json(self):
        return self.body


def test_workflows_are_imported_once_and_updated_when_their_ga_changes(tmp_path, monkeypatch):
    api = _FakeWorkflowApi()
    monkeypatch.setattr(harness, "requests", api)
    galaxy = RunningGalaxy("http://galaxy", "a", "u", 1.0, None, tmp_path / "log")
    ga = tmp_path / "w.ga"
    ga.write_text(json.dumps({"name": "Convert", "steps": {}, "release": "0.1"}))
    record = tmp_path / "workflows.json"

    assert harness._import_workflows(galaxy, [ga], record) == 1
    assert harness._import_workflows(galaxy, [ga], record) == 0  # the next start: unchanged
    ga.write_text(json.dumps({"name": "Convert", "steps": {}, "release": "0.2"}))
    assert harness._import_workflows(galaxy, [ga], record) == 1
    assert api.calls == ["import", "update"]
    assert [c["release"] for c in api.stored.values()] == ["0.2"]  # one workflow, new version


def test_make_run_puts_galaxys_own_tools_beside_ours_and_a_welcome_page(tmp_path):
    layout = GalaxyLayout(tmp_path / "state")
    galaxy_tools = harness._galaxy_tools(galaxy_venv(ROOT) / "bin")
    identity = GalaxySecrets(id_secret="s" * 32, admin_key="k" * 32)
    options = {"tools_bin": Path(sys.executable).parent, "port": 1, "tool_shed_url": "x"}
    write_config(layout, identity=identity, galaxy_tools=galaxy_tools, **options)
    galaxy = yaml.safe_load(layout.config_file.read_text())["galaxy"]
    assert galaxy["tool_config_file"] == [
        str(layout.standard_tool_conf),
        str(layout.shed_tool_conf),
    ]
    files = [Path(t.get("file")) for t in ElementTree.parse(layout.standard_tool_conf).iter("tool")]
    ids = {ElementTree.parse(f).getroot().get("id") for f in files}  # each a Galaxy tool file
    assert {"upload1", "__BUILD_LIST__", "__APPLY_RULES__", "cat1", "Cut1"} <= ids
    assert galaxy["static_welcome_html"] == str(layout.welcome_file)

    write_welcome(
        layout.welcome_file,
        ROOT,
        {"Batch conversion to OME-Zarr with a validation summary": "f2db41e1fa331b3e"},
        None,
    )
    page = layout.welcome_file.read_text()
    for path in find_workflows(ROOT / "workflows"):
        assert json.loads(path.read_text())["name"] in page
    assert 'href="/workflows/run?id=f2db41e1fa331b3e"' in page
    assert "workflows/imaging/fair-image-object/test-data/rembi-complete.yaml" in page


def test_targets_name_installed_tools_by_wrapper_folder_or_tools_folder():
    """``fairio galaxy test`` takes what the README says: a wrapper file, a tool's folder or
    ``tools/``; each is mapped to the Tool Shed ids of the wrappers it holds."""
    wrappers = find_tools(ROOT / "tools")
    short_ids = {w: ElementTree.parse(w).getroot().get("id") for w in wrappers}
    installed = [{"id": f"shed/repos/fairio/{i}/{i}/1.0"} for i in short_ids.values()]
    convert = ROOT / "tools" / "convert_to_ome_zarr" / "convert_to_ome_zarr.xml"
    expected = [f"shed/repos/fairio/{short_ids[convert]}/{short_ids[convert]}/1.0"]
    assert harness._tool_shed_ids([convert], installed) == expected
    assert harness._tool_shed_ids([convert.parent], installed) == expected
    assert len(harness._tool_shed_ids([ROOT / "tools"], installed)) == len(wrappers)
    with pytest.raises(FairioError, match="is an installed tool"):
        harness._tool_shed_ids([convert], installed[:0])
