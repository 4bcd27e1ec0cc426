"""Build the portal with MkDocs, as ``mkdocs build --strict`` would, but atomically.

The site is built into a temporary sibling folder and moved into place only when MkDocs
finished without a warning, so a failed build never leaves a half-written site behind.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from fairio_tools.atomic import atomic_output
from fairio_tools.errors import FairioError, InputError


@dataclass(frozen=True)
class BuiltSite:
    """Where the site went, how many HTML pages it has and how long it took."""

    site_dir: Path
    pages: int
    bytes: int
    seconds: float


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def build_site(
    config_file: str | Path = "mkdocs.yml", site_dir: str | Path | None = None
) -> BuiltSite:
    """Build the site of ``config_file`` strictly into ``site_dir`` (default: its site_dir)."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # mkdocs-material's banner on stderr
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    config_file = Path(config_file)
    if not config_file.is_file():
        raise InputError("MkDocs configuration not found", path=config_file,
                         hint="run from the repository root or pass --config")  # fmt: skip
    started = time.perf_counter()
    collector = _Collect()
    mkdocs_log = logging.getLogger("mkdocs")
    previous_level = mkdocs_log.level
    mkdocs_log.setLevel(min(previous_level or logging.WARNING, logging.WARNING))
    mkdocs_log.addHandler(collector)
    mkdocs_log.propagate = False  # the CLI prints one line; MkDocs' own lines stay in
    try:
        config = load_config(config_file=str(config_file), strict=True)
        target = Path(site_dir).resolve() if site_dir else Path(config.site_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(target, overwrite=True, folder=True) as staging:
            config.site_dir = staging
            try:
                build(config)
            except (MkDocsException, SystemExit) as error:
                reason = collector.messages[0] if collector.messages else str(error)
                raise FairioError(f"site build failed: {reason}", path=config_file) from None
    finally:
        mkdocs_log.removeHandler(collector)
        mkdocs_log.setLevel(previous_level)
        mkdocs_log.propagate = True
    html_files = list(target.rglob("*.html"))
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    return BuiltSite(target, len(html_files), size, time.perf_counter() - started)
