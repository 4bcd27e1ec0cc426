"""A web of realistic misbehaving sites on loopback, for the link checker's tests and benchmark.

One aiohttp server listens on the same port of 127.0.0.1 ... 127.0.0.N (on Linux the whole of
127.0.0.0/8 is loopback), so each address is a separate host to the checker's per-host limit.
The path says how a URL behaves; :func:`plan` lays out a catalogue of such URLs with the status
each must get. Nothing here talks to any non-loopback address.

The server runs in its own process (``python -m tests.linkfarm``), so that its work never
competes with the checker's event loop for the interpreter lock; tests steer it through
:class:`FarmProcess` and a small control API under ``/_farm/``.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import hashlib
import itertools
import json
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

NAV = "<header><nav><a href='/'>Home</a> <a href='/about'>About</a></nav></header>"
FOOTER = "<footer>Visited {stamp} | session {token} | © Example Lab</footer>"


def html(title: str, main: str, *, stamp: str = "", token: str = "") -> str:
    """A page shaped like a real one: navigation, main content, footer."""
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f"<script>var session='{token}';</script></head><body>{NAV}"
        f"<main><h1>{title}</h1>{main}</main>{FOOTER.format(stamp=stamp, token=token)}"
        "</body></html>"
    )


def lesson(n: int, generation: int = 0) -> str:
    return (
        f"<p>Lesson {n}: segmenting nuclei in fluorescence images with thresholding and "
        f"watershed. Revision {generation} of the material.</p>"
        "<p>Exercises use a public data set and a Jupyter notebook.</p>"
    )


@dataclass
class Farm:
    """A running server. ``generation`` is bumped between runs to edit the 'changing' pages."""

    hosts: int = 50
    latency: float = 0.0
    slow_seconds: float = 5.0
    port: int = 0
    tls_port: int = 0
    generation: int = 0
    hits: Counter = field(default_factory=Counter)
    in_flight: Counter = field(default_factory=Counter)
    peak_in_flight: Counter = field(default_factory=Counter)
    methods: defaultdict = field(default_factory=lambda: defaultdict(list))

    def url(self, host: int, path: str) -> str:
        return f"http://127.0.0.{host}:{self.port}/{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/_farm/"):
            return await self.answer(request)
        host = request.transport.get_extra_info("sockname")[0] if request.transport else "?"
        self.in_flight[host] += 1
        self.peak_in_flight[host] = max(self.peak_in_flight[host], self.in_flight[host])
        self.hits[request.path] += 1
        self.methods[request.path].append(request.method)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self.answer(request)
        finally:
            self.in_flight[host] -= 1

    async def answer(self, request: web.Request) -> web.StreamResponse:
        kind, _, rest = request.path.strip("/").partition("/")
        if kind == "_farm":
            return self.control(request, rest)
        n = int(rest.split("/")[0].split(".")[0]) if rest[:1].isdigit() else 0
        query = request.query
        if kind in ("ok", "changing", "volatile", "file"):
            return self.validated(request, kind, n)
        if kind == "plain":
            return web.Response(text=html(f"Plain page {n}", lesson(n)), content_type="text/html")
        if kind == "nohead":
            if request.method == "HEAD":
                return web.Response(status=405)
            return web.Response(text=html(f"No HEAD {n}", lesson(n)), content_type="text/html")
        if kind == "redirect":  # /redirect/<n>?hops=k&code=c: k hops over other hosts, then ok
            hops, code = int(query.get("hops", "1")), int(query.get("code", "301"))
            target = (
                self.url(1 + (n + hops) % self.hosts, f"redirect/{n}?hops={hops - 1}&code={code}")
                if hops > 1
                else self.url(1 + (n + 7) % self.hosts, f"ok/{10_000 + n}")
            )
            raise _redirect(code, target)
        if kind == "to":  # /to/<n>?target=URL: one redirect to any URL (for SSRF tests)
            raise web.HTTPFound(query["target"])
        if kind == "loop":
            raise web.HTTPFound(f"/loop/{n}")
        if kind == "missing":
            raise web.HTTPNotFound(text=html("Not Found", "<p>No such page.</p>"))
        if kind == "forbidden":
            raise web.HTTPForbidden()
        if kind == "gone":
            raise web.HTTPGone()
        if kind == "limited":  # the first request is told to come back in a second
            if self.hits[request.path] == 1:
                raise web.HTTPTooManyRequests(headers={"Retry-After": "1"})
            return web.Response(text=html(f"Popular {n}", lesson(n)), content_type="text/html")
        if kind == "busy":  # /busy/<n>?code=429|503&after=S: always busy, come back in S s
            raise _busy(int(query.get("code", "429")), query.get("after", "120"))
        if kind == "busyhops":  # /busyhops/<n>/<k>?after=S: each hop is 429 once, then redirects
            hops = int(rest.split("/")[1])
            if self.hits[request.path] == 1:
                raise _busy(429, query.get("after", "1"))
            target = f"busyhops/{n}/{hops - 1}?after={query.get('after', '1')}" if hops else ""
            raise web.HTTPFound(f"/{target or f'ok/{n}'}")
        if kind == "slowhops":  # /slowhops/<n>/<k>?delay=S: k hops of S seconds each, then ok
            hops = int(rest.split("/")[1])
            await asyncio.sleep(float(query.get("delay", "0.5")))
            target = f"slowhops/{n}/{hops - 1}?delay={query.get('delay', '0.5')}" if hops else ""
            raise web.HTTPFound(f"/{target or f'ok/{n}'}")
        if kind == "error":
            raise web.HTTPInternalServerError()
        if kind == "slow":
            deadline = time.monotonic() + self.slow_seconds
            while time.monotonic() < deadline:  # stop early once the client has hung up
                if request.transport is None or request.transport.is_closing():
                    raise web.HTTPRequestTimeout()
                await asyncio.sleep(0.05)
            return web.Response(text=html(f"Slow {n}", lesson(n)), content_type="text/html")
        if kind == "soft404":
            title = ("Page not found", "Oops! That page can't be found", "404 - File not found")
            body = "<p>Sorry, the page you are looking for does not exist.</p>"
            return web.Response(text=html(title[n % 3], body), content_type="text/html")
        if kind == "prose404":  # a real article that talks about "not found" errors
            body = "<p>How to debug a 404 page not found error in your image server.</p>" + (
                "<p>Long explanation of reverse proxies, routes and OMERO.web settings.</p>" * 30
            )
            return web.Response(text=html(f"Debugging routes {n}", body), content_type="text/html")
        if kind == "doi":  # a DOI resolver: /doi/10.1234/abc -> landing page
            raise web.HTTPFound(self.url(1 + n % self.hosts, f"ok/{20_000 + n}"))
        raise web.HTTPNotFound()

    def control(self, request: web.Request, action: str) -> web.Response:
        """The test's remote control: edit pages, read and reset statistics, set latency."""
        if action == "edit":
            self.generation += 1
        elif action == "latency":
            self.latency = float(request.query["seconds"])
        elif action == "reset":
            self.methods.clear()
            self.peak_in_flight.clear()
        stats = {"methods": self.methods, "peaks": self.peak_in_flight}
        return web.json_response(stats if action == "stats" else {})

    def validated(self, request: web.Request, kind: str, n: int) -> web.Response:
        """Pages with ETag and Last-Modified that honour conditional requests."""
        if kind == "file":
            body, content_type = f"%PDF-1.4 slides {n}".encode(), "application/pdf"
        else:
            generation = self.generation if kind == "changing" else 0
            stamp, token = "", ""
            if kind == "volatile":  # only the time and the session token differ per visit
                stamp = time.strftime("%Y-%m-%d %H:%M:%S")
                token = hashlib.sha256(f"{time.time_ns()}-{n}".encode()).hexdigest()[:24]
            main = lesson(n, generation)
            if kind == "volatile":
                main += f"<p>Page generated {stamp}; view id {token}.</p>"
            body = html(f"Material {n}", main, stamp=stamp, token=token).encode()
            content_type = "text/html"
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = "Mon, 02 Mar 2026 10:00:00 GMT" if kind == "ok" else None
        headers = {"ETag": etag, **({"Last-Modified": modified} if modified else {})}
        if request.headers.get("If-None-Match") == etag or (
            modified
            and "If-None-Match" not in request.headers
            and request.headers.get("If-Modified-Since") == modified
        ):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type=content_type, headers=headers)


def _busy(code: int, after: str) -> web.HTTPException:
    kind = web.HTTPTooManyRequests if code == 429 else web.HTTPServiceUnavailable
    return kind(headers={"Retry-After": after})


def _redirect(code: int, target: str) -> web.HTTPException:
    return {
        301: web.HTTPMovedPermanently,
        302: web.HTTPFound,
        303: web.HTTPSeeOther,
        307: web.HTTPTemporaryRedirect,
        308: web.HTTPPermanentRedirect,
    }[code](target)


@dataclass(frozen=True)
class Planned:
    url: str
    status: str
    changes: bool = False
    """Whether the page's main text differs in the second run."""


# (path kind, expected status, weight per 100 URLs)
MIX = [
    ("ok", "ok", 22), ("plain", "ok", 8), ("nohead", "ok", 5), ("file", "ok", 5),
    ("redirect?hops=2&code=301", "redirected", 6), ("redirect?hops=3&code=308", "redirected", 2),
    ("redirect?hops=2&code=302", "ok", 5), ("loop", "broken", 1), ("missing", "broken", 6),
    ("forbidden", "broken", 2), ("gone", "gone", 4), ("limited", "ok", 1),
    ("error", "server-error", 4), ("slow", "timeout", 1), ("soft404", "soft-404", 5),
    ("prose404", "ok", 3), ("changing", "ok", 10), ("volatile", "ok", 10),
]  # fmt: skip


def plan(farm: RemoteFarm, size: int = 1000) -> list[Planned]:
    """``size`` URLs spread over the farm's hosts in the proportions of :data:`MIX`."""
    kinds = list(itertools.chain.from_iterable([(k, s)] * w for k, s, w in MIX))
    assert len(kinds) == 100
    planned = []
    for i in range(size):
        kind, status = kinds[(i * 37) % 100]  # 37 is coprime to 100: a well-mixed order
        name, _, query = kind.partition("?")
        path = f"{name}/{i}" + (f"?{query}" if query else "")
        host = 1 + (i * 13 + i // 100) % farm.hosts  # each kind spread over all hosts
        planned.append(Planned(farm.url(host, path), status, name == "changing"))
    return planned


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a throw-away self-signed certificate (openssl CLI)."""
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class FarmServer:
    """Runs a :class:`Farm` in a background thread with its own event loop."""

    def __init__(
        self,
        farm: Farm,
        tls: ssl.SSLContext | None = None,
        serve: range | None = None,
        port: int = 0,
    ) -> None:
        self.farm = farm
        self.tls = tls
        self.serve = serve or range(1, farm.hosts + 1)
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None

    def __enter__(self) -> Farm:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        return self.farm

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.farm.handle)
        self.runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self.runner.setup()
        for _attempt in range(20):
            port = self.port or _free_port()
            try:
                for host in self.serve:
                    await web.SockSite(self.runner, _bound(f"127.0.0.{host}", port)).start()
                break
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                for site in list(self.runner.sites):
                    await site.stop()
        else:
            raise RuntimeError("no port free on all loopback hosts")
        self.farm.port = port
        if self.tls is not None:
            site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.tls)
            await site.start()
            self.farm.tls_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bound(host: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(512)
    return sock


class FarmProcess:
    """Starts the farm in child processes, each serving a share of the hosts on one port (as
    separate servers on the internet would); the context value steers them."""

    def __init__(
        self, hosts: int = 50, latency: float = 0.0, tls: bool = False, workers: int = 1
    ) -> None:
        self.hosts, self.latency, self.tls = hosts, latency, tls
        self.shares = [range(1 + w, hosts + 1, workers) for w in range(workers)]
        self.processes: list[subprocess.Popen] = []

    def _start(self, share: range, port: int, tls: bool) -> tuple[int, int]:
        arguments = [f"--hosts={self.hosts}", f"--latency={self.latency}", f"--port={port}",
                     f"--serve={share.start}:{share.stop}:{share.step}"]  # fmt: skip
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.linkfarm", *arguments, *(["--tls"] if tls else [])],
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.processes.append(process)
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise RuntimeError("the link farm did not start")
        port, tls_port = map(int, line.split())
        return port, tls_port

    def __enter__(self) -> RemoteFarm:
        try:
            port, tls_port = self._start(self.shares[0], 0, self.tls)
            for share in self.shares[1:]:
                self._start(share, port, False)
        except BaseException:
            self.__exit__()
            raise
        return RemoteFarm(self.hosts, port, tls_port, [share[0] for share in self.shares])

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=10)


@dataclass
class RemoteFarm:
    """The test's view of a farm running in other processes."""

    hosts: int
    port: int
    tls_port: int
    control_hosts: list[int]
    """One host of each worker process, to reach its control API."""

    def url(self, host: int, path: str) -> str:
        return f"http://127.0.0.{host}:{self.port}/{path}"

    def _call(self, action: str) -> list[dict]:
        answers = []
        for host in self.control_hosts:
            with urllib.request.urlopen(self.url(host, f"_farm/{action}"), timeout=30) as answer:
                answers.append(json.load(answer))
        return answers

    def edit_pages(self) -> None:
        """Change the main text of every 'changing' page."""
        self._call("edit")

    def set_latency(self, seconds: float) -> None:
        self._call(f"latency?seconds={seconds}")

    def reset(self) -> None:
        self._call("reset")

    def methods(self, path: str) -> list[str]:
        """The methods of the requests for ``path`` since the last reset."""
        return [m for stats in self._call("stats") for m in stats["methods"].get(path, [])]

    def peak_in_flight(self) -> int:
        """Most requests one host had in flight at once since the last reset."""
        return max((p for stats in self._call("stats") for p in stats["peaks"].values()), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the link farm until terminated.")
    parser.add_argument("--hosts", type=int, default=50, help="Hosts of the whole farm.")
    parser.add_argument("--serve", default="", help="start:stop:step of the hosts served here.")
    parser.add_argument("--port", type=int, default=0, help="0: pick a free one.")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--tls", action="store_true", help="Also serve HTTPS, self-signed.")
    args = parser.parse_args()
    farm = Farm(hosts=args.hosts, latency=args.latency)
    serve = range(*map(int, args.serve.split(":"))) if args.serve else None
    with tempfile.TemporaryDirectory() as tmp:
        tls = self_signed_context(Path(tmp)) if args.tls else None
        with FarmServer(farm, tls=tls, serve=serve, port=args.port):
            print(farm.port, farm.tls_port, flush=True)
            signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
