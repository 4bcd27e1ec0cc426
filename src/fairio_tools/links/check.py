"""Check many URLs concurrently, politely and safely.

At most ``per_host`` requests run against one host at a time (and ``total`` overall). A 429 or
503 answer pauses the whole host for its ``Retry-After`` (or an exponential backoff) before the
request is retried. Each URL gets a HEAD request first, with the validators of the last run
(``If-None-Match``/``If-Modified-Since``); a GET follows only when HEAD is refused or fails, or
when an HTML page must be read to detect a soft 404 and fingerprint its main text. Redirects are
followed hop by hop, so the SSRF guard sees every hop.

Time is bounded three ways: each request (``timeout``), each URL across its retries, their
waits and its redirect hops (``url_deadline``; a longer ``Retry-After`` than
``max_retry_after`` is not waited for), and the whole run (``run_deadline``: URLs not finished
by then are reported :attr:`~LinkStatus.NOT_CHECKED`, not broken nor healthy).
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp

from fairio_tools import __version__
from fairio_tools.links.content import read_page, text_fingerprint
from fairio_tools.links.guard import (
    AddressPolicy,
    BlockedAddress,
    GuardedResolver,
    guarded_socket_factory,
)
from fairio_tools.links.limits import MAX_RETRY_AFTER, RUN_DEADLINE, URL_DEADLINE
from fairio_tools.links.status import LinkResult, LinkStatus

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRIED = frozenset({429, 503})
USER_AGENT = f"fairio-tools-linkcheck/{__version__} (catalogue link health; polite, low rate)"


@dataclass(frozen=True)
class Known:
    """What the last run recorded for a URL: enough for conditional requests."""

    etag: str | None = None
    last_modified: str | None = None
    fingerprint: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class CheckSettings:
    """How hard and how long to try."""

    per_host: int = 4
    total: int = 256
    timeout: float = 20.0
    """Seconds for one request, from connecting to the last byte read."""
    retries: int = 3
    """How often a 429/503 answer is retried."""
    backoff: float = 2.0
    """First wait (doubling) after a 429/503 without ``Retry-After``."""
    max_retry_after: float = MAX_RETRY_AFTER
    """A longer ``Retry-After`` is not waited for: the link is reported rate-limited."""
    url_deadline: float = URL_DEADLINE
    """Seconds for one URL across requests, retries, their waits and redirect hops."""
    run_deadline: float | None = RUN_DEADLINE
    """Seconds for the whole run (None: unbounded)."""
    max_redirects: int = 10
    max_body: int = 2_000_000
    """Bytes of an HTML page read for soft-404 detection and the fingerprint."""
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    user_agent: str = USER_AGENT


@dataclass
class _Answer:
    status: int
    headers: Mapping[str, str]
    text: str | None = None
    not_waited: float | None = None
    """The ``Retry-After`` of a 429/503 that was too long to wait for."""


class _Visit:
    """One URL's check in progress: requests sent and what is left of its deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.left = deadline
        self.requests = 0
        self.cut_short = False
        """The latest request's time limit was what was left of the deadline."""

    def spend(self, seconds: float) -> None:
        self.left -= seconds

    @property
    def exhausted(self) -> bool:
        return self.left <= 0.001

    def timed_out(self) -> _Failed:
        return _Failed(
            LinkStatus.TIMEOUT,
            f"no final answer within the {self.deadline:g} s allowed per URL "
            f"(retries and redirects included; {self.requests} requests)",
        )


class _Failed(Exception):
    def __init__(self, status: LinkStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class HostGate:
    """Per-host concurrency limit with a pause that every request to the host respects."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._not_before = 0.0

    def pause(self, seconds: float) -> None:
        """Send nothing to this host for ``seconds`` (the longest pause asked for wins)."""
        self._not_before = max(self._not_before, time.monotonic() + seconds)

    async def __aenter__(self) -> HostGate:
        while True:
            wait = self._not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            await self._slots.acquire()
            if self._not_before <= time.monotonic():
                return self
            self._slots.release()  # paused while we queued: wait again

    async def __aexit__(self, *exc: object) -> None:
        self._slots.release()


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class LinkChecker:
    """One checking session: a connection pool, host gates and the SSRF guard."""

    def __init__(self, settings: CheckSettings) -> None:
        self.settings = settings
        self._gates: dict[str, HostGate] = {}
        self._all = asyncio.Semaphore(settings.total)
        policy = settings.policy
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=0,
                resolver=GuardedResolver(policy),
                socket_factory=guarded_socket_factory(policy),
                ssl=ssl.create_default_context(),
                ttl_dns_cache=300,
            ),
            headers={"User-Agent": settings.user_agent, "Accept": "text/html,*/*;q=0.8"},
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=settings.timeout),
            trust_env=False,
        )

    async def close(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> LinkChecker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _gate(self, host: str) -> HostGate:
        if host not in self._gates:
            self._gates[host] = HostGate(self.settings.per_host)
        return self._gates[host]

    async def check(self, url: str, known: Known | None = None) -> LinkResult:
        """Follow ``url`` to its final answer and classify it."""
        known = known or Known()
        visit = _Visit(self.settings.url_deadline)
        try:
            return await self._follow(url, known, visit)
        except _Failed as failure:
            return LinkResult(url, failure.status, detail=failure.detail, requests=visit.requests)
        except BlockedAddress as error:
            return LinkResult(url, LinkStatus.BLOCKED, detail=str(error), requests=visit.requests)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            if visit.cut_short:
                detail = visit.timed_out().detail
            else:
                detail = f"no complete answer within {self.settings.timeout:g} s"
            return LinkResult(url, LinkStatus.TIMEOUT, detail=detail, requests=visit.requests)
        except aiohttp.ClientError as error:
            status, detail = _classify_client_error(error)
            return LinkResult(url, status, detail=detail, requests=visit.requests)
        except ValueError as error:  # urlsplit, yarl and IDNA reject malformed URLs
            detail = f"malformed URL: {error}"
            return LinkResult(url, LinkStatus.INVALID, detail=detail, requests=visit.requests)

    async def _follow(self, url: str, known: Known, visit: _Visit) -> LinkResult:
        current, permanent, method = url, False, "HEAD"
        conditional = _conditional_headers(known)
        for _ in range(self.settings.max_redirects + 1):
            answer = await self._request(method, current, conditional, visit)
            if method == "HEAD" and not _is_redirect(answer) and _needs_get(answer, known):
                method = "GET"  # from here on: HEAD was refused, or the page must be read
                answer = await self._request(method, current, conditional, visit)
            if _is_redirect(answer):
                permanent = permanent or answer.status in PERMANENT_REDIRECTS
                current = urljoin(current, answer.headers["Location"])
                _check_scheme(current)
                continue
            unchanged = answer.status == 304 or (
                answer.text is None and _is_html(answer.headers) and 200 <= answer.status < 300
            )
            return _classify(url, current, permanent, answer, known, unchanged, visit.requests)
        raise _Failed(LinkStatus.BROKEN, f"more than {self.settings.max_redirects} redirects")

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], visit: _Visit
    ) -> _Answer:
        """One request, retried after the pause a 429/503 asks for, within the URL's deadline.

        The time a request holds its host slot and the pauses it asks for are spent from the
        deadline; a pause that would outlast the deadline ends the check at once.
        """
        _check_scheme(url)
        host = urlsplit(url).hostname or ""
        self.settings.policy.check_literal(host)
        gate = self._gate(host)
        for attempt in range(self.settings.retries + 1):
            async with gate, self._all:
                if visit.exhausted:
                    raise visit.timed_out()
                visit.requests += 1
                started = time.monotonic()
                visit.cut_short = visit.left < self.settings.timeout
                limit = aiohttp.ClientTimeout(total=min(self.settings.timeout, visit.left))
                try:
                    answer, delay = await self._send(method, url, headers, attempt, limit)
                finally:
                    visit.spend(time.monotonic() - started)
            if delay is None:
                return answer
            if delay >= visit.left:
                raise visit.timed_out()
            visit.spend(delay)
            gate.pause(delay)
        raise AssertionError("unreachable: the last attempt always returns")

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        attempt: int,
        limit: aiohttp.ClientTimeout,
    ) -> tuple[_Answer, float | None]:
        """The answer, and the pause before a retry when one is due (None: the answer stands)."""
        async with self._session.request(
            method, url, headers=headers, allow_redirects=False, timeout=limit
        ) as response:
            if response.status in RETRIED and attempt < self.settings.retries:
                asked = retry_after_seconds(response.headers.get("Retry-After"))
                delay = self.settings.backoff * 2**attempt if asked is None else asked
                if delay <= self.settings.max_retry_after:
                    return _Answer(response.status, response.headers), delay
                if asked is not None:
                    return _Answer(response.status, response.headers, not_waited=asked), None
            text = None
            success = 200 <= response.status < 300
            if method == "GET" and success and _is_html(response.headers):
                text = await _read_text(response, self.settings.max_body)
            return _Answer(response.status, response.headers, text), None


async def _read_text(response: aiohttp.ClientResponse, limit: int) -> str:
    """The first ``limit`` bytes of the body, decoded leniently."""
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    raw = b"".join(chunks)[:limit]
    try:
        return raw.decode(response.charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return raw.decode("utf-8", errors="replace")


def _check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Failed(LinkStatus.INVALID, f"not an http(s) URL: {url[:200]}")


def _is_redirect(answer: _Answer) -> bool:
    return answer.status in REDIRECTS and bool(answer.headers.get("Location"))


def _is_html(headers: Mapping[str, str]) -> bool:
    kind = headers.get("Content-Type", "text/html").split(";")[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml", "text/plain", "")


def _conditional_headers(known: Known) -> dict[str, str]:
    """Validators of the last run, only when that run found the page fine."""
    headers: dict[str, str] = {}
    if known.status not in (LinkStatus.OK, LinkStatus.REDIRECTED):
        return headers
    if known.etag:
        headers["If-None-Match"] = known.etag
    if known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    return headers


def _validators_unchanged(headers: Mapping[str, str], known: Known) -> bool:
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    if etag and known.etag:
        return etag == known.etag
    return bool(modified and known.last_modified and modified == known.last_modified)


def _needs_get(answer: _Answer, known: Known) -> bool:
    """Whether HEAD's answer must be confirmed or completed by a GET."""
    if answer.status == 304:
        return False
    if not 200 <= answer.status < 300:
        return True  # many servers refuse or mishandle HEAD: believe only GET's failures
    if not _is_html(answer.headers):
        return False
    was_fine = known.status in (LinkStatus.OK, LinkStatus.REDIRECTED)
    return not (was_fine and known.fingerprint and _validators_unchanged(answer.headers, known))


def _classify(
    url: str,
    final: str,
    permanent: bool,
    answer: _Answer,
    known: Known,
    unchanged: bool,
    requests: int,
) -> LinkResult:
    code = answer.status
    etag = answer.headers.get("ETag") or (known.etag if code == 304 else None)
    modified = answer.headers.get("Last-Modified") or (known.last_modified if code == 304 else None)
    base = {
        "url": url,
        "http_status": code,
        "final_url": final if final != url else None,
        "moved_to": final if permanent else None,
        "etag": etag,
        "last_modified": modified,
        "requests": requests,
    }
    if unchanged:
        status = LinkStatus.REDIRECTED if permanent else LinkStatus.OK
        return LinkResult(status=status, fingerprint=known.fingerprint, not_modified=True,
                          detail="unchanged (validators match)", **base)  # fmt: skip
    if 200 <= code < 300:
        if answer.text is not None:
            page = read_page(answer.text)
            if page.looks_like_not_found:
                title = page.title or page.headings
                return LinkResult(status=LinkStatus.SOFT_404, detail=f"page says: {title[:120]}",
                                  **base)  # fmt: skip
            fingerprint = page.fingerprint
        else:
            length = answer.headers.get("Content-Length", "")
            fingerprint = text_fingerprint(f"{etag or ''}|{modified or ''}|{length}")
        status = LinkStatus.REDIRECTED if permanent else LinkStatus.OK
        detail = f"moved permanently to {final}" if permanent else ""
        return LinkResult(status=status, fingerprint=fingerprint, detail=detail, **base)
    if code == 410:
        return LinkResult(status=LinkStatus.GONE, detail="410 Gone", **base)
    later = (
        f" (asks to retry after {answer.not_waited:.0f} s: longer than waited for)"
        if answer.not_waited is not None
        else ""
    )
    if code == 429:
        detail = f"HTTP 429{later}" if later else "still 429 after retries"
        return LinkResult(status=LinkStatus.RATE_LIMITED, detail=detail, **base)
    if 400 <= code < 500:
        return LinkResult(status=LinkStatus.BROKEN, detail=f"HTTP {code}", **base)
    if code >= 500:
        return LinkResult(status=LinkStatus.SERVER_ERROR, detail=f"HTTP {code}{later}", **base)
    return LinkResult(status=LinkStatus.BROKEN, detail=f"unexpected HTTP {code}", **base)


def _classify_client_error(error: aiohttp.ClientError) -> tuple[LinkStatus, str]:
    cause: BaseException | None = error
    while cause is not None:  # the guard's refusal may be wrapped by aiohttp
        if isinstance(cause, BlockedAddress):
            return LinkStatus.BLOCKED, str(cause)
        cause = getattr(cause, "os_error", None) or cause.__cause__
    if isinstance(error, aiohttp.ClientSSLError | aiohttp.ClientConnectorCertificateError):
        return LinkStatus.TLS_ERROR, str(error)
    if isinstance(error, aiohttp.InvalidURL):
        return LinkStatus.INVALID, f"invalid URL: {error}"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return LinkStatus.UNREACHABLE, f"host name does not resolve: {error.host}"
    if isinstance(error, aiohttp.ClientConnectorError):
        return LinkStatus.UNREACHABLE, f"cannot connect: {error.os_error}"
    return LinkStatus.UNREACHABLE, f"{type(error).__name__}: {error}"


async def check_urls(
    urls: Iterable[str],
    known: Mapping[str, Known] | None = None,
    settings: CheckSettings | None = None,
    on_result: Callable[[LinkResult], None] | None = None,
) -> list[LinkResult]:
    """Check each distinct URL once; results keep the order of first appearance.

    URLs not finished within the settings' ``run_deadline`` are reported
    :attr:`~LinkStatus.NOT_CHECKED`.
    """
    known = known or {}
    settings = settings or CheckSettings()
    distinct = list(dict.fromkeys(urls))
    async with LinkChecker(settings) as checker:

        async def one(url: str) -> LinkResult:
            result = await checker.check(url, known.get(url))
            if on_result is not None:
                on_result(result)
            return result

        tasks = [asyncio.create_task(one(u)) for u in distinct]
        if tasks:
            await asyncio.wait(tasks, timeout=settings.run_deadline)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        late = f"not checked: the run's deadline of {settings.run_deadline or 0:g} s was reached"
        return [
            task.result()
            if not task.cancelled()
            else LinkResult(url, LinkStatus.NOT_CHECKED, detail=late)
            for url, task in zip(distinct, tasks, strict=True)
        ]


def run_check(
    urls: Iterable[str],
    known: Mapping[str, Known] | None = None,
    settings: CheckSettings | None = None,
    on_result: Callable[[LinkResult], None] | None = None,
) -> list[LinkResult]:
    """Synchronous entry point around :func:`check_urls`."""
    return asyncio.run(check_urls(urls, known, settings, on_result))
