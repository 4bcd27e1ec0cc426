"""What identifies a material: normalised URLs, DOIs and Zenodo/figshare record ids.

Used to find two catalogue entries that point at the same material written differently
(``http://www.zenodo.org/records/123/`` and ``https://doi.org/10.5281/ZENODO.123`` are one).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

DOI = re.compile(r"^10\.\d{4,9}/[^\s<>\"]+$")
"""A DOI as the catalogue stores it: no resolver, no ``doi:`` prefix."""
DOI_IN_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(10\.\d{4,9}/\S+)$", re.IGNORECASE)
ZENODO_DOI = re.compile(r"^10\.5281/zenodo\.(\d+)$", re.IGNORECASE)
ZENODO_URL = re.compile(
    r"^https?://(?:www\.)?zenodo\.org/(?:records?|deposit|doi/10\.5281/zenodo\.)/?(\d+)",
    re.IGNORECASE,
)
FIGSHARE_DOI = re.compile(r"^10\.6084/m9\.figshare\.(\d+)", re.IGNORECASE)
FIGSHARE_URL = re.compile(
    r"^https?://(?:[\w-]+\.)?figshare\.com/(?:articles/(?:[^/]+/)*|s/)?(\d{6,})(?:/|$|\?)",
    re.IGNORECASE,
)
TRACKING_PARAMETERS = re.compile(r"^(?:utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|ref_src)$")


def doi_from_url(url: str) -> str | None:
    """The DOI a ``https://doi.org/...`` URL resolves, lower-cased; None for other URLs."""
    match = DOI_IN_URL.match(url.strip())
    return match.group(1).rstrip("/").lower() if match else None


def zenodo_record(text: str) -> str | None:
    """The Zenodo record (or concept) id of a Zenodo URL or Zenodo DOI."""
    text = text.strip()
    if doi := doi_from_url(text):
        text = doi
    match = ZENODO_DOI.match(text) or ZENODO_URL.match(text)
    return match.group(1) if match else None


def figshare_article(text: str) -> str | None:
    """The figshare article id of a figshare URL or DOI."""
    text = text.strip()
    if doi := doi_from_url(text):
        text = doi
    match = FIGSHARE_DOI.match(text) or FIGSHARE_URL.match(text)
    return match.group(1) if match else None


def suggested_doi(url: str) -> str | None:
    """The DOI a Zenodo or figshare URL has, to cite instead of the URL."""
    if record := zenodo_record(url):
        return f"10.5281/zenodo.{record}"
    if article := figshare_article(url):
        return f"10.6084/m9.figshare.{article}"
    return None


def normalise_url(url: str) -> str:
    """A comparison key: scheme, ``www.``, default port, trailing slash, fragment, tracking
    parameters and parameter order do not count; the host is case-insensitive."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    port = parts.port if parts.port not in (None, 80, 443) else None
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMETERS.match(k)
    )  # fmt: skip
    path = re.sub(r"/(?:index\.html?)?$", "", parts.path) or ""
    key = host + (f":{port}" if port else "") + path
    return key + (f"?{urlencode(query)}" if query else "")
