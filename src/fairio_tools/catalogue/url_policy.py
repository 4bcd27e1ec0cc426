"""Which links a catalogue entry may carry, and how to write its DOI and licence.

Each rule returns findings with a code, the field, what is wrong and how to fix it; the
review (:mod:`fairio_tools.catalogue.review`) collects them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fairio_tools.addresses import host_name_problem
from fairio_tools.catalogue import identifiers
from fairio_tools.catalogue.model import spdx_ids
from fairio_tools.catalogue.normalise import license_id, vocabulary_key
from fairio_tools.catalogue.review_findings import ReviewFinding, error, warning

FORBIDDEN_SCHEMES = {
    "javascript": "runs code in the reader's browser",
    "data": "embeds content instead of linking to it",
    "file": "points into someone's own computer",
    "vbscript": "runs code in the reader's browser",
}
SHORTENERS = frozenset({
    "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly",
    "rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "lnkd.in", "rb.gy", "t.ly", "bit.do",
    "v.gd", "s.id", "shorte.st", "adf.ly", "tr.im", "x.co", "qr.ae", "1drv.ms", "aka.ms",
    "youtu.be", "forms.gle", "trib.al", "dlvr.it", "soo.gd",
})  # fmt: skip


def check_url(url: Any, field: str) -> list[ReviewFinding]:
    """Findings for one URL of an entry (none when it is a public https link)."""
    if not isinstance(url, str) or not url.strip():
        return []  # the schema reports the type
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in FORBIDDEN_SCHEMES:
        return [error("CAT011", field, f"`{scheme}:` URLs are not allowed: it "
                      f"{FORBIDDEN_SCHEMES[scheme]}",
                      "link to the material's public web page (https://...)")]  # fmt: skip
    if scheme not in ("http", "https") or not parts.hostname:
        return [error("CAT011", field, f"{_quote(url)} is not an absolute web address",
                      "write the full address, starting with https://")]  # fmt: skip
    host = parts.hostname.lower()
    if parts.username or parts.password:
        fix = f"remove the credentials: {_quote(_without_credentials(parts))}"
        return [error("CAT014", field, "the URL contains a user name or password", fix)]
    if problem := host_name_problem(host):
        return [error("CAT013", field, f"`{host}` is a {problem}, not reachable by readers",
                      "link to the material's public address")]  # fmt: skip
    if host.removeprefix("www.") in SHORTENERS:
        fix = "link to the address it redirects to, so readers see where they go"
        if host == "youtu.be" and parts.path.strip("/"):
            fix = f"use https://www.youtube.com/watch?v={parts.path.strip('/')}"
        return [error("CAT012", field, f"`{host}` is a link shortener", fix)]
    if scheme == "http":
        https = urlunsplit(("https", *parts[1:]))
        return [error("CAT010", field, "the URL uses http, not https",
                      f"use {_quote(https)} (most sites answer both)")]  # fmt: skip
    return []


def check_urls_and_doi(data: dict[str, Any]) -> list[ReviewFinding]:
    """URL policy for every URL, DOI syntax, and DOIs to prefer over Zenodo/figshare URLs."""
    findings: list[ReviewFinding] = []
    urls = data.get("urls")
    urls = urls if isinstance(urls, list) else []
    for index, url in enumerate(urls):
        findings += check_url(url, f"urls[{index}]")
    doi = data.get("doi")
    if doi is not None:
        findings += check_doi(doi)
    if doi is None:
        for index, url in enumerate(urls):
            if not isinstance(url, str):
                continue
            if in_url := identifiers.doi_from_url(url):
                findings.append(warning("CAT022", f"urls[{index}]", "this URL is a DOI link",
                                        f"move it to `doi: {in_url}`"))  # fmt: skip
            elif suggestion := identifiers.suggested_doi(url):
                findings.append(warning("CAT021", f"urls[{index}]",
                                        "a Zenodo/figshare record has a DOI, which outlives URLs",
                                        f"add `doi: {suggestion}`"))  # fmt: skip
    return findings


def check_doi(doi: Any) -> list[ReviewFinding]:
    """Findings for the ``doi`` field."""
    if not isinstance(doi, str):
        return []  # the schema reports the type
    text = doi.strip()
    if in_url := identifiers.doi_from_url(text):
        return [error("CAT020", "doi", "write the DOI without the resolver address",
                      f"use `doi: {in_url}`")]  # fmt: skip
    if text.lower().startswith("doi:"):
        return [error("CAT020", "doi", "write the DOI without the `doi:` prefix",
                      f"use `doi: {text[4:].strip()}`")]  # fmt: skip
    if not identifiers.DOI.match(text) or text[-1] in ".,;":
        return [error("CAT020", "doi", f"{_quote(text)} is not a DOI",
                      "a DOI starts with 10., a registrant code and a slash, e.g. "
                      "10.5281/zenodo.6602101")]  # fmt: skip
    return []


def check_license(data: dict[str, Any]) -> list[ReviewFinding]:
    """Each licence must be an SPDX identifier (or LicenseRef-*); a missing one is a warning."""
    value = data.get("license")
    if value is None:
        return [warning("CAT031", "license", "no licence given: readers cannot tell how they "
                        "may reuse the material",
                        "add `license:` with an SPDX identifier, e.g. CC-BY-4.0")]  # fmt: skip
    values = value if isinstance(value, list) else [value]
    accepted = set(spdx_ids())
    return [
        error("CAT030", "license", f"{_quote(item)} is not an SPDX licence identifier",
              _license_fix(item))
        for item in values
        if isinstance(item, str) and item not in accepted and not item.startswith("LicenseRef-")
    ]  # fmt: skip


def _license_fix(value: str) -> str:
    try:
        suggestion = license_id(value)
    except ValueError:
        key = vocabulary_key(value)
        suggestion = next((s for s in spdx_ids() if vocabulary_key(s) == key), None)
    if suggestion:
        return f"use `license: {suggestion}`"
    return "use an identifier from https://spdx.org/licenses/ (e.g. CC-BY-4.0, MIT)"


def _without_credentials(parts) -> str:
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _quote(text: str) -> str:
    return "`" + text.replace("`", "'")[:200] + "`"
