"""Peer review and persistence on the portal: reviews on material pages (with schema.org
``Review`` JSON-LD), the "community reviewed" and "persistently available" badges and search
marks, a page per reviewer listing their reviews, and the reviewers' index.

A material is *persistently available* when it has a DOI and none of its links is failing
in the link-health state. Every value from a review file is escaped (:mod:`.html`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from fairio_tools.catalogue.bioschemas import CONTEXT, script_json
from fairio_tools.catalogue.model import Entry
from fairio_tools.catalogue.peer_review import PeerReview
from fairio_tools.links.catalogue_links import entry_links
from fairio_tools.links.state import UrlState
from fairio_tools.links.status import LinkStatus
from fairio_tools.portal import html
from fairio_tools.portal.html import GeneratedPage, MaterialExtras
from fairio_tools.portal.materials import SECTION, material_path

REVIEWED = "reviewed"
PERSISTENT = "persistent"
MARK_LABELS = {REVIEWED: "Community reviewed", PERSISTENT: "Persistently available"}
PROCESS_PAGE = "curation/peer-review.md"


def reviewer_path(orcid: str) -> str:
    return f"{SECTION}/reviewers/{orcid}.md"


def persistent_ids(entries: Iterable[Entry], state: Mapping[str, UrlState]) -> set[str]:
    """Materials with a DOI none of whose links is failing (unchecked links are not)."""
    return {
        entry.id
        for entry in entries
        if entry.doi
        and not any(
            url in state and LinkStatus(state[url].status).is_failure for url in entry_links(entry)
        )
    }


def material_extras(
    entries: Iterable[Entry],
    reviews: Iterable[PeerReview],
    persistent: set[str],
    discussions: str | None,
) -> dict[str, MaterialExtras]:
    """Badges, the reviews section and its JSON-LD, and search marks, per material."""
    by_material: dict[str, list[PeerReview]] = defaultdict(list)
    for review in reviews:
        by_material[review.material].append(review)
    extras = {}
    for entry in entries:
        found = sorted(by_material.get(entry.id, []), key=lambda r: (r.date, r.orcid))
        marks = tuple(m for m, on in ((REVIEWED, found), (PERSISTENT, entry.id in persistent))
                      if on)  # fmt: skip
        badges = [_badge(mark) for mark in marks]
        sections = [_reviews_section(entry, found, discussions)]
        json_ld = tuple(script_json(review_jsonld(entry, r)) for r in found)
        extras[entry.id] = MaterialExtras(
            badges=(f'<p class="fairio-badges">{" ".join(badges)}</p>',) if badges else (),
            sections=tuple(sections),
            json_ld=json_ld,
            marks=marks,
        )
    return extras


def review_jsonld(entry: Entry, review: PeerReview) -> dict[str, Any]:
    """A schema.org ``Review`` of the material: author with ORCID, date, text, ratings."""
    item: dict[str, Any] = {"@type": "LearningResource", "@id": entry.link, "name": entry.name}
    if review.version:
        item["version"] = review.version
    if review.url:
        item["url"] = review.url
    ratings = [_rating(round(review.mean, 2), "overall")] + [
        _rating(score, aspect) for aspect, score in review.scores.items()
    ]
    return {
        "@context": CONTEXT,
        "@type": "Review",
        "itemReviewed": item,
        "author": {
            "@type": "Person",
            "@id": review.orcid_url,
            "name": review.reviewer_name,
            "identifier": review.orcid_url,
        },
        "datePublished": review.date,
        "reviewBody": review.text,
        "reviewRating": ratings,
    }


def reviewer_pages(
    entries: Iterable[Entry], reviews: Iterable[PeerReview]
) -> dict[str, GeneratedPage]:
    """One page per reviewer (their reviews, credit) and the reviewers' index."""
    names = {entry.id: entry.name for entry in entries}
    by_reviewer: dict[str, list[PeerReview]] = defaultdict(list)
    for review in reviews:
        by_reviewer[review.orcid].append(review)
    pages: dict[str, GeneratedPage] = {}
    index_here = f"{SECTION}/reviewers/index.md"
    rows = []
    for orcid, own in sorted(by_reviewer.items(), key=lambda kv: kv[1][0].reviewer_name.casefold()):
        here = reviewer_path(orcid)
        own = sorted(own, key=lambda r: (r.date, r.material), reverse=True)
        name = own[-1].reviewer_name
        items = "".join(
            f"<li>{_material_link(here, r.material, names)}"
            f' <span class="fairio-meta">({html.text(r.date)}, {html.text(r.reviewed)}, '
            f"mean score {r.mean:.1f} of 5)</span></li>"
            for r in own
        )
        body = (
            f"<p>ORCID iD: {html.external_link(own[0].orcid_url, orcid)}. "
            f"{len(own)} review{'s' * (len(own) != 1)} of training materials, published under "
            f"the {html.link(html.relative_url(here, PROCESS_PAGE), 'open peer review process')}"
            f'.</p><ul class="fairio-list">{items}</ul>'
        )
        pages[here] = html.page(f"Reviewer: {name}", body)
        rows.append(
            f"<li>{html.link(html.relative_url(index_here, here), name)} "
            f'<span class="fairio-meta">({len(own)})</span></li>'
        )
    process = html.link(html.relative_url(index_here, PROCESS_PAGE), "how to review a material")
    pages[index_here] = html.page(
        "Reviewers",
        f"<p>{len(by_reviewer)} reviewers; see {process}.</p>"
        f'<ul class="fairio-list">{"".join(rows)}</ul>',
    )
    return pages


def _material_link(here: str, material: str, names: Mapping[str, str]) -> str:
    return html.link(html.relative_url(here, material_path(material)), names[material])


def _rating(value: float, aspect: str) -> dict[str, Any]:
    return {"@type": "Rating", "ratingValue": value, "bestRating": 5, "worstRating": 1,
            "reviewAspect": aspect}  # fmt: skip


def _badge(mark: str) -> str:
    return f'<span class="fairio-badge fairio-badge-{mark}">{html.text(MARK_LABELS[mark])}</span>'


def _reviews_section(entry: Entry, reviews: list[PeerReview], discussions: str | None) -> str:
    here = material_path(entry.id)
    process = html.relative_url(here, PROCESS_PAGE)
    parts = [f'<h2 id="reviews">Community reviews ({len(reviews)})</h2>']
    if not reviews:
        review_it = html.link(process, "review it")
        parts.append(f"<p>Not reviewed yet: {review_it} (open peer review, with credit).</p>")
    for review in reviews:
        who = html.link(html.relative_url(here, reviewer_path(review.orcid)), review.reviewer_name)
        scores = "".join(
            f"<tr><th>{html.text(aspect.capitalize())}</th><td>{score} / 5</td></tr>"
            for aspect, score in review.scores.items()
        )
        parts.append(
            '<div class="fairio-review">'
            f"<p><strong>{who}</strong> "
            f"({html.external_link(review.orcid_url, 'ORCID')}), {html.text(review.date)}, "
            f"reviewed {html.text(review.reviewed)}</p>"
            f'<table class="fairio-facts"><tbody>{scores}</tbody></table>'
            f"{html.paragraphs(review.text)}</div>"
        )
    if reviews:
        policy = html.link(process, "the review process")
        parts.append(f"<p>Criteria and editorial policy: {policy}.</p>")
    if discussions:
        link = html.external_link(f"{discussions}?discussions_q={entry.id}", "the discussion")
        parts.append(f"<p>Endorse the material or answer a review in {link}.</p>")
    return "\n".join(parts)
