"""Put untrusted text into Markdown so that it renders as text and nothing else.

Catalogue entries come from pull requests; their titles and URLs end up in review comments,
curator issues and portal pages. Escaped text cannot become a link, an image, HTML or an
@-mention.
"""

from __future__ import annotations

import re

_SPECIALS = re.compile(r"([\\`*_\[\]()!|<>~:])")
"""Enough to stop emphasis, links, images, HTML, tables and URL autolinks."""


def inline_text(text: str) -> str:
    """``text`` on one line, Markdown and HTML specials escaped, mentions defused."""
    text = _SPECIALS.sub(r"\\\1", re.sub(r"\s+", " ", text))
    text = re.sub(r"(?i)\bwww\.", r"www\\.", text)  # no www. autolink
    return text.replace("@", "@\u200b")  # a zero-width space: no @-mention


def inline_code(text: str) -> str:
    """``text`` as a code span that is safe inside a table cell."""
    return "`" + " ".join(text.split()).replace("`", "'").replace("|", "\\|") + "`"


def table_cell(text: str) -> str:
    """Our messages mark values with backticks: those stay code, the rest is escaped."""
    text = " ".join(text.split())
    if text.count("`") % 2:
        return inline_text(text)
    parts = text.split("`")
    return "".join(
        inline_code(part) if index % 2 else inline_text(part) for index, part in enumerate(parts)
    )
