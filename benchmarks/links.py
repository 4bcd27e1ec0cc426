"""Link health of 1,000 URLs on 50 loopback hosts answering after 100 ms each.

Compares ``fairio links`` (asyncio, 4 requests per host) with a sequential check (the same
checker, one request at a time, measured on a sample and scaled to 1,000) and with
linkchecker's external check of the same list (its defaults, then tuned to the same
concurrency). Run: ``.venv/bin/python benchmarks/links.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the loopback farm lives with the tests

from tests.linkfarm import FarmProcess, RemoteFarm  # noqa: E402

from fairio_tools.links.check import CheckSettings, check_urls  # noqa: E402
from fairio_tools.links.guard import AddressPolicy  # noqa: E402
from fairio_tools.links.state import apply_results  # noqa: E402

KINDS = ["ok", "plain", "nohead", "file", "redirect?hops=2&code=301", "missing", "gone",
         "soft404", "prose404", "volatile"]  # fmt: skip
LOOPBACK = AddressPolicy.allowing(["127.0.0.0/8"])


def urls_for(farm: RemoteFarm, count: int) -> list[str]:
    urls = []
    for i in range(count):
        name, _, query = KINDS[i % len(KINDS)].partition("?")
        urls.append(
            farm.url(1 + (i * 7) % farm.hosts, f"{name}/{i}" + (f"?{query}" if query else ""))
        )
    return urls


def timed(label: str, work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"  {label:<52} {seconds:7.2f} s", flush=True)
    return seconds, result


def fairio_run(urls, known=None, per_host=4, total=256):
    settings = CheckSettings(per_host=per_host, total=total, timeout=10, policy=LOOPBACK)
    return asyncio.run(check_urls(urls, known, settings))


def linkchecker_run(urls: list[str], config: str | None = None) -> Counter:
    """linkchecker on an HTML page that links to every URL; counts of its 'valid' column."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        folder.chmod(0o777)  # linkchecker run as root drops privileges to 'nobody'
        page = folder / "links.html"
        links = "".join(f'<a href="{u}">{i}</a>' for i, u in enumerate(urls))
        page.write_text(f"<html><body>{links}</body></html>")
        out = folder / "out.csv"
        command = [str(Path(sys.executable).parent / "linkchecker"), "--check-extern",
                   "--no-status", "-v", "-o", "none", "-F", f"csv/utf-8/{out}"]  # fmt: skip
        if config:
            (folder / "rc").write_text(config)
            command += ["-f", str(folder / "rc")]
        subprocess.run([*command, str(page)], capture_output=True, text=True, timeout=900)
        lines = [line for line in out.read_text().splitlines() if not line.startswith("#")]
        rows = list(csv.DictReader(lines, delimiter=";"))
        return Counter(
            "valid" if row["valid"] == "True" else "invalid"
            for row in rows
            if (row["urlname"] or "").startswith("http")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--sequential-sample", type=int, default=100)
    parser.add_argument("--farm-workers", type=int, default=2, help="Server processes.")
    parser.add_argument("--skip-linkchecker", action="store_true")
    args = parser.parse_args()

    farm_process = FarmProcess(hosts=args.hosts, latency=args.latency, workers=args.farm_workers)
    with farm_process as farm:
        urls = urls_for(farm, args.urls)
        print(
            f"{len(urls)} URLs on {args.hosts} hosts ({args.farm_workers} server processes), "
            f"{args.latency * 1000:.0f} ms per answer; load average {os.getloadavg()[0]:.1f}"
        )

        cpu = time.process_time()
        cold, results = timed(
            "fairio links, first run (HEAD + GET, 4/host)", lambda: fairio_run(urls)
        )
        cpu = time.process_time() - cpu
        requests = sum(r.requests for r in results)
        peak = farm.peak_in_flight()
        print(f"    {requests} requests, {cpu:.2f} s CPU in the checker, "
              f"peak {peak} in flight per host, "
              f"{dict(Counter(str(r.status) for r in results))}")  # fmt: skip
        state = apply_results({}, results, "2026-01-01").state
        known = {url: record.known for url, record in state.items()}
        warm, results = timed("fairio links, second run (conditional requests)",
                              lambda: fairio_run(urls, known))  # fmt: skip
        print(f"    {sum(r.requests for r in results)} requests")

        sample = urls[: args.sequential_sample]
        seq, _ = timed(f"sequential, {len(sample)} URLs (same checker, 1 at a time)",
                       lambda: fairio_run(sample, per_host=1, total=1))  # fmt: skip
        sequential = seq * len(urls) / len(sample)
        print(f"    -> {sequential:.1f} s for {len(urls)} URLs (scaled)")

        rows = [("fairio links (first run)", cold), ("fairio links (second run)", warm),
                ("sequential (scaled)", sequential)]  # fmt: skip
        if not args.skip_linkchecker:
            lc_default, counts = timed("linkchecker --check-extern (defaults: 10 threads)",
                                       lambda: linkchecker_run(urls))  # fmt: skip
            print(f"    {sum(counts.values())} URLs reported")
            tuned = "[checking]\nthreads=200\nmaxrequestspersecond=40\n"
            lc_tuned, counts = timed("linkchecker, 200 threads, 40 requests/s/host",
                                     lambda: linkchecker_run(urls, tuned))  # fmt: skip
            print(f"    {sum(counts.values())} URLs reported")
            rows += [("linkchecker (defaults)", lc_default), ("linkchecker (tuned)", lc_tuned)]

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the checking process: {rss:.0f} MiB (the farm runs in its own)")
    print(f"{'':<30} {'wall s':>8} {'vs fairio':>10}")
    for label, seconds in rows:
        print(f"{label:<30} {seconds:8.2f} {seconds / cold:9.1f}x")
    print(f"target <= 10 s: {'met' if cold <= 10 else 'MISSED'} ({cold:.2f} s)")


if __name__ == "__main__":
    main()
