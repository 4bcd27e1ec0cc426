"""Catalogue pages: one per material, browse pages by type/level/licence/tag, the tags
index, the search page and its index.

Every function returns ``{site path: Markdown or asset text}``; nothing here knows MkDocs.
Pages live under ``catalogue/`` and link with relative ``.html`` URLs
(``use_directory_urls: false``), so the site also works opened from disk.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Set

from fairio_tools.catalogue.bioschemas import entry_to_jsonld, script_json
from fairio_tools.catalogue.duplicates import Material, version_groups
from fairio_tools.catalogue.model import Entry, levels, resource_types
from fairio_tools.catalogue.normalise import slugify
from fairio_tools.portal import html, page_index
from fairio_tools.portal.html import GeneratedPage, MaterialExtras
from fairio_tools.portal.related import Rarity, similar_materials

SECTION = "catalogue"


def material_path(entry_id: str) -> str:
    return f"{SECTION}/materials/{entry_id}.md"


def facet_key(facet: str, value: str) -> str:
    """The page slug of a facet value; tags that differ only in spelling share a page."""
    if facet in ("type", "level"):
        return value
    return slugify(value, 60) if value else "none"


def facet_path(facet: str, key: str) -> str:
    return f"{SECTION}/{facet}/{key}.md"


def catalogue_pages(
    entries: list[Entry],
    index: dict,
    related_pages: dict[str, list[tuple[str, str]]] | None = None,
    deprecated: Mapping[str, str] | None = None,
    extras: Mapping[str, MaterialExtras] | None = None,
) -> dict[str, GeneratedPage | str]:
    """Every generated catalogue page and the search index (``index``, from
    :func:`search_index`, which also groups versions), keyed by site path.

    ``related_pages`` maps an entry id to (site path, title) of tool/workflow pages;
    ``deprecated`` maps the ids of materials whose links all died to the date they did;
    ``extras`` adds badges, sections and JSON-LD to material pages.
    """
    entries = sorted(entries, key=lambda e: (e.name.casefold(), e.id))
    related_pages = related_pages or {}
    deprecated = deprecated or {}
    extras = extras or {}
    by_id = {e.id: e for e in entries}
    groups: dict[str, list[str]] = defaultdict(list)
    for record in index["entries"]:
        if "v" in record:
            groups[record["v"]].append(record["i"])
    versions = {i: group for group in groups.values() for i in group}
    similar = similar_materials(entries, Rarity(entries), {i: set(g) for i, g in versions.items()})
    pages: dict[str, GeneratedPage | str] = {
        material_path(e.id): material_page(
            e,
            related_pages.get(e.id, []),
            deprecated.get(e.id),
            extras.get(e.id),
            versions=[by_id[i] for i in versions.get(e.id, []) if i != e.id],
            similar=similar[e.id],
        )
        for e in entries
    }
    facets = facet_groups(entries)
    for facet, groups in facets.items():
        for key, (label, members) in groups.items():
            pages[facet_path(facet, key)] = _facet_page(facet, key, label, members)
    pages[f"{SECTION}/index.md"] = _browse_page(entries, facets)
    pages[f"{SECTION}/tags.md"] = _tags_page(facets["tag"])
    pages[f"{SECTION}/all.md"] = html.page(
        "All materials", _material_list(entries, f"{SECTION}/all.md")
    )
    pages[f"{SECTION}/search.md"] = _search_page()
    pages["assets/catalogue-index.js"] = search_index_script(index)
    return pages


Facet = dict[str, tuple[str, list[Entry]]]
"""Facet value key → (label, entries)."""


def facet_groups(entries: list[Entry]) -> dict[str, Facet]:
    """Entries grouped by type, level, licence and tag (vocabulary or name order)."""
    vocabulary = resource_types()
    groups: dict[str, Facet] = {
        "type": {t: (vocabulary[t].label, []) for t in vocabulary},
        "level": {lv: (label, []) for lv, label in levels().items()},
        "license": {},
        "tag": {},
    }
    for entry in entries:
        values = {
            "type": entry.type,
            "level": entry.levels,
            "license": entry.licenses or ("",),
            "tag": entry.tags,
        }
        for facet, facet_values in values.items():
            for value in facet_values:
                key = facet_key(facet, value)
                label = _label(facet, value)
                groups[facet].setdefault(key, (label, []))[1].append(entry)
    for facet in ("type", "level"):
        groups[facet] = {k: v for k, v in groups[facet].items() if v[1]}
    for facet in ("license", "tag"):
        groups[facet] = dict(sorted(groups[facet].items(), key=lambda kv: kv[1][0].casefold()))
    return groups


def material_page(
    entry: Entry,
    related: Iterable[tuple[str, str]] = (),
    deprecated_since: str | None = None,
    extras: MaterialExtras | None = None,
    versions: Iterable[Entry] = (),
    similar: Iterable[Entry] = (),
) -> GeneratedPage:
    """One material: what it is, who made it, where to get it (its DOI first), its other
    versions and the materials sharing its rare tags (``similar``), plus its JSON-LD.

    ``deprecated_since`` (a date) adds a banner: every link failed the link checks.
    """
    here = material_path(entry.id)
    extras = extras or MaterialExtras()
    rows = [  # the persistent id, then the key facts: what, for whom, licence, language
        ("DOI", html.external_link(entry.link, entry.doi) if entry.doi else ""),
        ("Type", _facet_links(here, "type", entry.type) or "not given yet"),
        ("Level", _facet_links(here, "level", entry.levels) if entry.levels else ""),
        ("Licence", _facet_links(here, "license", entry.licenses or [""])),
        ("Language", html.text(", ".join(entry.language))),
        ("Authors", ", ".join(_author(a) for a in entry.authors)),
        ("Published", html.text(entry.publication_date or "")),
        ("Audience", html.text(", ".join(entry.audience))),
        ("File formats", html.text(" ".join(entry.file_formats))),
        (
            "Event",
            html.text(" · ".join(entry.event[k] for k in ("date", "location") if k in entry.event)),
        ),
    ]
    body = [
        _deprecated_banner(deprecated_since) if deprecated_since else "",
        f'<p class="fairio-open">{html.external_link(entry.link, "Open the material")}</p>',
        *extras.badges,
        '<table class="fairio-facts"><tbody>',
        *(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows if value),
        "</tbody></table>",
        html.paragraphs(entry.description) if entry.description else "",
    ]
    if entry.tags:
        body.append("<h2>Tags</h2><p>" + _facet_links(here, "tag", entry.tags) + "</p>")
    if entry.learning_outcomes:
        items = "".join(f"<li>{html.text(o)}</li>" for o in entry.learning_outcomes)
        body.append(f"<h2>Learning outcomes</h2><ul>{items}</ul>")
    if len(entry.links) > 1:
        items = "".join(f"<li>{html.external_link(u)}</li>" for u in entry.links)
        body.append(f"<h2>Links</h2><ul>{items}</ul>")
    related = list(related)
    if related:
        items = "".join(f"<li>{html.link(html.relative_url(here, p), t)}</li>" for p, t in related)
        body.append(f"<h2>Related tools and workflows</h2><ul>{items}</ul>")
    for title, others in (("Other versions", versions), ("Related materials", similar)):
        links = [html.link(html.relative_url(here, material_path(o.id)), o.name) for o in others]
        if links:
            body.append(f"<h2>{title}</h2><ul>" + "".join(f"<li>{a}</li>" for a in links) + "</ul>")
    body += extras.sections
    body.append(
        '<script type="application/ld+json">' + script_json(entry_to_jsonld(entry)) + "</script>"
    )
    body += [f'<script type="application/ld+json">{block}</script>' for block in extras.json_ld]
    return html.page(entry.name, "\n".join(part for part in body if part))


def versions_of(entries: list[Entry]) -> dict[str, list[str]]:
    """Entry id -> the ids of its group, for materials that are versions or copies of one
    material (:func:`~fairio_tools.catalogue.duplicates.version_groups`), first id first."""
    materials = [Material.from_data(e.id, e.to_dict()) for e in entries]
    return {m.id: [g.id for g in group] for group in version_groups(materials) for m in group}


def search_index(
    entries: list[Entry],
    deprecated: Set[str] = frozenset(),
    marks: Mapping[str, tuple[str, ...]] | None = None,
    mark_labels: Mapping[str, str] | None = None,
) -> dict:
    """The data the in-browser search ranks and filters: short keys keep it small.

    Deprecated materials carry ``"x": 1``; the search leaves them out unless asked. Marks
    (``"q"``: community reviewed, persistently available) are the *Curation* filter.
    Versions or copies of one material (:func:`version_groups`) share ``"v"`` (the group's
    first id): the search shows one result per group.
    """
    marks = marks or {}
    group_of = {entry_id: group[0] for entry_id, group in versions_of(entries).items()}
    records = []
    for entry in sorted(entries, key=lambda e: (e.name.casefold(), e.id)):
        record = {"i": entry.id, "n": entry.name, "t": list(entry.type)}
        if entry.description:
            record["d"] = " ".join(entry.description.split())  # all of it is searched
        if entry.levels:
            record["l"] = list(entry.levels)
        if entry.licenses:
            record["c"] = entry.licenses[0] if len(entry.licenses) == 1 else list(entry.licenses)
        if entry.tags:
            record["g"] = list(entry.tags)
        if entry.authors:
            record["a"] = ", ".join(a.name for a in entry.authors)
        if entry.publication_date:
            record["y"] = entry.publication_date[:4]
        if entry.id in deprecated:
            record["x"] = 1
        if marks.get(entry.id):
            record["q"] = list(marks[entry.id])
        if entry.id in group_of:
            record["v"] = group_of[entry.id]
        records.append(record)
    return {
        "types": {t.term: t.label for t in resource_types().values()},
        "levels": levels(),
        "marks": dict(mark_labels or {}),
        "entries": records,
    }


def search_index_script(index: dict) -> str:
    """The index as a script assigning JSON, so search also works from ``file://``."""
    data = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c")
    return f"window.fairioCatalogue={data};\n"


def _deprecated_banner(since: str) -> str:
    return (
        '<div class="admonition warning fairio-deprecated">'
        '<p class="admonition-title">Deprecated</p>'
        f"<p>Every link of this material has failed the portal's link checks since "
        f"{html.text(since)}. It is kept here but left out of the default search; "
        "if you know where it moved, please tell the curators.</p></div>"
    )


def _facet_links(here: str, facet: str, values: Iterable[str]) -> str:
    return ", ".join(
        html.link(html.relative_url(here, facet_path(facet, facet_key(facet, v))), _label(facet, v))
        for v in values
    )


def _label(facet: str, value: str) -> str:
    if facet == "type":
        return resource_types()[value].label
    if facet == "level":
        return levels()[value]
    if facet == "license":
        return license_label(value)
    return value


def license_label(license_id: str) -> str:
    """SPDX ids as they are; ``LicenseRef-all-rights-reserved`` → 'All rights reserved'."""
    if not license_id:
        return "Licence not known"
    if license_id.startswith("LicenseRef-"):
        return license_id.removeprefix("LicenseRef-").replace("-", " ").capitalize()
    return license_id


def _author(author) -> str:
    name = html.text(author.name)
    if author.orcid:
        return f"{name} ({html.external_link(author.orcid_url, 'ORCID')})"
    return name


def _material_list(entries: list[Entry], here: str) -> str:
    items = []
    for entry in entries:
        kinds = ", ".join(entry.type_labels)
        year = f", {entry.publication_date[:4]}" if entry.publication_date else ""
        items.append(
            f"<li>{html.link(html.relative_url(here, material_path(entry.id)), entry.name)} "
            f'<span class="fairio-meta">({html.text(kinds + year)})</span></li>'
        )
    return f'<ul class="fairio-list">{"".join(items)}</ul>'


_FACET_TITLES = {"type": "Type", "level": "Level", "license": "Licence", "tag": "Tag"}


def _facet_page(facet: str, key: str, label: str, entries: list[Entry]) -> GeneratedPage:
    here = facet_path(facet, key)
    title = f"{_FACET_TITLES[facet]}: {label}"
    back = html.link(html.relative_url(here, f"{SECTION}/index.md"), "Browse the catalogue")
    body = f"<p>{len(entries)} materials. {back}.</p>" + _material_list(entries, here)
    return html.page(title, body)


def _browse_page(entries: list[Entry], facets: dict[str, Facet]) -> GeneratedPage:
    here = f"{SECTION}/index.md"
    parts = [
        f"<p>{len(entries)} training materials. "
        f"{html.link(html.relative_url(here, f'{SECTION}/search.md'), 'Search them')}, "
        f"see {html.link(html.relative_url(here, f'{SECTION}/all.md'), 'all from A to Z')} "
        f"or the {html.link(html.relative_url(here, f'{SECTION}/tags.md'), 'tags index')}.</p>"
    ]
    for facet, heading in (("type", "By type"), ("level", "By level"), ("license", "By licence")):
        items = "".join(
            f"<li>{html.link(html.relative_url(here, facet_path(facet, key)), label)} "
            f'<span class="fairio-meta">({len(members)})</span></li>'
            for key, (label, members) in facets[facet].items()
        )
        parts.append(f'<h2>{heading}</h2><ul class="fairio-columns">{items}</ul>')
    popular = sorted(facets["tag"].items(), key=lambda kv: (-len(kv[1][1]), kv[1][0].casefold()))
    items = "".join(
        f"<li>{html.link(html.relative_url(here, facet_path('tag', key)), label)} "
        f'<span class="fairio-meta">({len(members)})</span></li>'
        for key, (label, members) in popular[:30]
    )
    parts.append(f'<h2>Most used tags</h2><ul class="fairio-columns">{items}</ul>')
    return html.page("Browse the catalogue", "\n".join(parts))


def _tags_page(tags: Facet) -> GeneratedPage:
    here = f"{SECTION}/tags.md"
    by_letter: dict[str, list[str]] = defaultdict(list)
    for key, (tag, members) in tags.items():
        letter = tag[:1].upper() if tag[:1].isalpha() else "#"
        by_letter[letter].append(
            f"<li>{html.link(html.relative_url(here, facet_path('tag', key)), tag)} "
            f'<span class="fairio-meta">({len(members)})</span></li>'
        )
    parts = [f"<p>{len(tags)} tags.</p>"]
    for letter in sorted(by_letter):
        parts.append(f'<h2>{html.text(letter)}</h2><ul class="fairio-columns">')
        parts.append("".join(by_letter[letter]) + "</ul>")
    return html.page("Tags", "\n".join(parts))


def _search_page() -> GeneratedPage:
    body = (
        '<div id="fairio-search" class="fairio-search">'
        '<label for="fairio-query">Search training materials</label>'
        '<input id="fairio-query" type="search" autocomplete="off" '
        'placeholder="e.g. OMERO, napari, segmentation">'
        '<button id="fairio-filters-toggle" class="fairio-filters-toggle" type="button" '
        'aria-controls="fairio-facets" aria-expanded="false">Filters</button>'
        '<div class="fairio-search-layout">'
        '<aside id="fairio-facets" class="fairio-facets" aria-label="Filters"></aside>'
        '<section><p id="fairio-count" class="fairio-meta" aria-live="polite"></p>'
        '<p id="fairio-pages" class="fairio-pages"></p>'
        '<ol id="fairio-results" class="fairio-results"></ol></section>'
        "</div>"
        "<noscript><p>Search needs JavaScript; "
        '<a href="all.html">browse all materials</a> instead.</p></noscript>'
        "</div>\n"
        '<script src="../assets/catalogue-index.js"></script>\n'
        f'<script src="../{page_index.PATH}"></script>\n'
        '<script src="../assets/vendor/minisearch/minisearch.js"></script>\n'
        '<script src="../assets/search-engine.js"></script>\n'
        '<script src="../assets/catalogue-search.js"></script>'
    )
    return html.page("Search the catalogue", body)
