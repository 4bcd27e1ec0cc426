"""Escaping for generated pages: every catalogue or tool value goes through here.

Generated pages are Markdown files whose body is one raw HTML block, so Markdown never
interprets catalogue text (no ``[x](javascript:...)`` links sneaking in), and every value
is HTML-escaped. URLs are emitted only when they are http(s).
"""

from __future__ import annotations

import html
import re

import yaml

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


def link(href: str, label: str) -> str:
    """A link to a page of the site (``href`` is generated, never taken from input)."""
    return f'<a href="{text(href)}">{text(label)}</a>'


def front_matter(title: str, *, search: bool = False) -> str:
    """YAML front matter: the title as escaped HTML (the theme prints it unescaped)."""
    meta: dict[str, object] = {"title": text(title)}
    if not search:
        meta["search"] = {"exclude": True}
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n\n"


def page(title: str, body: str, *, search: bool = False) -> str:
    """A generated Markdown page: front matter, an H1, then one raw HTML block."""
    meta = front_matter(title, search=search)
    return f'{meta}<div class="fairio-page">\n<h1>{text(title)}</h1>\n{body}\n</div>\n'
