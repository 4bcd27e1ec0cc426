"""Start and stop one Galaxy server (gunicorn from Galaxy's own environment)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from fairio_tools.errors import FairioError
from fairio_tools.galaxy.config import ADMIN_EMAIL, ADMIN_PASSWORD, GalaxyLayout

START_TIMEOUT_S = 600


@dataclass
class RunningGalaxy:
    url: str
    admin_key: str
    user_key: str
    startup_s: float
    celery: subprocess.Popen
    celery_log: Path

    def check_celery(self) -> None:
        """Fail with the worker's last log lines if Galaxy's Celery worker has exited."""
        if self.celery.poll() is not None:
            raise FairioError(
                f"Galaxy's Celery worker exited with code {self.celery.returncode}; last lines "
                f"of {self.celery_log}:\n{log_tail(self.celery_log)}"
            )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_galaxy(
    layout: GalaxyLayout, galaxy_bin: Path, port: int, admin_key: str, log=print
) -> Iterator[RunningGalaxy]:
    """Run Galaxy until the block ends; it is always stopped, also on errors and Ctrl-C."""
    venv = galaxy_bin.parent
    env = {
        **os.environ,
        "GALAXY_CONFIG_FILE": str(layout.config_file),
        # Jobs set metadata with Galaxy's own Python: the job script activates this venv.
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{galaxy_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(galaxy_bin / "gunicorn"),
        "galaxy.webapps.galaxy.fast_factory:factory()",
        "-k", "galaxy.webapps.galaxy.workers.Worker",
        "--config", "python:galaxy.web_stack.gunicorn_config",
        "--bind", f"127.0.0.1:{port}",
        "--workers", "1",
        "--timeout", "600",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    log(f"Starting Galaxy (PyPI package, {galaxy_bin.parent}) on {url}; log: {layout.log_file}")
    with running_server("Galaxy", command, env, layout.state, layout.log_file, url) as startup_s:
        log(f"Galaxy is up after {startup_s:.1f} s; Celery worker log: {layout.celery_log_file}")
        # started once Galaxy has created its database, which the worker expects to exist
        celery_log = layout.celery_log_file
        with running_process(_celery_command(galaxy_bin), env, layout.state, celery_log) as celery:
            user_key = _bootstrap_user(url, admin_key)
            yield RunningGalaxy(url, admin_key, user_key, startup_s, celery, celery_log)
    log("Galaxy stopped")


def _celery_command(galaxy_bin: Path) -> list[str]:
    """Galaxy's Celery worker as gravity starts it: metadata, uploads and other tasks."""
    return [
        str(galaxy_bin / "celery"), "--app", "galaxy.celery", "worker",
        "--concurrency", "2", "--pool", "threads", "--loglevel", "INFO",
        "--queues", "celery,galaxy.internal,galaxy.external",
    ]  # fmt: skip


@contextmanager
def running_process(
    command: list[str], env: dict[str, str], cwd: Path, log_file: Path
) -> Iterator[subprocess.Popen]:
    """Run one process (in its own session) until the block ends; it is always stopped (its
    whole process group), also on errors and Ctrl-C."""
    with log_file.open("ab") as log_handle:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # Ctrl-C and SIGTERM must reach the `finally` below even where the parent shell started
    # us with SIGINT ignored (background jobs of non-interactive shells, CI runners).
    previous = {
        signum: signal.signal(signum, _raise_keyboard_interrupt)
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield process
    finally:
        _stop(process)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def running_server(
    name: str, command: list[str], env: dict[str, str], cwd: Path, log_file: Path, url: str
) -> Iterator[float]:
    """Run one server process until the block ends; yield how long it took to answer.

    The server answers ``{url}/api/version`` when it is up. It is always stopped (its whole
    process group), also on errors and Ctrl-C.
    """
    started = time.monotonic()
    with running_process(command, env, cwd, log_file) as process:
        _wait_until_up(name, url, process, log_file)
        yield time.monotonic() - started


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_until_up(name: str, url: str, process: subprocess.Popen, log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FairioError(
                f"{name} exited with code {process.returncode} while starting; "
                f"last lines of {log_file}:\n{log_tail(log_file)}"
            )
        try:
            if requests.get(f"{url}/api/version", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(2)
    raise FairioError(
        f"{name} did not answer {url}/api/version within {START_TIMEOUT_S} s; "
        f"last lines of {log_file}:\n{log_tail(log_file)}"
    )


def log_tail(log_file: Path, lines: int = 40) -> str:
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _bootstrap_user(url: str, admin_key: str) -> str:
    """Create the admin user (idempotent) and return a fresh API key for it."""
    headers = {"x-api-key": admin_key}
    found = requests.get(
        f"{url}/api/users", params={"f_email": ADMIN_EMAIL}, headers=headers, timeout=30
    )
    found.raise_for_status()
    users = [u for u in found.json() if u.get("email") == ADMIN_EMAIL]
    if users:
        user_id = users[0]["id"]
    else:
        created = requests.post(
            f"{url}/api/users",
            json={"username": "admin", "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            headers=headers,
            timeout=30,
        )
        created.raise_for_status()
        user_id = created.json()["id"]
    key = requests.post(f"{url}/api/users/{user_id}/api_key", headers=headers, timeout=30)
    key.raise_for_status()
    return key.json()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
