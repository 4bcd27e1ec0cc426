"""The link-health state file: what every URL looked like, carried from run to run.

One JSON object per line, sorted by URL, committed to the repository. A line changes only when
something about its URL changed (status, content, validators, failure count), so ``git diff``
of the state file is itself a readable log of the catalogue's link health.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from fairio_tools.atomic import atomic_path
from fairio_tools.errors import InputError, OutputError
from fairio_tools.links.check import Known
from fairio_tools.links.status import LinkResult, LinkStatus

DEPRECATE_AFTER = 3
"""Consecutive failing runs after which a URL's materials are marked deprecated."""


@dataclass(frozen=True)
class UrlState:
    """What is known about one URL after the latest run that checked it."""

    url: str
    status: str
    since: str
    """Date (YYYY-MM-DD) of the first run that found the current status."""
    http_status: int | None = None
    detail: str | None = None
    moved_to: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fingerprint: str | None = None
    content_changed: str | None = None
    """Date the main text was last seen to change."""
    failures: int = 0
    """Consecutive failing runs."""
    deprecated: str | None = None
    """Date the URL was deprecated (``failures`` reached the threshold); cleared on recovery."""

    @property
    def known(self) -> Known:
        return Known(self.etag, self.last_modified, self.fingerprint, self.status)

    def to_line(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v not in (None, 0) or k == "url"}
        return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


@dataclass(frozen=True)
class RunOutcome:
    """A checking run's effect: the new state and what a curator should hear about."""

    state: dict[str, UrlState]
    changed: list[str]
    """URLs whose main text changed since the last run."""
    newly_failing: list[str]
    recovered: list[str]
    newly_deprecated: list[str]


def read_state(path: Path) -> dict[str, UrlState]:
    """Read a state file; a missing file is an empty state (the first run)."""
    if not path.exists():
        return {}
    state: dict[str, UrlState] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError("not a UTF-8 text file", path=path) from error
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _record(json.loads(line))
        except (json.JSONDecodeError, TypeError, ValueError) as error:
            raise InputError(
                f"line {number} is not a link-state record ({error})",
                path=path,
                hint="each line must be one JSON object with url, status and since",
            ) from error
        state[record.url] = record
    return state


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TEXT = ("detail", "moved_to", "etag", "last_modified", "fingerprint")
_DATES = ("since", "content_changed", "deprecated")


def _record(data: object) -> UrlState:
    """One state line's record, its values checked: they end up in reports and portal pages."""
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    record = UrlState(**{f.name: data[f.name] for f in fields(UrlState) if f.name in data})
    if not isinstance(record.url, str) or record.status not in set(LinkStatus):
        raise ValueError("no url, or an unknown status")
    for name in _TEXT + _DATES:
        value = getattr(record, name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} is not a string")
        if name in _DATES and value is not None and not _DATE.fullmatch(value):
            raise ValueError(f"{name} is not a YYYY-MM-DD date")
    for name in ("http_status", "failures"):
        value = getattr(record, name)
        if value is not None and (type(value) is not int or value < 0):
            raise TypeError(f"{name} is not a count")
    return record


def write_state(state: Mapping[str, UrlState], path: Path) -> None:
    """Write the state sorted by URL, atomically (temporary sibling, then rename)."""
    text = "".join(state[url].to_line() + "\n" for url in sorted(state))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(path) as temporary:
            temporary.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OutputError(f"cannot write the link state: {error.strerror}", path=path) from error


def apply_results(
    previous: Mapping[str, UrlState],
    results: Iterable[LinkResult],
    today: str,
    deprecate_after: int = DEPRECATE_AFTER,
    keep: Iterable[str] | None = None,
) -> RunOutcome:
    """Fold a run's results into the state.

    URLs not checked in this run keep their record when listed in ``keep`` (a partial run);
    others are dropped (they left the catalogue).
    """
    state = {url: previous[url] for url in keep or () if url in previous}
    changed, failing, recovered, deprecated = [], [], [], []
    for result in results:
        old = previous.get(result.url)
        new = _next_state(old, result, today, deprecate_after)
        state[result.url] = new
        if old is None or not result.status.is_conclusive:
            continue  # nothing to compare, or nothing learned (rate-limited, not checked)
        if _text_changed(old, result):
            changed.append(result.url)
        if new.failures == 1:
            failing.append(result.url)
        if old.failures and not new.failures:
            recovered.append(result.url)
        if new.deprecated and not old.deprecated:
            deprecated.append(result.url)
    return RunOutcome(state, changed, failing, recovered, deprecated)


def _next_state(
    old: UrlState | None, result: LinkResult, today: str, deprecate_after: int
) -> UrlState:
    if not result.status.is_conclusive and old is not None:
        return old  # rate-limited or not checked: nothing learned
    status = str(result.status)
    since = old.since if old is not None and old.status == status else today
    if result.status.is_failure:
        failures = (old.failures if old else 0) + 1
        was = old.deprecated if old else None
        return UrlState(
            url=result.url,
            status=status,
            since=since,
            http_status=result.http_status,
            detail=result.detail or None,
            moved_to=old.moved_to if old else None,
            etag=old.etag if old else None,
            last_modified=old.last_modified if old else None,
            fingerprint=old.fingerprint if old else None,
            content_changed=old.content_changed if old else None,
            failures=failures,
            deprecated=was or (today if failures >= deprecate_after else None),
        )
    content_changed = old.content_changed if old else None
    if old is not None and _text_changed(old, result):
        content_changed = today
    return UrlState(  # no HTTP code or detail for a working link: 200 vs 304 is not news
        url=result.url,
        status=status,
        since=since,
        moved_to=result.moved_to,
        etag=result.etag,
        last_modified=result.last_modified,
        fingerprint=result.fingerprint or (old.fingerprint if old else None),
        content_changed=content_changed,
    )


def _text_changed(old: UrlState, result: LinkResult) -> bool:
    """Both runs fingerprinted the page, and the fingerprints differ."""
    if result.status.is_failure or not result.status.is_conclusive:
        return False
    return bool(old.fingerprint and result.fingerprint and old.fingerprint != result.fingerprint)
