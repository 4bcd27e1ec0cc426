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
    raise ValueError(f"{text!r} is not an SPDX licence identifier")


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
