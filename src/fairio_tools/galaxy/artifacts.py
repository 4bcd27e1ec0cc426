"""Our Galaxy artifacts: tool wrappers, workflows and the Tool Shed repositories that hold them.

The harness, the linters and the portal all find them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

#: The Tool Shed our workflows name in their tool ids, as IWC requires.
MAIN_TOOL_SHED = "toolshed.g2.bx.psu.edu"


@dataclass(frozen=True)
class ShedRepository:
    """One Tool Shed repository described by a ``.shed.yml``."""

    folder: Path
    name: str
    owner: str
    #: a ``repository_suite_definition``: holds no tool, depends on every tool repository
    suite: bool
    categories: tuple[str, ...]


def find_tools(tools_dir: Path) -> list[Path]:
    """Every tool wrapper ``tools/<tool>/*.xml`` whose root element is ``<tool>``."""
    found = []
    for xml in sorted(tools_dir.glob("*/*.xml")):
        with xml.open(encoding="utf-8") as handle:
            head = handle.read(2048)
        if "<tool " in head or "<tool>" in head:
            found.append(xml)
    return found


def find_workflows(workflows_dir: Path) -> list[Path]:
    """Every Galaxy workflow (``.ga``) below ``workflows_dir``."""
    return sorted(workflows_dir.glob("**/*.ga"))


def shed_repositories(tools_dir: Path) -> list[ShedRepository]:
    """The tool folders' repositories (sorted by name), then the suite of ``tools/.shed.yml``."""
    repositories = [read_shed_yml(path) for path in sorted(tools_dir.glob("*/.shed.yml"))]
    repositories.sort(key=lambda repository: repository.name)
    suite = tools_dir / ".shed.yml"
    if suite.is_file():
        repositories.append(read_shed_yml(suite))
    return repositories


def read_shed_yml(path: Path) -> ShedRepository:
    """The repository a ``.shed.yml`` describes."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    suite = config.get("suite")
    name = suite["name"] if suite else config["name"]
    return ShedRepository(
        folder=path.parent,
        name=name,
        owner=config["owner"],
        suite=bool(suite),
        categories=tuple(config.get("categories", ())),
    )


def suite_members(suite_folder: Path) -> list[tuple[str, str]]:
    """``(owner, name)`` of every repository the suite in ``suite_folder/.shed.yml`` includes."""
    config = yaml.safe_load((suite_folder / ".shed.yml").read_text(encoding="utf-8"))
    return [(entry["owner"], entry["name"]) for entry in config["suite"]["include_repositories"]]
