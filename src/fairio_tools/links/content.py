"""What a page says: its title and main text, normalised so only real edits change it.

The fingerprint ignores what changes on every visit without the material changing: markup,
scripts, navigation, headers and footers, dates and times, session tokens and other long
random-looking strings, and whitespace.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "nav", "header",
                          "footer", "aside", "form", "button", "select"})  # fmt: skip
MAIN_TAGS = ("main", "article")
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                       "meta", "param", "source", "track", "wbr"})  # fmt: skip

VOLATILE = re.compile(
    r"""
    \b\d{4}-\d{2}-\d{2}(?:[t\s]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?\b
  | \b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?\b                 # times of day
  | \b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b                                # 22.11.2026, 11/22/26
  | \b\d{1,2}\s(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s\d{4}\b
  | \b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s\d{1,2},?\s\d{4}\b
  | \b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b  # UUIDs
  | \b(?=[a-z0-9_-]*\d)(?=[a-z0-9_-]*[a-z])[a-z0-9_-]{16,}\b        # tokens, hashes, nonces
  | \b\d{10,13}\b                                                    # epoch timestamps
  | \b[0-9a-f]{16,}\b                                                # hex digests
    """,
    re.VERBOSE,
)

NOT_FOUND = re.compile(
    r"\b(?:404|page\s+not\s+found|not\s+found|file\s+not\s+found|no\s+longer\s+(?:available|exists)"
    r"|(?:does|do)\s*(?:not|n't)\s+exist|has\s+been\s+(?:removed|deleted)"
    r"|page\s+(?:you\s+(?:requested|are\s+looking\s+for)\s+)?(?:could\s*not|can'?not)\s+be\s+found"
    r"|nothing\s+(?:was\s+)?found|seite\s+nicht\s+gefunden|page\s+introuvable)\b",
    re.IGNORECASE,
)
SOFT_404_MAX_TEXT = 600
"""A 'not found' message in a page with more main text than this is prose, not an error page."""


@dataclass(frozen=True)
class PageText:
    """The parts of an HTML page the checker looks at."""

    title: str
    headings: str
    main_text: str

    @property
    def fingerprint(self) -> str:
        """A short hash of the normalised main text."""
        return text_fingerprint(self.main_text)

    @property
    def looks_like_not_found(self) -> bool:
        """True for a page that answers 200 but says the material is not there (soft 404)."""
        if NOT_FOUND.search(self.title) or NOT_FOUND.search(self.headings):
            return len(self.main_text) <= SOFT_404_MAX_TEXT * 4
        return len(self.main_text) <= SOFT_404_MAX_TEXT and bool(NOT_FOUND.search(self.main_text))


def normalise_text(text: str) -> str:
    """Lower-case ``text``, drop volatile tokens and collapse whitespace."""
    return " ".join(VOLATILE.sub(" ", text.lower()).split())


def text_fingerprint(text: str) -> str:
    """SHA-256 (first 16 hex digits) of the normalised text."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:16]


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, opens the main content)
        self.skip_depth = 0
        self.main_depth = 0
        self.title: list[str] = []
        self.headings: list[str] = []
        self.body: list[str] = []
        self.main: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        is_main = tag in MAIN_TAGS or ("role", "main") in attrs
        self.stack.append((tag, is_main))
        self.skip_depth += tag in SKIPPED_TAGS
        self.main_depth += is_main

    def handle_endtag(self, tag: str) -> None:
        if all(open_tag != tag for open_tag, _ in self.stack):
            return  # a stray end tag: ignore it, as browsers do
        while self.stack:
            open_tag, is_main = self.stack.pop()
            self.skip_depth -= open_tag in SKIPPED_TAGS
            self.main_depth -= is_main
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        tag = self.stack[-1][0] if self.stack else ""
        if tag == "title":
            self.title.append(data)
            return
        if self.skip_depth:
            return
        if tag in ("h1", "h2"):
            self.headings.append(data)
        self.body.append(data)
        if self.main_depth:
            self.main.append(data)


def read_page(html: str) -> PageText:
    """Extract title, top headings and main text (``<main>``/``<article>``, else the body)."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    main = parser.main if "".join(parser.main).strip() else parser.body
    return PageText(
        title=" ".join("".join(parser.title).split()),
        headings=" ".join(" ".join(parser.headings).split()),
        main_text=" ".join(" ".join(main).split()),
    )
