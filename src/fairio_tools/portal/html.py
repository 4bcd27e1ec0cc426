"""HTML for generated pages: every catalogue or tool value goes through here.

Generated pages are written as HTML, never as Markdown, so no catalogue text is interpreted
as markup (no ``[x](javascript:...)`` links sneaking in): every value is HTML-escaped and
URLs are emitted as links only when they are http(s).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

_HTTP_URL = re.compile(r"^https?://[^\s<>\"'`]+$")


def text(value: object) -> str:
    """``value`` as inert HTML text."""
    return html.escape(str(value), quote=True)


def paragraphs(value: str) -> str:
    """Plain text with blank-line paragraphs as ``<p>`` elements (no blank lines emitted)."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", value) if p.strip()]
    return "".join(f"<p>{text(' '.join(p.split()))}</p>" for p in parts)


def external_link(url: str, label: str | None = None) -> str:
    """A link to an external http(s) URL, or the escaped text when it is anything else."""
    if not _HTTP_URL.match(url):
        return text(label or url)
    return f'<a href="{text(url)}" rel="noopener">{text(label or url)}</a>'


def relative_url(here: str, target: str) -> str:
    """URL of page ``target`` relative to page ``here`` (site paths of ``.md`` sources).

    Pages are written as ``.html`` (``use_directory_urls: false``), so links also work
    when the site is opened from disk.
    """
    here_parts = here.split("/")[:-1]
    target_parts = target.split("/")
    common = 0
    while (
        common < len(here_parts)
        and common < len(target_parts) - 1
        and here_parts[common] == target_parts[common]
    ):
        common += 1
    path = "/".join([".."] * (len(here_parts) - common) + target_parts[common:])
    return path.removesuffix(".md") + ".html" if path.endswith(".md") else path


def link(href: str, label: str) -> str:
    """A link to a page of the site (``href`` is generated, never taken from input)."""
    return f'<a href="{text(href)}">{text(label)}</a>'


@dataclass(frozen=True)
class GeneratedPage:
    """A page made at build time: its title and its finished HTML body.

    MkDocs gets only the front matter as Markdown; the hooks hand it :attr:`html` as the
    rendered content, so catalogue text never passes through a Markdown parser. ``search``
    puts the page into the portal's page search (``page_index``).
    """

    title: str
    body: str
    search: bool = False

    @property
    def markdown(self) -> str:
        """Front matter only; the title is escaped HTML because the theme prints it raw."""
        # JSON strings are YAML strings, and json.dumps is fast for thousands of pages
        return f"---\ntitle: {json.dumps(text(self.title))}\n---\n"

    @property
    def html(self) -> str:
        return f'<div class="fairio-page">\n<h1>{text(self.title)}</h1>\n{self.body}\n</div>\n'


@dataclass(frozen=True)
class MaterialExtras:
    """What other parts of the portal add to a material's page: badges under its link,
    sections before its JSON-LD, more JSON-LD blocks, and marks for the search's filter."""

    badges: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    json_ld: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()


def page(title: str, body: str, *, search: bool = False) -> GeneratedPage:
    """A generated page; ``search`` lists it in the portal's page search."""
    return GeneratedPage(title, body, search)
