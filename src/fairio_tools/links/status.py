"""What a link check found: the classes a curator acts on, and one result per URL."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class LinkStatus(StrEnum):
    """The outcome of checking one URL."""

    OK = "ok"
    REDIRECTED = "redirected"
    """Reached through a permanent redirect (301/308): the catalogue should use the new URL."""
    BROKEN = "broken"
    """A 4xx answer other than 410 and 429."""
    GONE = "gone"
    """410: the server says the material was removed on purpose."""
    SERVER_ERROR = "server-error"
    TIMEOUT = "timeout"
    TLS_ERROR = "tls-error"
    SOFT_404 = "soft-404"
    """A 200 answer whose page says the material is not there."""
    RATE_LIMITED = "rate-limited"
    """Still 429 after honouring Retry-After: says nothing about the link, try next run."""
    UNREACHABLE = "unreachable"
    """No HTTP answer: the name does not resolve, the connection is refused or reset."""
    BLOCKED = "blocked"
    """Refused by the SSRF guard: the host is, or resolves to, a non-public address."""
    INVALID = "invalid-url"
    """Not an http(s) URL, or malformed."""
    NOT_CHECKED = "not-checked"
    """The run's deadline was reached before this URL's check finished: nothing learned."""

    @property
    def is_failure(self) -> bool:
        """True when the link does not lead to the material (counts towards deprecation)."""
        return self not in (LinkStatus.OK, LinkStatus.REDIRECTED, *INCONCLUSIVE)

    @property
    def is_conclusive(self) -> bool:
        """False when the run learned nothing about the link (the last record stands)."""
        return self not in INCONCLUSIVE


INCONCLUSIVE = (LinkStatus.RATE_LIMITED, LinkStatus.NOT_CHECKED)
"""Outcomes that say nothing about the link: try again next run."""


@dataclass(frozen=True)
class LinkResult:
    """One URL's check: where it led, how it was classified and what identifies its content."""

    url: str
    status: LinkStatus
    http_status: int | None = None
    final_url: str | None = None
    """Where the redirects ended, when there were any."""
    moved_to: str | None = None
    """The final URL when the chain contained a permanent redirect."""
    etag: str | None = None
    last_modified: str | None = None
    fingerprint: str | None = None
    """Hash of the page's normalised main text (HTML), or of its validators otherwise."""
    not_modified: bool = False
    """The server confirmed the content is unchanged (304, or identical validators)."""
    detail: str = ""
    requests: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = str(self.status)
        return data
