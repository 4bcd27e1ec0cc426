"""The portal: strict MkDocs build of the real catalogue, links, JSON-LD, injection, browser.

The site is built once from the committed catalogue (imported from the real NFDI4BIOIMAGE
sample) with plain ``mkdocs build --strict``, into build/ so that linkchecker, which drops
root privileges to ``nobody``, can read it.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import rdflib
import yaml

from fairio_tools.catalogue.store import load_catalogue
from tests.conftest import ROOT, run_fairio

WORK = ROOT / "build" / "pytest-portal"
BIN = Path(sys.executable).parent
SDO = rdflib.Namespace("https://schema.org/")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
KNOWN = "omero-walkthrough-for-facility-managers"
GONE_URL = "https://example.org/moved-away"
NASTY_NAME = '</title><script>alert("name")</script> & <img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def site() -> Path:
    """The real catalogue's site, built by MkDocs itself (strict)."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    WORK.chmod(0o755)
    target = WORK / "site"
    result = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1"}
        | {k: v for k, v in os.environ.items() if k == "PYTHONPATH"},  # a checkout's sources
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr
    return target


def portal_config(
    directory: Path, catalogue: Path, workflows: Path, links_state: Path | None = None
) -> Path:
    """A copy of mkdocs.yml that builds another catalogue (absolute paths)."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["docs_dir"] = str(ROOT / config["docs_dir"])
    config["hooks"] = [str(ROOT / hook) for hook in config["hooks"]]
    config["theme"]["custom_dir"] = str(ROOT / config["theme"]["custom_dir"])
    config["extra"]["fairio"] = {
        "catalogue": str(catalogue),
        "tools": str(ROOT / "tools"),
        "workflows": str(workflows),
        "links_state": str(links_state or directory / "no-links-state.jsonl"),
    }
    path = directory / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def json_ld_blocks(page: str) -> list[str]:
    return re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)


def test_every_material_has_a_page_outside_the_nav(site):
    entries = load_catalogue(ROOT / "portal" / "catalogue").entries
    pages = sorted((site / "catalogue" / "materials").glob("*.html"))
    assert sorted(p.stem for p in pages) == sorted(e.id for e in entries)
    page = (site / "catalogue" / "materials" / f"{KNOWN}.html").read_text()
    assert "<h1>OMERO walkthrough for facility managers</h1>" in page
    assert page.count("materials/") < 5  # no nav listing the other materials
    assert len(page) < 40_000
    for facet_page in ("type/documentation", "level/competent", "license/bsd-2-clause", "tags"):
        assert (site / "catalogue" / f"{facet_page}.html").is_file()


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_material_json_ld_has_the_bioschemas_minimum(site):
    pages = sorted((site / "catalogue" / "materials").glob("*.html"))
    for path in pages:
        blocks = json_ld_blocks(path.read_text())
        assert len(blocks) == 1, path
        graph = rdflib.Graph().parse(data=blocks[0], format="json-ld")
        (node,) = graph.subjects(rdflib.RDF.type, SDO.LearningResource)
        for prop in (SDO.name, SDO.description, SDO.keywords):
            assert str(graph.value(node, prop) or "").strip(), (path.name, prop)
        profile = graph.value(node, DCT.conformsTo)
        assert str(profile) == "https://bioschemas.org/profiles/TrainingMaterial/1.0-RELEASE"


def test_every_material_page_is_valid_bioschemas_training_material(site, shared_data):
    """The JSON-LD of every page against the TrainingMaterial 1.0 profile's own JSON Schema:
    required properties, single values where it says one, full dates; no invented text."""
    import jsonschema

    profile = json.loads(
        (shared_data / "schemas/bioschemas/TrainingMaterial_v1.0-RELEASE.json").read_text()
    )["@graph"][0]["$validation"]
    formats = jsonschema.FormatChecker()  # the profile's oneOf string / uri needs "uri" checked

    @formats.checks("uri")
    def is_uri(value: object) -> bool:
        parts = urlsplit(str(value))
        return bool(parts.scheme and parts.netloc) and " " not in str(value)

    validator = jsonschema.Draft7Validator(profile, format_checker=formats)
    single = [name for name, prop in profile["properties"].items()
              if prop.get("owl:cardinality") == "one"]  # fmt: skip
    entries = {e.id: e for e in load_catalogue(ROOT / "portal" / "catalogue").entries}
    pages = sorted((site / "catalogue" / "materials").glob("*.html"))
    assert len(pages) == len(entries)
    for path in pages:
        node = json.loads(json_ld_blocks(path.read_text())[0])
        errors = [e.message for e in validator.iter_errors(node)]
        assert not errors, (path.name, errors)
        assert all(not isinstance(node.get(name), list) for name in single), path.name
        entry = entries[path.stem]
        if entry.description:
            assert node["description"] == entry.description
        else:  # the profile requires one: the record's own fields, marked as such
            assert node["description"].startswith("Catalogue record, no description given")
        if entry.language:
            assert node["inLanguage"] == list(entry.language)
        if entry.publication_date and len(entry.publication_date) < 10:
            assert "datePublished" not in node
            assert node["copyrightYear"] == int(entry.publication_date[:4])


def test_key_facts_come_before_the_description(site):
    entry = next(
        e
        for e in sorted(load_catalogue(ROOT / "portal" / "catalogue").entries, key=lambda e: e.id)
        if e.description and e.levels and e.language and e.license and e.type
    )
    page = (site / "catalogue" / "materials" / f"{entry.id}.html").read_text()
    facts = page.index('class="fairio-facts"')
    first_paragraph = entry.description.split("\n\n")[0]
    assert facts < page.index("<p>" + html.escape(" ".join(first_paragraph.split())[:40]))
    for label in ("Type", "Level", "Licence", "Language"):
        assert page.index(f"<th>{label}</th>") < page.index("</table>")


def test_learning_path_page_lists_its_materials_in_order_with_course_markup(site):
    source = ROOT / "portal/learning-paths/image-data-management-for-core-facilities.yml"
    path = yaml.safe_load(source.read_text())
    ordered = [i for step in path["steps"] for i in step["materials"]]
    entries = {e.id: e for e in load_catalogue(ROOT / "portal" / "catalogue").entries}
    page = (site / "learning-paths" / f"{source.stem}.html").read_text()
    linked = re.findall(r'href="\.\./catalogue/materials/([^"]+)\.html"', page)
    assert linked == ordered
    node = json.loads(json_ld_blocks(page)[0])
    assert node["@type"] == ["Course", "LearningResource"]
    assert [part["url"] for part in node["hasPart"]] == [entries[i].link for i in ordered]
    assert node["educationalLevel"] == "Advanced beginner"
    assert node["coursePrerequisites"] == path["prerequisites"]
    api = json.loads((site / "api/v1/learning-paths.json").read_text())
    assert [p["id"] for p in api["learning_paths"]] == [source.stem]
    assert source.stem in (site / "learning-paths" / "index.html").read_text()


def test_learning_path_naming_an_unknown_material_or_leaving_its_folder_is_refused(tmp_path):
    from fairio_tools.errors import InputError
    from fairio_tools.portal.learning_paths import read_learning_paths

    entries = load_catalogue(ROOT / "portal" / "catalogue").entries
    folder = tmp_path / "paths"
    folder.mkdir()
    step = {"title": "Plan", "why": "First.", "materials": [entries[0].id, "no-such-material"]}
    (folder / "bad.yml").write_text(
        yaml.safe_dump({"name": "A", "goal": "B", "level": "novice", "steps": [step]})
    )
    with pytest.raises(InputError, match="no catalogue entry no-such-material") as error:
        read_learning_paths(folder, entries)
    assert error.value.path == str(folder / "bad.yml")
    (folder / "bad.yml").unlink()
    outside = tmp_path / "outside.yml"
    outside.write_text("name: secret\n")
    (folder / "link.yml").symlink_to(outside)
    with pytest.raises(InputError, match="link"):
        read_learning_paths(folder, entries)


def test_sitemap_lists_every_page_under_the_site_url(site):
    from xml.etree import ElementTree

    site_url = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["site_url"]
    tree = ElementTree.parse(site / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    listed = {loc.text for loc in tree.getroot().findall("s:url/s:loc", ns)}
    pages = {
        site_url + path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if path.name != "404.html"
    }
    assert pages and listed == pages


def test_search_index_holds_whole_descriptions(site):
    script = (site / "assets" / "catalogue-index.js").read_text()
    index = json.loads(script.removeprefix("window.fairioCatalogue=").rstrip().rstrip(";"))
    by_id = {record["i"]: record for record in index["entries"]}
    entries = load_catalogue(ROOT / "portal" / "catalogue").entries
    long = [e for e in entries if e.description and len(e.description) > 1000]
    assert long
    for entry in long:
        assert by_id[entry.id]["d"] == " ".join(entry.description.split())


def test_linkchecker_finds_no_broken_internal_link(site):
    result = subprocess.run(
        [str(BIN / "linkchecker"), "--no-status", "--no-warnings", "--threads", "4",
         (site / "index.html").as_uri()],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    checked = int(re.search(r"(\d+) links? in \d+ URLs checked", result.stdout).group(1))
    assert checked > len(list((site / "catalogue" / "materials").glob("*.html")))
    assert "0 errors found" in result.stdout


def test_admin_guide_and_security_page_are_in_the_portal(site):
    """docs/admin.md and SECURITY.md are portal pages (symlinked into portal/docs), in the nav,
    and the guide's links into the security page resolve (the build is strict)."""
    assert (ROOT / "portal/docs/admin.md").resolve() == (ROOT / "docs/admin.md").resolve()
    admin = (site / "admin.html").read_text()
    security = (site / "security.html").read_text()
    for needed in ("job_conf.yml", "GALAXY_SLOTS", "galaxy_packages", "shed-tools install"):
        assert needed in admin, needed
    assert 'href="security.html#limits-and-how-to-change-them"' in admin
    assert 'id="limits-and-how-to-change-them"' in security
    assert "FAIRIO_ALLOW_MODEL_CODE" in security
    index = (site / "index.html").read_text()
    assert 'href="admin.html"' in index and 'href="security.html"' in index


def test_tool_page_from_galaxy_xml(site):
    page = (site / "tools" / "fairio_image_info.html").read_text()
    assert "<h1>Image metadata (fairio)</h1>" in page
    assert "<code>fairio_image_info</code>" in page
    assert "https://edamontology.org/topic_3383" in page
    assert "https://doi.org/10.1038/s41592-021-01326-w" in page
    assert "tiff,ome.tiff,png,jpg" in page  # the input's formats
    assert "Training materials" in page and "../catalogue/materials/" in page
    assert "<script>" not in page.split('<div class="fairio-help">')[1].split("</div>")[0]


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.hrefs: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        self.handlers += [name for name in attrs if name.startswith("on")]


@pytest.fixture(scope="module")
def small_site() -> Path:
    """A site from one real entry, one malicious entry, one whose only link died (a
    link-health state says so) and one workflow."""
    work = WORK / "small"
    shutil.rmtree(work, ignore_errors=True)
    catalogue = work / "catalogue"
    catalogue.mkdir(parents=True)
    shutil.copy(ROOT / "portal" / "catalogue" / f"{KNOWN}.yml", catalogue)
    nasty = {
        "name": NASTY_NAME,
        "urls": ["https://example.org/x?a=1&b=2"],
        "type": ["tutorial"],
        "description": "[click](javascript:alert(2)) <script>alert(3)</script>",
        "tags": ["<b>bold</b>", "javascript:alert(4)"],
        "authors": [{"name": '"><svg onload=alert(5)>'}],
        "learning_outcomes": ["</script><script>alert(6)</script>"],
    }
    (catalogue / "nasty.yml").write_text(yaml.safe_dump(nasty))
    gone = {"name": "Gone tutorial", "urls": [GONE_URL], "type": ["tutorial"]}
    (catalogue / "gone.yml").write_text(yaml.safe_dump(gone))
    state = work / "links-state.jsonl"
    dead = {"url": GONE_URL, "status": "broken", "since": "2026-09-01", "failures": 4}
    state.write_text(json.dumps(dead | {"deprecated": "2026-09-22"}) + "\n")
    workflows = work / "workflows"
    workflows.mkdir()
    (workflows / "convert.ga").write_text(json.dumps(_workflow()))
    config = portal_config(work, catalogue, workflows, state)
    result = run_fairio("portal", "build", "--config", config, "--site-dir", work / "site")
    assert result.returncode == 0, result.stderr
    return work / "site"


def test_javascript_url_stops_the_build(tmp_path):
    work = WORK / "evil"
    shutil.rmtree(work, ignore_errors=True)
    catalogue = work / "catalogue"
    catalogue.mkdir(parents=True)
    (catalogue / "evil-url.yml").write_text(
        yaml.safe_dump({"name": "x", "urls": ["javascript:alert(1)"], "type": ["video"]})
    )
    config = portal_config(work, catalogue, work / "workflows")
    failed = run_fairio("portal", "build", "--config", config, "--site-dir", work / "site")
    assert failed.returncode == 2
    assert len(failed.stderr.strip().splitlines()) == 2  # progress line + the error
    assert "evil-url.yml: urls[0]: 'javascript:alert(1)' is not an http(s) URL" in failed.stderr
    assert not (work / "site").exists()
    assert not list(work.glob(".site-*"))


def test_markup_in_entries_is_inert(small_site):
    page = (small_site / "catalogue" / "materials" / "nasty.html").read_text()
    parser = _Scripts()
    parser.feed(page)
    assert parser.handlers == []
    assert not [h for h in parser.hrefs if h.lower().startswith("javascript")]
    plain = _Scripts()
    plain.feed((small_site / "catalogue" / "materials" / f"{KNOWN}.html").read_text())
    assert parser.scripts == plain.scripts  # the theme's and the JSON-LD, nothing more
    assert {"type": "application/ld+json"} in parser.scripts
    for raw in ("<script>alert", "<img src=x", "<svg onload", "<b>bold"):
        assert raw not in page
    assert "&lt;/title&gt;&lt;script&gt;" in page.split("<title>")[1].split("</title>")[0]
    (block,) = json_ld_blocks(page)
    assert json.loads(block)["name"] == NASTY_NAME


def test_deprecated_material_keeps_its_page_with_a_banner(small_site):
    gone = (small_site / "catalogue" / "materials" / "gone.html").read_text()
    assert "Every link of this material has failed" in gone and "2026-09-22" in gone
    known = (small_site / "catalogue" / "materials" / f"{KNOWN}.html").read_text()
    assert "fairio-deprecated" not in known
    index = (small_site / "assets" / "catalogue-index.js").read_text()
    records = json.loads(index.removeprefix("window.fairioCatalogue=").rstrip(";\n"))["entries"]
    assert {r["i"] for r in records if r.get("x")} == {"gone"}


def test_workflow_page_has_diagram_and_steps(small_site):
    workflow = (small_site / "workflows" / "convert.html").read_text()
    assert '<pre class="mermaid"><code>flowchart LR' in workflow
    assert "s0 --&gt; s1" in workflow
    assert "#60;b#62;" in workflow  # a label's markup is text in the diagram too
    assert '<ol class="fairio-steps">' in workflow  # the same steps without JavaScript
    assert '<a href="../tools/fairio_image_info.html">' in workflow
    assert '<script src="../assets/vendor/mermaid/mermaid.min.js">' in workflow
    assert (small_site / "assets" / "vendor" / "mermaid" / "mermaid.min.js").is_file()


def _workflow() -> dict:
    return {
        "a_galaxy_workflow": "true",
        "format-version": "0.1",
        "name": "Inspect <b>images</b>",
        "annotation": "Report metadata of an image collection.",
        "license": "MIT",
        "steps": {
            "0": {"id": 0, "type": "data_input", "label": "Image <b>", "input_connections": {}},
            "1": {
                "id": 1,
                "type": "tool",
                "label": "Image metadata",
                "tool_id": "fairio_image_info",
                "input_connections": {"input": {"id": 0, "output_name": "output"}},
            },
        },
    }


@pytest.mark.browser
def test_search_facets_tool_and_workflow_pages_in_chromium(site, small_site):
    from playwright.sync_api import sync_playwright

    shots = ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    handler = partial(_QuietHandler, directory=str(WORK))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    base = f"{origin}/{site.relative_to(WORK)}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=[
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync",
                ],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/catalogue/search.html")
            results = page.locator("#fairio-results > li")
            everything = int(page.get_attribute("#fairio-search", "data-results"))
            pages = len(list((site / "catalogue" / "materials").glob("*.html")))
            assert everything == pages - len(_version_pairs())  # one result per group

            links = sorted({
                href for path in site.rglob("*.html")
                for href in re.findall(r'href="((?:\.\./)*(?:catalogue/)?search\.html\?[^"]+)"',
                                       path.read_text())
            })  # fmt: skip
            assert len(links) >= 5  # the Getting-started page's own
            for number, href in enumerate(links):
                page.goto(f"{base}/catalogue/search.html{href[href.index('?') :]}")
                page.wait_for_function(
                    f"document.querySelector('#fairio-search').dataset.results < {everything}"
                )
                assert int(page.get_attribute("#fairio-search", "data-results")) > 0, href
                assert not page.is_checked("#__search"), href  # the theme's overlay stays shut
                page.screenshot(path=str(shots / f"portal-search-link-{number}.png"))
            for query, wanted in _held_out_queries():
                page.goto(f"{base}/catalogue/search.html?{urlencode({'query': query})}")
                page.wait_for_selector("#fairio-search[data-results]")
                top = results.locator("a").all_inner_texts()[:10]
                assert wanted in top, (query, wanted, top)
            page.goto(f"{base}/catalogue/search.html")

            page.fill("#fairio-query", "omero")
            page.wait_for_function(
                f"document.querySelector('#fairio-search').dataset.results < {everything}"
            )
            omero = int(page.get_attribute("#fairio-search", "data-results"))
            assert 3 < omero < everything
            page.fill("#fairio-query", "OMERO walkthrough facility")
            page.wait_for_function("document.querySelector('#fairio-search').dataset.results < 10")
            assert (
                results.first.locator("a").inner_text() == "OMERO walkthrough for facility managers"
            )
            page.screenshot(path=str(shots / "portal-search.png"), full_page=True)

            page.fill("#fairio-query", "omero")
            page.wait_for_function(
                f"document.querySelector('#fairio-search').dataset.results == {omero}"
            )
            page.check('#fairio-facets input[data-facet="type"][value="document"]')
            page.wait_for_function(
                f"document.querySelector('#fairio-search').dataset.results < {omero}"
            )
            filtered = results.locator("a").all_inner_texts()
            assert "OMERO walkthrough for facility managers" in filtered
            assert all("Document" in m for m in results.locator(".fairio-meta").all_inner_texts())
            assert "type=document" in page.url and "q=omero" in page.url
            page.screenshot(path=str(shots / "portal-facet.png"), full_page=True)

            page.click("text=OMERO walkthrough for facility managers")
            page.wait_for_url(f"**/materials/{KNOWN}.html")
            assert (
                page.locator("h1").first.inner_text() == "OMERO walkthrough for facility managers"
            )

            page.goto(f"{base}/tools/index.html")
            page.click("text=Image metadata (fairio)")
            page.wait_for_url("**/tools/fairio_image_info.html")
            assert page.locator("h1").first.inner_text() == "Image metadata (fairio)"
            assert page.locator("table").nth(1).inner_text().count("tiff") >= 1
            page.screenshot(path=str(shots / "portal-tool.png"), full_page=True)

            page.goto(f"{origin}/{small_site.relative_to(WORK)}/catalogue/search.html")
            assert page.get_attribute("#fairio-search", "data-results") == "2"
            assert "Gone tutorial" not in results.locator("a").all_inner_texts()
            page.check("#fairio-deprecated")
            page.wait_for_function("document.querySelector('#fairio-search').dataset.results == 3")
            assert "Gone tutorial" in results.locator("a").all_inner_texts()
            assert "deprecated=1" in page.url

            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{origin}/{small_site.relative_to(WORK)}/workflows/convert.html")
            # mkdocs-material swaps the <pre> for a <div> once Mermaid drew the SVG (in a
            # closed shadow root); Mermaid came from the site, not from a CDN
            page.wait_for_selector("div.mermaid")
            assert page.locator("pre.mermaid").count() == 0
            page.screenshot(path=str(shots / "portal-workflow.png"), full_page=True)
            assert [url for url in requests if not url.startswith(origin)] == []
            assert errors == []
            browser.close()
    finally:
        server.shutdown()
    assert all(
        (shots / f"portal-{n}.png").stat().st_size > 10_000 for n in ("search", "facet", "tool")
    )


def _launch(playwright):
    return playwright.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True,
        args=["--headless", "--no-sandbox", "--disable-gpu"],
    )  # fmt: skip


@pytest.mark.browser
def test_header_search_is_the_catalogue_search_over_materials_and_pages(site):
    """Typing in the header box of an ordinary page finds a material and a portal page; Enter
    opens catalogue/search.html?q=... with the results and no overlay; versions of one
    material are one result there, the others listed under it."""
    from playwright.sync_api import sync_playwright

    query = "omero"
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    material_names = {
        e.name for e in load_catalogue(ROOT / "portal" / "catalogue").entries
        if query in e.name.casefold()
    }  # fmt: skip
    try:
        with sync_playwright() as playwright:
            browser = _launch(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/getting-started.html")
            page.fill("#fairio-header-query", query)
            page.wait_for_selector("#fairio-header-results:not([hidden]) li")
            box = page.locator("#fairio-header-results")
            shown = box.locator(".fairio-header-material a").all_inner_texts()
            assert set(shown) & material_names, shown
            page_links = box.locator(".fairio-header-page a").all()
            assert page_links
            for link in page_links:  # a built page, not a material, that says the word
                path = urlsplit(link.get_attribute("href")).path.lstrip("/")
                assert not path.startswith("catalogue/materials/")
                assert query in html.unescape((site / path).read_text()).casefold(), path
            page.screenshot(path=str(ROOT / "build" / "screenshots" / "portal-header-search.png"))
            page.press("#fairio-header-query", "Enter")
            page.wait_for_url(f"**/catalogue/search.html?q={query}")
            page.wait_for_selector("#fairio-search[data-results]")
            assert int(page.get_attribute("#fairio-search", "data-results")) >= len(shown)
            assert int(page.get_attribute("#fairio-search", "data-pages")) >= len(page_links)
            assert page.locator("#fairio-pages a").count() > 0
            assert not page.is_checked("#__search")
            assert page.locator(".md-search").count() == 0  # the theme's search is gone

            for first, second in _version_pairs():
                name = page.evaluate("id => fairioCatalogue.entries.find(e => e.i === id).n", first)
                page.goto(f"{base}/catalogue/search.html?{urlencode({'q': name})}")
                page.wait_for_selector("#fairio-search[data-results]")
                results = page.locator("#fairio-results > li")
                hrefs = [
                    results.nth(i).locator("a").first.get_attribute("href")
                    for i in range(results.count())
                ]
                ids = {first, second}
                shown_ids = [h for h in hrefs if h.removeprefix("materials/")[:-5] in ids]
                assert len(shown_ids) == 1, (name, hrefs)  # one result for the pair
                item = results.nth(hrefs.index(shown_ids[0]))
                versions = item.locator(".fairio-versions")
                assert versions.inner_text().startswith("2 versions")
                (other,) = ids - {shown_ids[0].removeprefix("materials/")[:-5]}
                assert versions.locator("a").get_attribute("href") == f"materials/{other}.html"
            page.screenshot(path=str(ROOT / "build" / "screenshots" / "portal-versions.png"))
            assert errors == []
            browser.close()
    finally:
        server.shutdown()


def _version_pairs() -> list[tuple[str, str]]:
    """(id, id of its version) from the catalogue's files alone: ``<slug>-<8 hex>.yml`` next to
    an entry whose id starts with that slug, with the same title and a shared author."""
    entries = load_catalogue(ROOT / "portal" / "catalogue").entries
    pairs = []
    for entry in entries:
        slug = re.fullmatch(r"(.+)-[0-9a-f]{8}", entry.id)
        for other in entries if slug else ():
            if (
                other.id != entry.id
                and other.id.startswith(slug.group(1))
                and other.name.casefold() == entry.name.casefold()
                and {a.name for a in other.authors} & {a.name for a in entry.authors}
            ):
                pairs.append((other.id, entry.id))
    return sorted(pairs)


def test_versions_of_one_material_share_a_group_in_the_search_index(site):
    script = (site / "assets" / "catalogue-index.js").read_text()
    index = json.loads(script.removeprefix("window.fairioCatalogue=").rstrip().rstrip(";"))
    groups = {record["i"]: record["v"] for record in index["entries"] if "v" in record}
    pairs = _version_pairs()
    assert len(pairs) >= 5
    assert len(groups) == 2 * len(pairs)
    for first, second in pairs:
        assert groups[first] == groups[second]
    names: dict[str, list] = {}
    for entry in load_catalogue(ROOT / "portal" / "catalogue").entries:
        names.setdefault(entry.name.casefold(), []).append(entry)
    same_title = [
        group for group in names.values()
        if len(group) == 2
        and not {a.name for a in group[0].authors} & {a.name for a in group[1].authors}
    ]  # fmt: skip
    assert same_title  # two materials of one title by different people stay two results
    assert all(e.id not in groups for group in same_title for e in group)


def test_page_search_index_holds_the_portals_pages_not_the_materials(site):
    script = (site / "assets" / "pages-index.js").read_text()
    records = json.loads(script.removeprefix("window.fairioPages=").rstrip().rstrip(";"))
    urls = {record["u"] for record in records}
    hand_written = {
        p.relative_to(ROOT / "portal/docs").with_suffix(".html").as_posix()
        for p in (ROOT / "portal/docs").rglob("*.md")
        if "vendor" not in p.parts
    }
    assert hand_written <= urls
    for generated in ("tools/fairio_image_info.html", "workflows/fair-image-object.html",
                      "learning-paths/image-data-management-for-core-facilities.html"):  # fmt: skip
        assert generated in urls
    assert not [u for u in urls if u.startswith(("catalogue/materials/", "catalogue/tag/"))]
    tool = next(r for r in records if r["u"] == "tools/fairio_image_info.html")
    assert tool["n"] == "Image metadata (fairio)" and "tiff" in tool["d"]
    assert all("@context" not in r["d"] for r in records)  # JSON-LD is no page text


def _common_and_rare_tags(entries) -> tuple[str, str]:
    """The most held one-word tag that is some entry's only tag (held by more than a tenth of
    the entries, as a tag or a word of their text), and a one-word tag that two or three
    entries hold and no other entry's text has."""

    def text(entry) -> set[str]:
        whole = " ".join([entry.name, *entry.tags, entry.description or ""])
        return set(re.findall(r"[a-z0-9-]+", whole.casefold()))

    words = [text(e) for e in entries]
    tags = sorted({t.casefold() for e in entries for t in e.tags if " " not in t})
    holders = {t: sum(t in w for w in words) for t in tags}
    only = {e.tags[0].casefold() for e in entries if len(e.tags) == 1}
    common = max((t for t in tags if t in only), key=lambda t: (holders[t], t))
    rare = next(t for t in tags if 2 <= holders[t] <= 3)
    assert holders[common] > len(entries) / 10
    return common, rare


def test_related_materials_share_a_rare_tag_never_a_common_one():
    from fairio_tools.portal.related import Rarity, related_materials

    entries = load_catalogue(ROOT / "portal" / "catalogue").entries
    common, rare = _common_and_rare_tags(entries)
    rarity = Rarity(entries)
    assert related_materials(set(), {common}, entries, rarity) == []
    carriers = {e.id for e in entries if rare in {t.casefold() for t in e.tags}}
    found = related_materials(set(), {rare}, entries, rarity)
    assert carriers and {e.id for e in found} == carriers


def _section_links(page: str, title: str) -> list[str]:
    """The material ids a material page links to under the heading ``title``."""
    match = re.search(rf"<h2[^>]*>{title}</h2>\s*<ul>(.*?)</ul>", page, re.S)
    return re.findall(r'href="([\w.-]+)\.html"', match.group(1)) if match else []


def test_material_pages_list_their_versions_and_materials_sharing_a_rare_tag(site):
    materials = site / "catalogue" / "materials"
    for first, second in _version_pairs():
        page = (materials / f"{first}.html").read_text()
        assert second in _section_links(page, "Other versions"), first
        assert second not in _section_links(page, "Related materials"), first
    entries = load_catalogue(ROOT / "portal" / "catalogue").entries
    common, _ = _common_and_rare_tags(entries)
    tagged: dict[str, set[str]] = {}
    for entry in entries:
        for tag in {t.casefold() for t in entry.tags if " " not in t}:
            tagged.setdefault(tag, set()).add(entry.id)
    texts = [" ".join([e.name, *e.tags, e.description or ""]).casefold() for e in entries]
    # the rarest tag two materials carry (no other text has it): the strongest relation
    rare = min(
        (t for t, ids in tagged.items() if len(ids) >= 2),
        key=lambda t: (sum(bool(re.search(rf"\b{re.escape(t)}\b", x)) for x in texts), t),
    )
    carriers = sorted(tagged[rare])
    page = (materials / f"{carriers[0]}.html").read_text()
    assert set(carriers[1:]) & set(_section_links(page, "Related materials")), (rare, carriers)
    # an entry whose only tag is the common one shares nothing rare through it
    lonely = next(e for e in entries if [t.casefold() for t in e.tags] == [common])
    page = (materials / f"{lonely.id}.html").read_text()
    holders = {e.id for e in entries if common in {t.casefold() for t in e.tags}}
    for other in _section_links(page, "Related materials"):
        shared = {w for w in re.findall(r"[a-z0-9-]+", lonely.name.casefold())} & {
            w
            for w in re.findall(
                r"[a-z0-9-]+", next(e for e in entries if e.id == other).name.casefold()
            )
        }
        assert other not in holders or len(shared) >= 2, other


def _held_out_queries() -> list[tuple[str, str]]:
    """(query, title it must find in the top 10), computed from the catalogue itself: a typo,
    a stem, an acronym and a word that only the end of one long description holds."""
    entries = sorted(load_catalogue(ROOT / "portal" / "catalogue").entries, key=lambda e: e.id)

    def words(entry) -> set[str]:
        text = " ".join([entry.name, *entry.tags, entry.description or ""])
        return set(re.findall(r"[a-z]+", text.casefold()))

    counts: dict[str, int] = {}
    for entry in entries:
        for word in words(entry):
            counts[word] = counts.get(word, 0) + 1
    deep = next(
        (word, entry.name)
        for entry in entries
        if entry.description and len(entry.description) > 600
        for word in sorted(set(re.findall(r"[a-z]{8,}", entry.description[400:].casefold())))
        if counts[word] == 1 and word not in entry.description[:400].casefold()
    )

    def rare(entry, but: set[str]) -> str:
        """The name's word that fewest materials share (not one of ``but``)."""
        found = [w for w in re.findall(r"[a-z]{5,}", entry.name.casefold()) if w not in but]
        return min(found, key=lambda w: (counts[w], w))

    zarr = next(e for e in entries if "ome-zarr" in e.name.casefold() and "ngff" not in words(e))
    walkthrough = "OMERO walkthrough for facility managers"
    stemmed = next(
        e for e in entries if "segmentation" in words(e) and not words(e) & {"segmenting"}
    )
    return [
        ("omreo walkthrough", walkthrough),  # two letters swapped
        ("walktrough facility", walkthrough),  # one letter missing
        (f"segmenting {rare(stemmed, {'segmentation'})}", stemmed.name),
        (f"ngff {rare(zarr, {'zarr'})}", zarr.name),  # OME-Zarr is NGFF
        deep,
    ]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class _CorsHandler(_QuietHandler):
    """The portal's host as the API page asks it to be: ``Access-Control-Allow-Origin``."""

    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()


def test_api_v1_lists_every_material_and_the_feed_the_newest(site):
    from xml.etree import ElementTree

    entries = load_catalogue(ROOT / "portal" / "catalogue").entries
    api = json.loads((site / "api/v1/materials.json").read_text())
    assert api["api"] == "fairio-portal/v1"
    assert {m["id"] for m in api["materials"]} == {e.id for e in entries}
    assert all((site / m["page"]).is_file() for m in api["materials"])
    index = json.loads((site / "api/v1/search-index.json").read_text())
    assert {r["i"] for r in index["entries"]} == {e.id for e in entries}
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.parse(site / "feed.xml").getroot()
    dated = sorted((e.submission_date or e.publication_date or "" for e in entries), reverse=True)
    titles = [item.find(f"{atom}title").text for item in feed.findall(f"{atom}entry")]
    assert 0 < len(titles) <= 50
    newest = max(entries, key=lambda e: (e.submission_date or e.publication_date or "", e.id))
    assert titles[0] == newest.name and dated[0]
    assert "New materials" in (site / "catalogue" / "new.html").read_text()


@pytest.mark.browser
def test_on_a_phone_results_come_first_and_filters_behind_a_button(site):
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/catalogue/search.html")
            first = page.locator("#fairio-results > li").first
            first.wait_for()
            assert first.bounding_box()["y"] < 844  # on the first screen
            assert not page.is_visible("#fairio-facets")
            page.click("#fairio-filters-toggle")
            assert page.is_visible("#fairio-facets")
            assert page.get_attribute("#fairio-filters-toggle", "aria-expanded") == "true"
            browser.close()
    finally:
        server.shutdown()


@pytest.mark.browser
def test_embedded_search_on_another_origin_finds_a_material(site, tmp_path):
    """A page on a second loopback origin includes embed.js from the portal and searches."""
    from playwright.sync_api import sync_playwright

    portal = ThreadingHTTPServer(("127.0.0.1", 0), partial(_CorsHandler, directory=str(site)))
    portal_origin = f"http://127.0.0.1:{portal.server_address[1]}"
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><body><h1>A lab's own site</h1><div id='box'></div>"
        f"<script src='{portal_origin}/assets/embed.js' data-target='box'></script>"
        "</body></html>"
    )
    other = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(tmp_path)))
    servers = (portal, other)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )  # fmt: skip
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"http://localhost:{other.server_address[1]}/index.html")
            page.wait_for_selector("#box[data-ready]")
            page.fill("#box input", "omero walkthrough facility")
            page.wait_for_selector("#box li a")
            link = page.locator("#box li a").first
            assert link.inner_text() == "OMERO walkthrough for facility managers"
            assert link.get_attribute("href") == (
                f"{portal_origin}/catalogue/materials/{KNOWN}.html"
            )
            # the portal's own search, not a prefix match: two letters swapped still find it
            page.fill("#box input", "omreo walkthrough")
            page.wait_for_selector("#box li a")  # input events rank at once (no debounce)
            found = page.locator("#box li a").all_inner_texts()
            assert "OMERO walkthrough for facility managers" in found, found
            shots = ROOT / "build" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "portal-embed.png"))
            assert errors == []
            browser.close()
    finally:
        for server in servers:
            server.shutdown()


def test_serve_without_a_built_site(tmp_path):
    result = run_fairio("portal", "serve", "--site-dir", tmp_path / "site")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {tmp_path / 'site'}: no built portal here (run: fairio portal build)"
    ]


def test_build_without_configuration(tmp_path):
    result = run_fairio("portal", "build", "--config", tmp_path / "mkdocs.yml")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"fairio: error: {tmp_path / 'mkdocs.yml'}: MkDocs configuration not found "
        "(run from the repository root or pass --config)"
    )
