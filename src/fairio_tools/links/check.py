"""Check many URLs concurrently, politely and safely.

At most ``per_host`` requests run against one host at a time (and ``total`` overall). A 429 or
503 answer pauses the whole host for its ``Retry-After`` (or an exponential backoff) before the
request is retried. Each URL gets a HEAD request first, with the validators of the last run
(``If-None-Match``/``If-Modified-Since``); a GET follows only when HEAD is refused or fails, or
when an HTML page must be read to detect a soft 404 and fingerprint its main text. Redirects are
followed hop by hop, so the SSRF guard sees every hop.
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
    max_retry_after: float = 120.0
    """A longer ``Retry-After`` is not waited for: the link is reported rate-limited."""
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
        counter = [0]
        try:
            return await self._follow(url, known, counter)
        except _Failed as failure:
            return LinkResult(url, failure.status, detail=failure.detail, requests=counter[0])
        except BlockedAddress as error:
            return LinkResult(url, LinkStatus.BLOCKED, detail=str(error), requests=counter[0])
        except (TimeoutError, aiohttp.ServerTimeoutError):
            detail = f"no complete answer within {self.settings.timeout:g} s"
            return LinkResult(url, LinkStatus.TIMEOUT, detail=detail, requests=counter[0])
        except aiohttp.ClientError as error:
            status, detail = _classify_client_error(error)
            return LinkResult(url, status, detail=detail, requests=counter[0])
        except ValueError as error:  # urlsplit, yarl and IDNA reject malformed URLs
            detail = f"malformed URL: {error}"
            return LinkResult(url, LinkStatus.INVALID, detail=detail, requests=counter[0])

    async def _follow(self, url: str, known: Known, counter: list[int]) -> LinkResult:
        current, permanent, method = url, False, "HEAD"
        conditional = _conditional_headers(known)
        for _ in range(self.settings.max_redirects + 1):
            counter[0] += 1
            answer = await self._request(method, current, conditional)
            if method == "HEAD" and not _is_redirect(answer) and _needs_get(answer, known):
                method = "GET"  # from here on: HEAD was refused, or the page must be read
                counter[0] += 1
                answer = await self._request(method, current, conditional)
            if _is_redirect(answer):
                permanent = permanent or answer.status in PERMANENT_REDIRECTS
                current = urljoin(current, answer.headers["Location"])
                _check_scheme(current)
                continue
            unchanged = answer.status == 304 or (
                answer.text is None and _is_html(answer.headers) and 200 <= answer.status < 300
            )
            return _classify(url, current, permanent, answer, known, unchanged, counter[0])
        raise _Failed(LinkStatus.BROKEN, f"more than {self.settings.max_redirects} redirects")

    async def _request(self, method: str, url: str, headers: Mapping[str, str]) -> _Answer:
        """One request, retried after the pause a 429/503 asks for."""
        _check_scheme(url)
        host = urlsplit(url).hostname or ""
        self.settings.policy.check_literal(host)
        gate = self._gate(host)
        for attempt in range(self.settings.retries + 1):
            async with (
                gate,
                self._all,
                self._session.request(
                    method, url, headers=headers, allow_redirects=False
                ) as response,
            ):
                if response.status in RETRIED and attempt < self.settings.retries:
                    asked = retry_after_seconds(response.headers.get("Retry-After"))
                    delay = self.settings.backoff * 2**attempt if asked is None else asked
                    if delay <= self.settings.max_retry_after:
                        gate.pause(delay)
                        continue
                text = None
                success = 200 <= response.status < 300
                if method == "GET" and success and _is_html(response.headers):
                    text = await _read_text(response, self.settings.max_body)
                return _Answer(response.status, response.headers, text)
        raise AssertionError("unreachable: the last attempt always returns")


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
    if code == 429:
        return LinkResult(status=LinkStatus.RATE_LIMITED, detail="still 429 after retries", **base)
    if 400 <= code < 500:
        return LinkResult(status=LinkStatus.BROKEN, detail=f"HTTP {code}", **base)
    if code >= 500:
        return LinkResult(status=LinkStatus.SERVER_ERROR, detail=f"HTTP {code}", **base)
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
    """Check each distinct URL once; results keep the order of first appearance."""
    known = known or {}
    distinct = list(dict.fromkeys(urls))
    async with LinkChecker(settings or CheckSettings()) as checker:

        async def one(url: str) -> LinkResult:
            result = await checker.check(url, known.get(url))
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(u) for u in distinct)))


def run_check(
    urls: Iterable[str],
    known: Mapping[str, Known] | None = None,
    settings: CheckSettings | None = None,
    on_result: Callable[[LinkResult], None] | None = None,
) -> list[LinkResult]:
    """Synchronous entry point around :func:`check_urls`."""
    return asyncio.run(check_urls(urls, known, settings, on_result))
