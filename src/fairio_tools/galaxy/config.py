"""Galaxy configuration for one local server: SQLite, local job runner, our tools.

Tools declare ``<requirement type="package" version="X">fairio-tools</requirement>``;
the ``galaxy_packages`` resolver maps that to ``deps/fairio-tools/X/env.sh``, which puts
the project environment's ``bin`` first on ``PATH``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import yaml

from fairio_tools import __version__
from fairio_tools.atomic import atomic_path
from fairio_tools.safe_json import load_json

TOOL_SECTION = ("fairio_tools", "FAIR bioimage data (fairio-tools)")
ADMIN_EMAIL = "admin@fairio.local"
ADMIN_PASSWORD = "fairio-admin"  # a loopback Galaxy for one person (README)


@dataclass(frozen=True)
class GalaxyLayout:
    """Where one Galaxy instance keeps its configuration and state."""

    state: Path

    @property
    def config_file(self) -> Path:
        return self.state / "galaxy.yml"

    @property
    def shed_tool_conf(self) -> Path:
        return self.state / "shed_tool_conf.xml"

    @property
    def tool_sheds_conf(self) -> Path:
        return self.state / "tool_sheds_conf.xml"

    @property
    def resolvers_conf(self) -> Path:
        return self.state / "dependency_resolvers_conf.xml"

    @property
    def deps(self) -> Path:
        return self.state / "deps"

    @property
    def log_file(self) -> Path:
        return self.state / "galaxy.log"

    @property
    def celery_log_file(self) -> Path:
        return self.state / "celery.log"

    @property
    def secrets_file(self) -> Path:
        return self.state / "secrets.json"

    @property
    def standard_tool_conf(self) -> Path:
        return self.state / "standard_tool_conf.xml"

    @property
    def welcome_file(self) -> Path:
        return self.state / "welcome.html"


@dataclass(frozen=True)
class GalaxySecrets:
    """What makes one Galaxy's identity: ``id_secret`` encodes every id Galaxy shows (dataset,
    history and session ids), ``admin_key`` is its bootstrap admin API key."""

    id_secret: str
    admin_key: str


def persistent_secrets(layout: GalaxyLayout) -> GalaxySecrets:
    """The instance's secrets, kept with its database in ``secrets.json`` (mode 0600): made
    once, then reused by every start, so sessions, dataset ids and the history links that
    bundles record as provenance survive restarts."""
    path = layout.secrets_file
    if path.is_file():
        stored = load_json(path)
        return GalaxySecrets(id_secret=stored["id_secret"], admin_key=stored["admin_key"])
    layout.state.mkdir(parents=True, exist_ok=True)
    legacy = layout.state / "admin_key"  # where earlier versions kept the admin key alone
    made = GalaxySecrets(
        id_secret=secrets.token_hex(16),
        admin_key=legacy.read_text().strip() if legacy.is_file() else secrets.token_hex(16),
    )
    with atomic_path(path, overwrite=False) as temporary:
        temporary.write_text(json.dumps({"id_secret": made.id_secret, "admin_key": made.admin_key}))
        temporary.chmod(0o600)
    return made


STANDARD_TOOLS = {
    "Get Data": ["data_source/upload.xml"],
    "Collection Operations": [
        f"{name}.xml"
        for name in (
            "build_list", "duplicate_file_to_collection", "flatten_collection",
            "nest_collection", "merge_collection", "split_paired_and_unpaired",
            "filter_failed_collection", "filter_empty_collection", "keep_success_collection",
            "filter_from_file", "zip_collection", "unzip_collection", "sort_collection_list",
            "relabel_from_file", "tag_collection_from_file", "extract_dataset", "apply_rules",
        )
    ],
    "Text Manipulation": [
        f"filters/{name}.xml"
        for name in (
            "catWrapper", "cutWrapper", "pasteWrapper", "headWrapper", "tailWrapper", "sorter",
            "grep", "wc_gnu", "changeCase", "remove_beginning",
        )
    ],
}  # fmt: skip
"""Galaxy's own tools (files of its package, below ``galaxy/tools`` and its ``bundled``)
that ``make run`` puts beside ours: upload, collection operations, text tools."""


def write_config(
    layout: GalaxyLayout,
    *,
    tools_bin: Path,
    port: int,
    identity: GalaxySecrets,
    tool_shed_url: str,
    galaxy_tools: Path | None = None,
    visualizations: Path | None = None,
) -> None:
    """Write galaxy.yml, the Tool Shed list, the shed tool panel, the resolvers and env.sh.

    Galaxy loads no tool from ``tools/``: it knows the Tool Shed at ``tool_shed_url`` and
    installs our repositories from it into ``shed_tool_conf.xml`` (tools below
    ``shed_tools/``), as an admin's server does. With ``galaxy_tools`` (the ``galaxy/tools``
    folder of Galaxy's package) the panel also holds :data:`STANDARD_TOOLS`; ``visualizations``
    is the folder of visualization plugins (``visualizations.ensure_vizarr``).
    """
    for sub in ("objects", "jobs", "tmp", "data", "deps", "shed_tools"):
        (layout.state / sub).mkdir(parents=True, exist_ok=True)
    if not layout.shed_tool_conf.exists():  # Galaxy adds what it installs: keep that
        layout.shed_tool_conf.write_text(
            f"<?xml version='1.0' encoding='utf-8'?>\n"
            f"<toolbox tool_path={quoteattr(str(layout.state / 'shed_tools'))}>\n"
            "</toolbox>\n"
        )
    layout.tool_sheds_conf.write_text(
        "<?xml version='1.0' encoding='utf-8'?>\n<tool_sheds>\n"
        f'  <tool_shed name="fairio-tools harness" url={quoteattr(tool_shed_url)}/>\n'
        "</tool_sheds>\n"
    )
    layout.resolvers_conf.write_text(
        '<dependency_resolvers>\n  <galaxy_packages versionless="false" />\n'
        "</dependency_resolvers>\n"
    )
    env_dir = layout.deps / "fairio-tools" / __version__
    env_dir.mkdir(parents=True, exist_ok=True)
    (env_dir / "env.sh").write_text(f'export PATH="{tools_bin}:$PATH"\n')
    tool_configs = [str(layout.shed_tool_conf)]
    if galaxy_tools is not None:
        _write_standard_tools(layout.standard_tool_conf, galaxy_tools)
        tool_configs.insert(0, str(layout.standard_tool_conf))
    if not layout.welcome_file.exists():  # the harness writes the real one once Galaxy is up
        layout.welcome_file.write_text("<!doctype html><title>fairio-tools</title>\n")
    state = layout.state
    run = secrets.token_hex(4)
    galaxy = {
        "database_connection": f"sqlite:///{state / 'universe.sqlite'}?isolation_level=IMMEDIATE",
        "data_dir": str(state / "data"),
        "tool_data_path": str(state / "tool-data"),
        "file_path": str(state / "objects"),
        "new_file_path": str(state / "tmp"),
        "job_working_directory": str(state / "jobs"),
        "tool_config_file": tool_configs,
        "tool_dependency_dir": str(layout.deps),
        "dependency_resolvers_config_file": str(layout.resolvers_conf),
        "tool_sheds_config_file": str(layout.tool_sheds_conf),
        "conda_auto_init": False,
        "conda_auto_install": False,
        "bootstrap_admin_api_key": identity.admin_key,
        "admin_users": ADMIN_EMAIL,
        "allow_user_creation": True,
        "id_secret": identity.id_secret,
        "galaxy_infrastructure_url": f"http://127.0.0.1:{port}",
        # Metadata and uploads run as Celery tasks in one worker that imports Galaxy once
        # (as Galaxy's own gravity setup does), not in a fresh Python per job: importing
        # Galaxy's metadata code costs ~13 s of CPU, more than most of our tools' jobs.
        "enable_celery_tasks": True,
        "metadata_strategy": "directory_celery",
        # a queue of this start's own: a worker left over from an earlier start (killed from
        # outside, with another id_secret) can never take this one's tasks
        "amqp_internal_connection": (
            f"sqlalchemy+sqlite:///{state / f'control-{run}.sqlite'}?isolation_level=IMMEDIATE"
        ),
        "celery_conf": {
            "result_backend": f"db+sqlite:///{state / f'results-{run}.sqlite'}",
            "task_routes": {  # Galaxy's defaults, kept: the worker serves these queues
                "galaxy.fetch_data": "galaxy.external",
                "galaxy.set_job_metadata": "galaxy.external",
            },
        },
        "watch_tools": False,
        "cleanup_job": "onsuccess",
        "brand": "fairio-tools",
        "static_welcome_html": str(layout.welcome_file),
        "job_config": {
            "runners": {
                "local": {"load": "galaxy.jobs.runners.local:LocalJobRunner", "workers": 2}
            },
            "execution": {"default": "local", "environments": {"local": {"runner": "local"}}},
        },
    }
    if visualizations is not None:
        galaxy["visualization_plugins_directory"] = str(visualizations)
    layout.config_file.write_text(yaml.safe_dump({"galaxy": galaxy}, sort_keys=False))


def _write_standard_tools(target: Path, galaxy_tools: Path) -> None:
    sections = []
    for number, (name, files) in enumerate(STANDARD_TOOLS.items()):
        found = [
            path
            for file in files
            for path in (galaxy_tools / file, galaxy_tools / "bundled" / file)
            if path.is_file()
        ]
        tools = "".join(f"    <tool file={quoteattr(str(path))}/>\n" for path in found)
        sections.append(
            f'  <section id="standard_{number}" name={quoteattr(name)}>\n{tools}  </section>\n'
        )
    path = quoteattr(str(galaxy_tools))
    head = f"<?xml version='1.0' encoding='utf-8'?>\n<toolbox tool_path={path}>\n"
    target.write_text(head + "".join(sections) + "</toolbox>\n")
