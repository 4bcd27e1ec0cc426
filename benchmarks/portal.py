"""Portal build time and site size for synthetic catalogues (default 1,000 and 5,000 entries).

Run: ``.venv/bin/python benchmarks/portal.py [--sizes 1000 5000] [--peer] [--browser]``

Each size gets a generated catalogue of schema-valid entries (deterministic), a copy of
mkdocs.yml pointing at it, and one full ``fairio portal build`` (strict MkDocs build).
Printed: build time (wall), the build process's wall and CPU time (user+sys: what the
build costs on an idle machine), peak RSS, number of pages, site size, search index size
(raw and gzipped, as a web server sends it; it holds whole descriptions).
``--peer`` also builds the real 231-entry catalogue the way MkDocs does by default, with
every generated page in the navigation, and prints the size/time ratio against ours.
``--browser`` opens each built search page in Chromium: time until the frame that paints
the first results (the page's ``fairio:results`` mark) and until MiniSearch's full-text index
is built (``fairio:index``, after the page has loaded), and time from a query to its
results; and, on the home
page, the header search box: the first query (which loads the index and builds MiniSearch's
index) and a second one, to the results shown under the box.
Targets (issue 16) on the 2-core development machine: build <= 5 s for 1,000 and <= 20 s
for 5,000 entries, search index <= 1 MB gzipped for 5,000; in Chromium, results shown
<= 500 ms and query to results <= 50 ms.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "image", "analysis", "segmentation", "microscopy", "metadata", "OME-Zarr", "napari",
    "Fiji", "OMERO", "workflow", "Galaxy", "deep", "learning", "FAIR", "data", "management",
    "sharing", "repository", "annotation", "training", "introduction", "advanced", "python",
    "notebook", "cell", "nuclei", "tracking", "light-sheet", "electron", "quantification",
    "visualisation", "reproducibility", "provenance", "licensing", "storage",
]  # fmt: skip
LICENSES = ["CC-BY-4.0", "CC0-1.0", "MIT", "BSD-3-Clause", "CC-BY-SA-4.0", None]


def synthetic_catalogue(directory: Path, size: int, seed: int = 7) -> None:
    """Write ``size`` schema-valid entries with realistic field sizes into ``directory``."""
    from fairio_tools.catalogue.model import levels, resource_types

    rng = random.Random(seed)
    types, level_terms = list(resource_types()), list(levels())
    tags = [f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}" for _ in range(300)]
    directory.mkdir(parents=True)
    for index in range(size):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))).capitalize()
        entry: dict = {"name": f"{title} {index}", "uuid": _uuid(rng)}
        if rng.random() < 0.5:
            entry["doi"] = f"10.5281/zenodo.{1000000 + index}"
        entry["urls"] = [f"https://example.org/materials/{index}"]
        entry["type"] = rng.sample(types, rng.randint(1, 2))
        entry["description"] = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 80)))
        entry["authors"] = [
            {"name": f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"}
            for _ in range(rng.randint(1, 4))
        ]
        if license_id := rng.choice(LICENSES):
            entry["license"] = license_id
        entry["language"] = ["en"]
        if rng.random() < 0.6:
            entry["levels"] = rng.sample(level_terms, 1)
        entry["tags"] = list(dict.fromkeys(rng.choice(tags) for _ in range(rng.randint(1, 5))))
        year, month, day = rng.randint(2015, 2025), rng.randint(1, 9), rng.randint(10, 28)
        entry["publication_date"] = f"{year}-0{month}-{day}"
        (directory / f"material-{index:05d}.yml").write_text(
            yaml.safe_dump(entry, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )


def _uuid(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def config_for(catalogue: Path, workdir: Path, *, auto_nav: bool = False) -> Path:
    """A copy of the repository's mkdocs.yml reading ``catalogue`` (absolute paths)."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"] = str(ROOT / config["docs_dir"])
    config["hooks"] = [str(ROOT / hook) for hook in config["hooks"]]
    config["theme"]["custom_dir"] = str(ROOT / config["theme"]["custom_dir"])
    fairio = config["extra"]["fairio"]
    fairio["catalogue"] = str(catalogue)
    fairio["tools"] = str(ROOT / fairio["tools"])
    fairio["workflows"] = str(ROOT / fairio["workflows"])
    if auto_nav:
        del config["nav"]
    path = workdir / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def measure_build(config: Path, site: Path, *, auto_nav: bool = False) -> dict:
    """Build in a child process (clean peak RSS); returns time, RSS and sizes."""
    code = (
        "import json,resource,sys;"
        "from fairio_tools.portal.build import build_site;"
        + (
            "import fairio_tools.portal.mkdocs_hooks as h;"
            "from mkdocs.structure.files import InclusionLevel as I;"
            "h.InclusionLevel=type('L',(),{'NOT_IN_NAV':I.UNDEFINED});"
            if auto_nav
            else ""
        )
        + "s=build_site(sys.argv[1],sys.argv[2]);"
        "print(json.dumps({'seconds':s.seconds,'pages':s.pages,'bytes':s.bytes,"
        "'rss_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-c", code, str(config), str(site)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    if result.returncode != 0:
        raise SystemExit(f"build failed:\n{result.stderr[-3000:]}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    data["wall"] = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    data["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    raw = b"".join(
        path.read_bytes()
        for path in (site / "assets" / "catalogue-index.js", site / "assets" / "pages-index.js")
        if path.exists()
    )  # what the search loads: the materials and the portal's pages
    data["index_bytes"], data["index_gzip_bytes"] = len(raw), len(gzip.compress(raw, 9))
    return data


QUERIES = ("segmentation", "omreo", "deep learning", "idr", "napari image analysis")
DEBOUNCE_MS = 120
"""The search waits this long after the last keystroke (catalogue-search.js) before ranking."""
READY_MARK, INDEX_MARK = "fairio:results", "fairio:index"  # set by assets/*.js


def _measure(box: str, query: str, attribute: str) -> str:
    """JavaScript: ms from typing a query into ``query`` to ``box`` setting ``attribute``
    (its results shown), less the debounce."""
    return f"""q => new Promise(resolve => {{
  const box = document.querySelector("{box}");
  const input = document.getElementById("{query}");
  let started = 0;
  const seen = new MutationObserver(() => {{
    seen.disconnect(); resolve(performance.now() - started - {DEBOUNCE_MS});
  }});
  box.removeAttribute("{attribute}");
  seen.observe(box, {{attributes: true, attributeFilter: ["{attribute}"]}});
  input.value = q; started = performance.now(); input.dispatchEvent(new Event("input"));
}})"""


_MEASURE_QUERY = _measure("#fairio-search", "fairio-query", "data-results")
_MEASURE_HEADER = _measure(".fairio-header-search", "fairio-header-query", "data-materials")


def browser_timings(site: Path) -> dict:
    """In Chromium: ms from navigation to the search page showing results (index loaded and
    built), and ms from the debounced query to its results, for each of :data:`QUERIES`."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from playwright.sync_api import sync_playwright

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/catalogue/search.html"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page()
            page.goto(url)
            # marks set by the page: the frame that paints the first results, the full-text
            # index built (after the page has loaded)
            page.wait_for_function(f"performance.getEntriesByName('{INDEX_MARK}').length")
            ready, indexed = (
                page.evaluate(f"performance.getEntriesByName('{mark}')[0].startTime")
                for mark in (READY_MARK, INDEX_MARK)
            )
            queries = {q: page.evaluate(_MEASURE_QUERY, q) for q in QUERIES}
            page.goto(url.replace("catalogue/search.html", "index.html"))
            header = [page.evaluate(_MEASURE_HEADER, q) for q in QUERIES[:2]]
            browser.close()
    finally:
        server.shutdown()
    return {"ready_ms": ready, "index_ms": indexed, "query_ms": queries, "header_ms": header}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--peer", action="store_true", help="also build with auto-nav")
    parser.add_argument(
        "--browser", action="store_true", help="also time the search page in Chromium"
    )
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    print(f"{'entries':>8} {'build s':>8} {'process s':>9} {'CPU s':>6} {'peak RSS':>9} "
          f"{'pages':>6} {'site MB':>8} {'index KB':>9} {'gzip KB':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="fairio-portal-bench-") as tmp:
        work = Path(tmp)
        for size in args.sizes:
            catalogue = work / f"catalogue-{size}"
            synthetic_catalogue(catalogue, size)
            config = config_for(catalogue, work)
            row = measure_build(config, work / f"site-{size}")
            print(
                f"{size:>8} {row['seconds']:>8.1f} {row['wall']:>9.1f} {row['cpu']:>6.1f} "
                f"{row['rss_mb']:>7.0f}MB "
                f"{row['pages']:>6} {row['bytes'] / 1e6:>8.1f} {row['index_bytes'] / 1e3:>9.0f} "
                f"{row['index_gzip_bytes'] / 1e3:>8.0f}"
            )
            if args.browser:
                timing = browser_timings(work / f"site-{size}")
                slowest = max(timing["query_ms"].values())
                print(
                    f"{'':>8} Chromium: search page shows results at {timing['ready_ms']:.0f} ms "
                    f"(full-text index built at {timing['index_ms']:.0f} ms); "
                    f"query to results (after the {DEBOUNCE_MS} ms debounce) "
                    f"max {slowest:.0f} ms: "
                    + ", ".join(f"{q!r} {ms:.0f}" for q, ms in timing["query_ms"].items())
                )
                first, second = timing["header_ms"]
                print(
                    f"{'':>8} Chromium header box: first query (loads the index) {first:.0f} ms, "
                    f"next query {second:.0f} ms"
                )
        if args.peer:
            real = ROOT / "portal" / "catalogue"
            ours = measure_build(config_for(real, work), work / "site-ours")
            peer_dir = work / "peer"
            peer_dir.mkdir()
            peer = measure_build(
                config_for(real, peer_dir, auto_nav=True), work / "site-peer", auto_nav=True
            )
            print(
                f"real catalogue ({real.name}, {ours['pages']} pages): "
                f"ours {ours['seconds']:.1f} s, {ours['bytes'] / 1e6:.1f} MB; "
                f"MkDocs auto-nav peer {peer['seconds']:.1f} s, {peer['bytes'] / 1e6:.1f} MB "
                f"(peer/ours: time x{peer['seconds'] / ours['seconds']:.1f}, "
                f"size x{peer['bytes'] / ours['bytes']:.1f})"
            )


if __name__ == "__main__":
    main()
