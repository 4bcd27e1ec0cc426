"""The portal's own pages in the search: hand-written pages and the generated pages that
ask for it (tools, workflows, learning paths, browse pages), as ``window.fairioPages``.

Materials are searched from the catalogue index (``assets/catalogue-index.js``); this index
adds every other page worth finding, so the header box and the catalogue search page search
materials and pages with one engine (``assets/search-engine.js``). Page text is taken from
the rendered HTML with lxml (scripts, such as JSON-LD, and styles left out).
"""

from __future__ import annotations

import json

import lxml.html

PATH = "assets/pages-index.js"


def page_record(url: str, title: str, content: str) -> dict[str, str]:
    """One page for the search: its URL (from the site root), title and plain text."""
    root = lxml.html.fragment_fromstring(content or "<p></p>", create_parent="div")
    for node in root.xpath("//script|//style"):
        node.drop_tree()
    return {"u": url, "n": title, "d": " ".join(" ".join(root.itertext()).split())}


def pages_script(records: list[dict[str, str]]) -> str:
    """The records as a script assigning JSON, so search also works from ``file://``."""
    ordered = sorted(records, key=lambda record: record["u"])
    data = json.dumps(ordered, ensure_ascii=False, separators=(",", ":"))
    return "window.fairioPages=" + data.replace("<", "\\u003c") + ";\n"
