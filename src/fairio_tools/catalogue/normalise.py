"""Vocabulary normalisation shared by the importers: spellings in, schema terms out.

Each function returns the schema term, or ``None`` when the value means "not known"
(raising ``ValueError`` when the value is something the vocabulary cannot take).
"""

from __future__ import annotations

import re
import unicodedata

from fairio_tools.catalogue.model import SLUG_MAX_LENGTH, levels, resource_types, spdx_ids

_TYPE_SYNONYMS = {
    "article": "publication",
    "blog": "blog-post",
    "dataset": "data",
    "gitrepository": "code-repository",
    "githubrepository": "code-repository",
    "jupyternotebook": "notebook",
    "journalarticle": "publication",
    "notebooks": "notebook",
    "onlinetutorial": "tutorial",
    "paper": "publication",
    "presentation": "slides",
    "onlinecourse": "course",
    "elearning": "course",
    "mooc": "course",
    "lecture": "slides",
    "talk": "slides",
    "webinar": "video",
    "recording": "video",
    "videos": "video",
    "tool": "application",
    "softwaretool": "application",
    "plugin": "application",
    "library": "code",
    "sourcecode": "code",
    "repository": "code-repository",
    "gitlabrepository": "code-repository",
    "guide": "documentation",
    "manual": "documentation",
    "handbook": "documentation",
    "training": "course",
    "summerschool": "event",
    "conference": "event",
    "meeting": "event",
    "exercise": "worksheet",
    "exercises": "worksheet",
    "images": "data",
    "imagedata": "data",
    "datasets": "data",
    "abstract": "conference-abstract",
    "thesis": "publication",
    "journal": "publication",
    "newsletter": "blog-post",
    "news": "blog-post",
    "forum": "forum-post",
    "podcasts": "podcast",
    "posters": "poster",
    "tutorials": "tutorial",
    "workshops": "workshop",
    "books": "book",
    "web": "website",
    "slide": "slides",
    "software": "application",
    "webpage": "website",
    "youtubechannel": "video-channel",
}

_LICENSE_SYNONYMS = {
    "agpl-3.0": "AGPL-3.0-only",
    'bsd 3-clause "new" or "revised" license': "BSD-3-Clause",
    'bsd 2-clause "simplified" license': "BSD-2-Clause",
    "ccy-by-sa-4.0": "CC-BY-SA-4.0",
    "creative commons attribution 4.0 international": "CC-BY-4.0",
    "creative commons attribution share alike 4.0 international": "CC-BY-SA-4.0",
    "creative commons zero v1.0 universal": "CC0-1.0",
    "gpl-2.0": "GPL-2.0-only",
    "gpl-3.0": "GPL-3.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-3.0": "LGPL-3.0-only",
    "mit license": "MIT",
    "all rights reserved": "LicenseRef-all-rights-reserved",
    "restrictive license": "LicenseRef-all-rights-reserved",
    "public domain": "LicenseRef-public-domain",
    "other-at": "LicenseRef-other-attribution",
}
_LICENSE_KEYS = {
    "cc0": "CC0-1.0",
    "cc010": "CC0-1.0",
    "publicdomaincc0": "CC0-1.0",
    "mit": "MIT",
    "apache": "Apache-2.0",
    "apache2": "Apache-2.0",
    "apache20": "Apache-2.0",
    "bsd2clause": "BSD-2-Clause",
    "bsd3clause": "BSD-3-Clause",
    "bsd3": "BSD-3-Clause",
    "newbsd": "BSD-3-Clause",
    "gpl2": "GPL-2.0-only",
    "gpl3": "GPL-3.0-only",
    "gpl20": "GPL-2.0-only",
    "gpl30": "GPL-3.0-only",
    "gnugpl3": "GPL-3.0-only",
    "gnugeneralpublic30": "GPL-3.0-only",
    "gnugeneralpublic20": "GPL-2.0-only",
    "lgpl21": "LGPL-2.1-only",
    "lgpl30": "LGPL-3.0-only",
    "agpl30": "AGPL-3.0-only",
    "mpl20": "MPL-2.0",
    "mozillapublic20": "MPL-2.0",
}
"""Licence spellings by :func:`vocabulary_key` (after dropping the words licen[cs]e)."""
_CC_NAME = re.compile(
    r"^creativecommons(?P<parts>(?:attribution|noncommercial|sharealike|noderivatives|noderivs)*)"
    r"(?P<version>[0-9]+)?(?:international|generic|unported)?$"
)
_CC_PARTS = {
    "attribution": "BY", "noncommercial": "NC", "noderivatives": "ND", "noderivs": "ND",
    "sharealike": "SA",
}  # fmt: skip
_LICENSE_LIST = re.compile(r"\s*(?:;|,|\band\b|&|\+|\s/\s)\s*", re.IGNORECASE)
_LICENSE_UNKNOWN = {"", "unknown", "n/a", "none", "other", "notspecified", "not specified"}

_LEVEL_SYNONYMS = {"beginner": "advanced-beginner", "intermediate": "competent"}


def vocabulary_key(text: str) -> str:
    """Spelling-insensitive key: case, spaces, hyphens and punctuation do not count."""
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", text).casefold())


def resource_type(text: str) -> str:
    """The vocabulary term for a type spelling, e.g. 'GitHub Repository' → code-repository."""
    key = vocabulary_key(text)
    for term in resource_types():
        if vocabulary_key(term) == key:
            return term
    if key in _TYPE_SYNONYMS:
        return _TYPE_SYNONYMS[key]
    raise ValueError(f"{text!r} is not a catalogue type")


def license_id(text: str) -> str | None:
    """The SPDX id (or LicenseRef-*) for a licence spelling; None for 'UNKNOWN'."""
    lowered = " ".join(text.split()).casefold()
    if lowered in _LICENSE_UNKNOWN:
        return None
    for spdx in spdx_ids():
        if spdx.casefold() == lowered:
            return spdx
    if lowered in _LICENSE_SYNONYMS:
        return _LICENSE_SYNONYMS[lowered]
    if re.fullmatch(r"licenseref-[a-z0-9.-]+", lowered):
        return "LicenseRef-" + text.strip()[len("LicenseRef-") :]
    if found := _license_by_key(text):
        return found
    raise ValueError(f"{text!r} is not an SPDX licence identifier")


def license_ids(value: object) -> list[str]:
    """Every SPDX id in a licence value: one spelling, a list, or 'MIT and CC-BY-4.0'.

    Unknown parts ('UNKNOWN') are left out; a part that is no licence raises ``ValueError``.
    """
    if isinstance(value, list):
        parts = [str(item) for item in value]
    else:
        text = str(value)
        parts = [text]
        try:
            license_id(text)
        except ValueError:
            parts = [p for p in _LICENSE_LIST.split(text) if p.strip()]
            if len(parts) < 2:
                raise
    found: list[str] = []
    for part in parts:
        spdx = license_id(part)
        if spdx and spdx not in found:
            found.append(spdx)
    return found


def _license_by_key(text: str) -> str | None:
    """SPDX id for a spelling that differs in case, punctuation, 'licence' or 'version'."""
    key = vocabulary_key(re.sub(r"\b(?:licen[cs]es?|version|the)\b", "", text, flags=re.I))
    key = re.sub(r"^v(?=\d)|(?<=[a-z])v(?=\d)", "", key)
    by_key = {vocabulary_key(spdx): spdx for spdx in spdx_ids()}
    if key in by_key:
        return by_key[key]
    if key in _LICENSE_KEYS:
        return _LICENSE_KEYS[key]
    if match := _CC_NAME.match(key):
        parts = re.findall("|".join(_CC_PARTS), match["parts"])
        if parts and parts[0] == "attribution":
            version = match["version"] or "40"
            version = f"{version[0]}.{version[1:] or '0'}"
            candidate = "CC-" + "-".join(_CC_PARTS[p] for p in parts) + f"-{version}"
            if candidate in spdx_ids():
                return candidate
    return None


def level(text: str) -> str:
    """The Dreyfus level for a spelling, e.g. 'advanced beginner' → advanced-beginner."""
    key = vocabulary_key(text)
    for term in levels():
        if vocabulary_key(term) == key:
            return term
    if key in _LEVEL_SYNONYMS:
        return _LEVEL_SYNONYMS[key]
    raise ValueError(f"{text!r} is not a Dreyfus level")


def slugify(text: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """A file-name slug: ASCII lower-case words joined by hyphens, cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "entry"
