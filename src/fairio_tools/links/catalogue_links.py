"""Which URLs a catalogue's entries link to, and which entries a link-health state deprecates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from fairio_tools.catalogue.model import Entry
from fairio_tools.links.state import UrlState

DOI_RESOLVER = "https://doi.org/"


def entry_links(entry: Entry, doi_resolver: str = DOI_RESOLVER) -> tuple[str, ...]:
    """Every link of an entry, its DOI (resolved through ``doi_resolver``) first."""
    doi = (f"{doi_resolver}{entry.doi}",) if entry.doi else ()
    return doi + tuple(url for url in entry.urls if url not in doi)


def links_by_url(
    entries: Iterable[Entry], doi_resolver: str = DOI_RESOLVER
) -> dict[str, list[str]]:
    """URL → ids of the entries that link to it, in catalogue order."""
    users: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        for url in entry_links(entry, doi_resolver):
            users[url].append(entry.id)
    return dict(users)


def deprecated_entry_ids(
    entries: Iterable[Entry], state: Mapping[str, UrlState], doi_resolver: str = DOI_RESOLVER
) -> list[str]:
    """Entries every link of which is deprecated: hide them from default search.

    An entry with one working link (say its DOI) is not deprecated when another link died.
    """
    deprecated = []
    for entry in entries:
        records = [state.get(url) for url in entry_links(entry, doi_resolver)]
        if records and all(record is not None and record.deprecated for record in records):
            deprecated.append(entry.id)
    return deprecated
