"""Put untrusted text into Markdown so that it renders as text and nothing else.

Catalogue entries come from pull requests; their titles and URLs end up in review comments,
curator issues and portal pages. Escaped text cannot become a link, an image, HTML, an HTML
entity, math or an @-mention, cannot break out of its line, and cannot reorder the text around
it: control and format characters (bidi overrides and isolates, zero-width characters, the
byte-order mark, C0/C1 controls) are shown as visible ``\\uXXXX`` escapes ("Trojan Source").
"""

from __future__ import annotations

import re
import unicodedata

_SPECIALS = re.compile(r"([\\`*_\[\]()!|<>~:#&$])")
"""Enough to stop emphasis, links, images, HTML, entities, tables, math, issue references and
URL autolinks."""
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
"""Unicode categories shown as escapes: controls, format (bidi, zero-width), surrogates,
private use, line and paragraph separators."""


def visible(text: str) -> str:
    """``text`` with whitespace runs made one space and invisible characters made ``\\uXXXX``."""
    return "".join(
        (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        if unicodedata.category(c) in _INVISIBLE
        else c
        for c in re.sub(r"\s+", " ", text)
    )


def inline_text(text: str) -> str:
    """``text`` on one line, Markdown and HTML specials escaped, mentions defused."""
    text = _SPECIALS.sub(r"\\\1", visible(text))
    text = re.sub(r"(?i)\bwww\.", r"www\\.", text)  # no www. autolink
    text = re.sub(r"#(?=\d)", "#\u200b", text)  # no issue reference (#123)
    return text.replace("@", "@\u200b")  # a zero-width space: no @-mention


def inline_code(text: str) -> str:
    """``text`` as a code span that is safe inside a table cell."""
    return "`" + visible(text).strip().replace("`", "'").replace("|", "\\|") + "`"


def table_cell(text: str) -> str:
    """Our messages mark values with backticks: those stay code, the rest is escaped."""
    text = visible(text).strip()
    if text.count("`") % 2:
        return inline_text(text)
    parts = text.split("`")
    return "".join(
        inline_code(part) if index % 2 else inline_text(part) for index, part in enumerate(parts)
    )
