"""What other sites and readers take from the portal: the newest materials as a page and an
Atom feed, and the versioned static JSON API (``api/v1/``).

Every function returns ``{site path: Markdown or asset text}``; nothing here knows MkDocs.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

from fairio_tools.catalogue.model import Entry
from fairio_tools.portal import html, materials
from fairio_tools.portal.html import GeneratedPage

NEW_PAGE = f"{materials.SECTION}/new.md"
FEED = "feed.xml"
API = "api/v1"
API_NAME = "fairio-portal/v1"
NEWEST = 50
"""Materials on the new-materials page and in the feed."""


def added_on(entry: Entry) -> str:
    """When the material came into the catalogue (else when it was published); '' if unknown."""
    return entry.submission_date or entry.publication_date or ""


def newest(entries: list[Entry], count: int = NEWEST) -> list[Entry]:
    """The ``count`` most recently added materials with a known date, newest first."""
    dated = [e for e in entries if added_on(e)]
    return sorted(dated, key=lambda e: (added_on(e), e.id), reverse=True)[:count]


def feed_pages(
    entries: list[Entry], site_url: str | None, index: dict
) -> dict[str, GeneratedPage | str]:
    """The new-materials page, the Atom feed and the JSON API (``index``: the search index)."""
    latest = newest(entries)
    items = "".join(
        f"<li>{html.link(html.relative_url(NEW_PAGE, materials.material_path(e.id)), e.name)} "
        f'<span class="fairio-meta">({html.text(", ".join(e.type_labels) or "no type")}, '
        f"{html.text(added_on(e))})</span></li>"
        for e in latest
    )
    feed_link = html.link(html.relative_url(NEW_PAGE, FEED), "Atom feed")
    body = (
        f"<p>The {len(latest)} materials added or published most recently. "
        f"Follow them in a feed reader: {feed_link}.</p>"
        f'<ol class="fairio-list">{items}</ol>'
    )
    return {
        NEW_PAGE: html.page("New materials", body),
        FEED: atom_feed(latest, site_url or ""),
        **api_files(entries, index),
    }


def atom_feed(latest: list[Entry], site_url: str) -> str:
    """An Atom 1.0 feed of ``latest``; links are absolute under ``site_url`` when it is set."""
    base = site_url.rstrip("/") + "/" if site_url else ""
    updated = _timestamp(added_on(latest[0])) if latest else "1970-01-01T00:00:00Z"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<title>fairio-tools portal: new training materials</title>",
        f"<id>{escape(base + FEED) if base else 'urn:fairio-tools:portal:feed'}</id>",
        f'<link rel="self" href={quoteattr(base + FEED)}/>',
        f"<link href={quoteattr(base + 'catalogue/new.html')}/>",
        f"<updated>{updated}</updated>",
        "<author><name>fairio-tools curators</name></author>",
    ]
    for entry in latest:
        page = base + materials.material_path(entry.id).removesuffix(".md") + ".html"
        parts += [
            "<entry>",
            f"<title>{escape(entry.name)}</title>",
            f"<id>urn:uuid:{escape(entry.uuid)}</id>" if entry.uuid else f"<id>{escape(page)}</id>",
            f"<link href={quoteattr(page)}/>",
            f"<updated>{_timestamp(added_on(entry))}</updated>",
            *(f"<category term={quoteattr(tag)}/>" for tag in entry.tags),
            f"<summary>{escape((entry.description or '')[:500])}</summary>"
            if entry.description
            else "",
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(part for part in parts if part) + "\n"


def api_files(entries: list[Entry], index: dict) -> dict[str, str]:
    """``api/v1/materials.json`` (every entry as stored, with its page) and
    ``api/v1/search-index.json`` (what the portal's search ranks and filters)."""
    ordered = sorted(entries, key=lambda e: e.id)
    records = [
        {
            "id": e.id,
            "page": materials.material_path(e.id).removesuffix(".md") + ".html",
            **e.to_dict(),
        }
        for e in ordered
    ]
    return {
        f"{API}/materials.json": json_text({"api": API_NAME, "materials": records}),
        f"{API}/search-index.json": json_text({"api": API_NAME, **index}),
    }


def json_text(data: dict) -> str:
    """Compact JSON for the API; ``<`` escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c") + "\n"  # never markup, wherever it is pasted


def _timestamp(date: str) -> str:
    """An RFC 3339 timestamp for a catalogue date (YYYY, YYYY-MM or YYYY-MM-DD)."""
    year, month, day = [*date.split("-"), "01", "01"][:3]
    return f"{year}-{month}-{day}T00:00:00Z"
