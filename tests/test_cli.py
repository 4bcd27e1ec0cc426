"""The CLI contract: --version, --help everywhere, exit codes and one-line errors."""

from __future__ import annotations

import click
import pytest

from fairio_tools import __version__
from fairio_tools.cli.app import main
from tests.conftest import run_fairio


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def test_version():
    result = run_fairio("--version", check=True)
    assert result.stdout.strip() == f"fairio, version {__version__}"


@pytest.mark.parametrize("command", list(_all_commands(main)), ids=" ".join)
def test_every_command_has_help(command):
    result = run_fairio(*command, "--help", check=True)
    assert "Usage: fairio " + " ".join(command) in result.stdout


def test_usage_error_exits_2():
    result = run_fairio("image-info")
    assert result.returncode == 2
    assert "Missing argument 'IMAGE'" in result.stderr


def test_unknown_command_exits_2():
    assert run_fairio("no-such-command").returncode == 2
