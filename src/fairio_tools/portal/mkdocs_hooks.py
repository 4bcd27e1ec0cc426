"""MkDocs event handlers: add the generated pages to the build, and index the portal's
pages for its search.

``portal/hooks.py`` (named in mkdocs.yml) re-exports these. Generated pages are not in
the nav: the nav lists the hand-written pages and the catalogue's entry points only, so
each of thousands of material pages does not carry a nav of thousands of links. Every
hand-written page and the generated pages made with ``search=True`` go into
``assets/pages-index.js`` (written into the site being built, after the pages).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import write_file

from fairio_tools.errors import FairioError
from fairio_tools.portal import page_index
from fairio_tools.portal.html import GeneratedPage
from fairio_tools.portal.site import PortalSources, generated_pages

log = logging.getLogger("mkdocs.plugins.fairio")
_bodies: dict[str, str] = {}
"""src_uri → finished HTML of the generated pages of the current build."""
_unlisted: set[str] = set()
"""Generated pages left out of the page search (materials, facets: the catalogue index has them)."""
_pages: list[dict[str, str]] = []
"""The page search's records of the current build."""


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Generate catalogue, tool and workflow pages from their sources."""
    root = Path(config.config_file_path).resolve().parent
    sources = PortalSources.from_mkdocs_extra(config.extra, root, config.site_url)
    try:
        pages = generated_pages(sources)
    except FairioError as error:
        raise PluginError(str(error)) from None
    _bodies.clear()
    _unlisted.clear()
    _pages.clear()
    for src_uri, content in pages.items():
        if files.get_file_from_path(src_uri) is not None:
            raise PluginError(f"generated page {src_uri} would replace a file in docs_dir")
        if isinstance(content, GeneratedPage):
            _bodies[src_uri] = content.html
            if not content.search:
                _unlisted.add(src_uri)
            content = content.markdown
        files.append(
            File.generated(config, src_uri, content=content, inclusion=InclusionLevel.NOT_IN_NAV)
        )
    log.info("fairio: generated %d pages from %s", len(pages), sources.catalogue)
    return files


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Generated pages: their HTML as made by fairio_tools.portal, not Markdown output."""
    content = _bodies.get(page.file.src_uri, html)
    if page.file.src_uri not in _unlisted:
        _pages.append(page_index.page_record(page.url, page.title or "", content))
    return content


def on_post_build(config: MkDocsConfig) -> None:
    """Write the page search's index beside the other assets."""
    script = page_index.pages_script(_pages)
    write_file(script.encode("utf-8"), os.path.join(config.site_dir, page_index.PATH))
