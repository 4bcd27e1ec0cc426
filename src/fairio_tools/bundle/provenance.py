"""Who made what: the provenance recorded in a bundle (tools, versions, Galaxy context)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

PROCESS_RUN_CRATE = "https://w3id.org/ro/wfrun/process/0.5"
"""The Workflow Run Crate family profile for runs of individual tools."""

FAIRIO_HOMEPAGE = "https://github.com/fairio-tools/fairio-tools"


@dataclass(frozen=True)
class ProducedBy:
    """``path`` was written by ``tool_id`` at ``tool_version`` (e.g. a Galaxy job's tool)."""

    path: Path
    tool_id: str
    tool_version: str


@dataclass(frozen=True)
class GalaxyContext:
    """What Galaxy exposes to a tool's command line about the job that runs it."""

    url: str | None = None
    tool_id: str | None = None
    tool_version: str | None = None
    history_id: str | None = None
    job_id: str | None = None
    invocation_id: str | None = None

    @property
    def present(self) -> bool:
        return any(vars(self).values())

    @property
    def history_url(self) -> str | None:
        if self.url and self.history_id:
            return f"{self.url.rstrip('/')}/histories/view?id={quote(self.history_id)}"
        return None

    @property
    def tool_url(self) -> str | None:
        if self.url and self.tool_id:
            return f"{self.url.rstrip('/')}/?tool_id={quote(self.tool_id, safe='')}"
        return None


def software_id(tool_id: str, version: str) -> str:
    """A stable local identifier for one version of one tool."""
    return "#software/" + quote(f"{tool_id}@{version}", safe="@")
