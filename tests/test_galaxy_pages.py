"""Portal pages of our Galaxy tools and workflows: how to run them in Galaxy."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from fairio_tools.errors import InputError
from fairio_tools.galaxy.artifacts import find_tools, find_workflows
from fairio_tools.portal import galaxy_pages
from fairio_tools.portal.site import PortalSources, generated_pages
from tests.conftest import ROOT


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: dict[str, str] = {}  # text -> href
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data):
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href
            self._href = None


def _links(page_html: str) -> dict[str, str]:
    parser = _Links()
    parser.feed(page_html)
    return parser.links


@pytest.fixture(scope="module")
def pages():
    extra = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["extra"]
    extra["fairio"]["galaxy"] = "https://galaxy.example.org/"
    return generated_pages(PortalSources.from_mkdocs_extra(extra, ROOT))


@pytest.mark.parametrize("path", find_tools(ROOT / "tools"), ids=lambda p: p.stem)
def test_every_tool_page_opens_the_tool_in_galaxy_by_its_tool_shed_id(pages, path):
    tool = galaxy_pages.read_tool(path)
    shed = yaml.safe_load((path.parent / ".shed.yml").read_text())
    version = re.search(r'version="([^"]+)"', path.read_text()).group(1)
    suffix = re.search(r'@VERSION_SUFFIX@">(\d+)<', path.read_text()).group(1)
    macros = (path.parent / "macros.xml").read_text()
    tool_version = re.search(r'@TOOL_VERSION@">([^<]+)<', macros).group(1)
    expected = (
        f"toolshed.g2.bx.psu.edu/repos/{shed['owner']}/{shed['name']}/{tool.id}/"
        + version.replace("@TOOL_VERSION@", tool_version).replace("@VERSION_SUFFIX@", suffix)
    )
    link = urlsplit(_links(pages[tool.page].html)["Open in Galaxy"])
    assert (link.scheme, link.netloc, link.path) == ("https", "galaxy.example.org", "/tool_runner")
    assert parse_qs(link.query) == {"tool_id": [expected]}
    assert f"<code>{expected}</code>" in pages[tool.page].html


@pytest.mark.parametrize("path", find_workflows(ROOT / "workflows"), ids=lambda p: p.stem)
def test_every_workflow_page_offers_its_ga_and_import_steps(pages, path):
    page = pages[f"workflows/{path.stem}.md"].html
    download = _links(page)[f"Download {path.name}"]
    assert download == path.name  # next to the page
    assert json.loads(pages[f"workflows/{path.name}"]) == json.loads(path.read_text())
    assert "Workflows → Import" in page
    assert _links(page)["Workflows"] == "https://galaxy.example.org/workflows/list"


def test_the_galaxy_setting_must_be_an_http_address():
    extra = {"fairio": {"galaxy": "javascript:alert(1)"}}
    with pytest.raises(InputError, match="not an http"):
        PortalSources.from_mkdocs_extra(extra, ROOT)
    assert PortalSources.from_mkdocs_extra({}, ROOT).galaxy == "http://127.0.0.1:8080"


def test_bibtex_citations_render_as_references_with_their_doi(pages):
    page = pages["tools/fairio_label_image.md"].html
    assert "<pre>" not in page.split("<h2>Citations</h2>")[1]
    assert "Otsu, Nobuyuki (1979). A Threshold Selection Method from Gray-Level Histograms." in page
    assert "van der Walt, Stéfan; Schönberger, Johannes L.; Nunez-Iglesias, Juan et al." in page
    assert (
        _links(page)["doi:10.1109/TSMC.1979.4310076"] == "https://doi.org/10.1109/TSMC.1979.4310076"
    )
