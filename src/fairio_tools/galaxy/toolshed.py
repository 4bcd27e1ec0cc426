"""A real Galaxy Tool Shed (the ``galaxy-tool-shed`` package): publish our repositories to it
with planemo, and install them into a Galaxy through its admin API.

This is the path an admin's server takes (Tool Shed → Galaxy), run on loopback: the tests
then address every tool by the Tool Shed id Galaxy gave it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from fairio_tools.errors import FairioError
from fairio_tools.galaxy.artifacts import ShedRepository, shed_repositories
from fairio_tools.galaxy.server import RunningGalaxy, running_server

OWNER_PASSWORD = "fairio-shed"
#: planemo uploads at most this many repositories at once (the Tool Shed runs ``hg add``
#: once per file, so publishing is CPU-bound)
PUBLISH_PARALLEL = 2


@dataclass(frozen=True)
class ToolShedLayout:
    """Where one Tool Shed keeps its configuration, database and Mercurial repositories."""

    state: Path

    @property
    def config_file(self) -> Path:
        return self.state / "tool_shed.yml"

    @property
    def log_file(self) -> Path:
        return self.state / "tool_shed.log"


@dataclass(frozen=True)
class RunningToolShed:
    url: str  # ends with "/", as Galaxy's tool_sheds_conf.xml names it
    admin_key: str
    owner_key: str  # the API key of the user who owns our repositories
    startup_s: float

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``: how Galaxy's Tool Shed ids (guids) name this Tool Shed."""
        return self.url.split("://", 1)[1].rstrip("/")


def write_tool_shed_config(layout: ToolShedLayout, port: int, admin_key: str, id_secret: str):
    """SQLite, Mercurial repositories and a search index below ``layout.state``."""
    state = layout.state
    for sub in ("repos", "hgweb", "tmp", "whoosh"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    config = {
        "database_connection": f"sqlite:///{state / 'community.sqlite'}?isolation_level=IMMEDIATE",
        "file_path": str(state / "repos"),
        "hgweb_config_dir": str(state / "hgweb"),
        "new_file_path": str(state / "tmp"),
        "whoosh_index_dir": str(state / "whoosh"),
        "tool_shed_url": f"http://127.0.0.1:{port}",
        "bootstrap_admin_api_key": admin_key,
        "admin_users": "admin@fairio.local",
        "id_secret": id_secret,
        "log_level": "INFO",
    }
    layout.config_file.write_text(yaml.safe_dump({"tool_shed": config}, sort_keys=False))


@contextmanager
def running_tool_shed(
    layout: ToolShedLayout, galaxy_bin: Path, port: int, admin_key: str, owner: str, log=print
) -> Iterator[RunningToolShed]:
    """Run the Tool Shed until the block ends, with ``owner`` as a user holding an API key."""
    env = {
        **os.environ,
        "TOOL_SHED_CONFIG_FILE": str(layout.config_file),
        "PATH": f"{galaxy_bin}{os.pathsep}{os.environ.get('PATH', '')}",  # its `hg`
    }
    command = [
        str(galaxy_bin / "gunicorn"),
        "tool_shed.webapp.fast_factory:factory()",
        "-k", "uvicorn.workers.UvicornWorker",
        "--bind", f"127.0.0.1:{port}",
        # two workers: uploads run at once; an upload of a store-laden test-data folder
        # takes a minute (one `hg add` per file), longer than gunicorn's default timeout
        "--workers", "2",
        "--timeout", "600",
    ]  # fmt: skip
    database = yaml.safe_load(layout.config_file.read_text())["tool_shed"]["database_connection"]
    # created before the workers start: two workers that both find no database race to
    # create it, and the loser exits ("database has no version table")
    created = subprocess.run(
        [str(galaxy_bin / "python"), "-c",
         "import sys; from tool_shed.webapp.model.migrations import verify_database; "
         "verify_database(sys.argv[1])", database],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    if created.returncode:
        raise FairioError(f"could not create the Tool Shed database:\n{created.stdout[-2000:]}")
    url = f"http://127.0.0.1:{port}/"
    log(f"Starting the Tool Shed (PyPI package galaxy-tool-shed) on {url}; log: {layout.log_file}")
    with running_server(
        "Tool Shed", command, env, layout.state, layout.log_file, url.rstrip("/")
    ) as startup_s:
        log(f"Tool Shed is up after {startup_s:.1f} s")
        owner_key = _bootstrap_owner(url, admin_key, owner)
        yield RunningToolShed(url, admin_key, owner_key, startup_s)


def _bootstrap_owner(url: str, admin_key: str, owner: str) -> str:
    """Create the repositories' owner (once) and return an API key for it."""
    email = f"{owner}@fairio.local"
    found = requests.get(f"{url}api/users", headers={"x-api-key": admin_key}, timeout=30)
    found.raise_for_status()
    if not any(user.get("username") == owner for user in found.json()):
        created = requests.post(
            f"{url}api/users",
            json={"email": email, "password": OWNER_PASSWORD, "username": owner},
            headers={"x-api-key": admin_key},
            timeout=30,
        )
        created.raise_for_status()
    key = requests.get(f"{url}api/authenticate/baseauth", auth=(email, OWNER_PASSWORD), timeout=30)
    key.raise_for_status()
    return key.json()["api_key"]


def ensure_categories(shed: RunningToolShed, names: set[str]) -> None:
    """Create the categories our ``.shed.yml`` files name (only admins may)."""
    existing = requests.get(f"{shed.url}api/categories", timeout=30)
    existing.raise_for_status()
    for name in sorted(names - {c["name"] for c in existing.json()}):
        created = requests.post(
            f"{shed.url}api/categories",
            json={"name": name, "description": name},
            headers={"x-api-key": shed.admin_key},
            timeout=30,
        )
        created.raise_for_status()


def publish(
    tools_dir: Path, shed: RunningToolShed, galaxy_bin: Path, log_file: Path, log=print
) -> list[ShedRepository]:
    """``planemo shed_update`` every repository (tools first, then the suite that names them).

    Raises :class:`FairioError` unless every repository ends with an installable revision.
    """
    repositories = shed_repositories(tools_dir)
    ensure_categories(shed, {c for repository in repositories for c in repository.categories})
    # the largest first: the Tool Shed runs one `hg add` per file, so a repository's upload
    # takes about as long as it has files, and a big one started last would run alone
    tools = sorted(
        (repository for repository in repositories if not repository.suite),
        key=lambda repository: -sum(1 for p in repository.folder.rglob("*") if p.is_file()),
    )
    suites = [repository for repository in repositories if repository.suite]
    started = time.monotonic()
    log(f"planemo shed_update: {len(tools)} tool repositories, then {len(suites)} suite(s)")
    with ThreadPoolExecutor(PUBLISH_PARALLEL) as pool:
        outputs = list(pool.map(lambda r: _shed_update(r, shed, galaxy_bin), tools))
    outputs += [_shed_update(repository, shed, galaxy_bin) for repository in suites]
    log_file.write_text("\n".join(outputs))
    missing = [r.name for r in repositories if not installable_revisions(shed, r)]
    if missing:
        raise FairioError(f"not published to the Tool Shed: {', '.join(missing)}; see {log_file}")
    log(f"published {len(repositories)} repositories in {time.monotonic() - started:.0f} s")
    return repositories


def _shed_update(repository: ShedRepository, shed: RunningToolShed, galaxy_bin: Path) -> str:
    command = [
        str(galaxy_bin / "planemo"), "shed_update", "--force_repository_creation",
        "--shed_target", shed.url, "--shed_key", shed.owner_key, str(repository.folder),
    ]  # fmt: skip
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return f"$ planemo shed_update {repository.folder} (exit {result.returncode})\n{result.stdout}"


def installable_revisions(shed: RunningToolShed, repository: ShedRepository) -> list[str]:
    response = requests.get(
        f"{shed.url}api/repositories/get_ordered_installable_revisions",
        params={"name": repository.name, "owner": repository.owner},
        timeout=30,
    )
    return response.json() if response.ok else []


def install(
    galaxy: RunningGalaxy, shed: RunningToolShed, suite: ShedRepository, section: str, log=print
) -> list[dict]:
    """Install ``suite`` and the repositories it depends on into ``galaxy``'s panel ``section``.

    Returns the installed tools as Galaxy lists them (``id`` is the Tool Shed id).
    """
    started = time.monotonic()
    revision = installable_revisions(shed, suite)[-1]
    response = requests.post(
        f"{galaxy.url}/api/tool_shed_repositories/new/install_repository_revision",
        json={
            "tool_shed_url": shed.url,
            "name": suite.name,
            "owner": suite.owner,
            "changeset_revision": revision,
            "new_tool_panel_section_label": section,
            "install_repository_dependencies": True,
            "install_tool_dependencies": False,
            "install_resolver_dependencies": False,
        },
        headers={"x-api-key": galaxy.admin_key},
        timeout=1800,
    )
    if not response.ok:
        raise FairioError(
            f"Galaxy did not install {suite.name} from {shed.url}: "
            f"{response.status_code} {response.text[:500]}"
        )
    tools = installed_tools(galaxy, shed)
    log(f"installed {suite.name} ({len(tools)} tools) in {time.monotonic() - started:.0f} s")
    return tools


def installed_tools(galaxy: RunningGalaxy, shed: RunningToolShed) -> list[dict]:
    """Tools Galaxy installed from ``shed`` (their ids start with its host)."""
    response = requests.get(
        f"{galaxy.url}/api/tools",
        params={"in_panel": "false"},
        headers={"x-api-key": galaxy.admin_key},
        timeout=60,
    )
    response.raise_for_status()
    return [tool for tool in response.json() if tool["id"].startswith(f"{shed.host}/repos/")]
