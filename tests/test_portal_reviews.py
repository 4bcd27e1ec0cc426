"""Peer review on the portal: reviews on the material page with schema.org ``Review``
JSON-LD, the "community reviewed" and "persistently available" badges and search marks,
reviewer pages, and an invalid review file stopping the build."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
import rdflib
import yaml

from fairio_tools.errors import InputError
from fairio_tools.links.history import Run, add_run, read_history
from fairio_tools.links.state import UrlState
from fairio_tools.portal.site import PortalSources, generated_pages

SDO = rdflib.Namespace("https://schema.org/")
REVIEWER = "0000-0002-1825-0097"
OTHER = "0000-0001-5109-3700"
ENTRIES = {
    "napari-course": {"name": "Segmenting nuclei with napari", "type": ["tutorial"],
                      "doi": "10.5281/zenodo.7654321", "urls": ["https://example.org/napari"],
                      "authors": [{"name": "Ada Lovelace"}], "license": "CC-BY-4.0"},
    "omero-slides": {"name": "Managing data in OMERO", "type": ["slides"],
                     "doi": "10.5281/zenodo.1111111", "urls": ["https://example.org/omero"]},
    "plain-page": {"name": "Image analysis glossary", "type": ["website"],
                   "urls": ["https://example.org/glossary"]},
}  # fmt: skip
HOSTILE = "</script><script>alert(1)</script> & <b>bold</b>"


def _review(name: str, orcid: str, text: str, **scores) -> dict:
    return {
        "reviewer": {"name": name, "orcid": orcid}, "date": "2026-03-01", "version": "v1.0",
        "scores": {"accuracy": 5, "clarity": 4, "reusability": 4, "currency": 3} | scores,
        "text": text,
    }  # fmt: skip


def _sources(tmp_path, reviews: dict) -> PortalSources:
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    for slug, data in ENTRIES.items():
        (catalogue / f"{slug}.yml").write_text(yaml.safe_dump(data))
    root = tmp_path / "reviews"
    for (material, orcid), data in reviews.items():
        (root / material).mkdir(parents=True, exist_ok=True)
        (root / material / f"{orcid}.yml").write_text(yaml.safe_dump(data))
    (tmp_path / "tools").mkdir()
    (tmp_path / "workflows").mkdir()
    state = tmp_path / "links.jsonl"
    dead = UrlState("https://example.org/omero", "broken", "2026-02-02", failures=1)
    state.write_text(dead.to_line() + "\n")
    return PortalSources(
        catalogue, tmp_path / "tools", tmp_path / "workflows", state, reviews=root,
        discussions="https://github.com/example/portal/discussions",
    )  # fmt: skip


@pytest.fixture
def pages(tmp_path):
    reviews = {
        ("napari-course", REVIEWER): _review("Josiah Carberry", REVIEWER, "Clear. " + HOSTILE),
        ("napari-course", OTHER): _review("Jane Doe", OTHER, "Dated.", currency=1),
        ("omero-slides", REVIEWER): _review("Josiah Carberry", REVIEWER, "Good slides."),
    }
    return generated_pages(_sources(tmp_path, reviews))


def _blocks(page) -> list[str]:
    return re.findall(r'<script type="application/ld\+json">(.*?)</script>', page.body, re.S)


def test_material_page_shows_reviews_with_review_json_ld(pages):
    page = pages["catalogue/materials/napari-course.md"]
    assert "Community reviews (2)" in page.body
    assert '<a href="../reviewers/0000-0002-1825-0097.html">Josiah Carberry</a>' in page.body
    assert "<script>alert" not in page.body and "<b>bold" not in page.body
    graph = rdflib.Graph()
    blocks = _blocks(page)
    assert len(blocks) == 3  # the material and its two reviews
    for block in blocks:
        graph.parse(data=block, format="json-ld")
    reviews = set(graph.subjects(rdflib.RDF.type, SDO.Review))
    assert len(reviews) == 2
    (material,) = graph.subjects(rdflib.RDF.type, SDO.LearningResource)
    authors = set()
    for review in reviews:
        assert graph.value(review, SDO.itemReviewed) == material  # the same node
        author = graph.value(review, SDO.author)
        authors.add(str(author))
        assert str(graph.value(review, SDO.datePublished)) == "2026-03-01"
        aspects = {str(graph.value(r, SDO.reviewAspect)) for r in
                   graph.objects(review, SDO.reviewRating)}  # fmt: skip
        assert aspects == {"overall", "accuracy", "clarity", "reusability", "currency"}
    assert authors == {f"https://orcid.org/{REVIEWER}", f"https://orcid.org/{OTHER}"}
    body = next(str(graph.value(r, SDO.reviewBody)) for r in reviews
                if str(graph.value(r, SDO.author)).endswith(REVIEWER))  # fmt: skip
    assert body == "Clear. " + HOSTILE  # kept exactly, yet inert in the page


def test_badges_and_search_marks(pages):
    napari = pages["catalogue/materials/napari-course.md"].body
    omero = pages["catalogue/materials/omero-slides.md"].body
    plain = pages["catalogue/materials/plain-page.md"].body
    # DOI and no dead link: persistent; reviewed: community reviewed
    assert "Community reviewed" in napari and "Persistently available" in napari
    assert "Community reviewed" in omero and "Persistently available" not in omero  # dead link
    assert "fairio-badge" not in plain and "Not reviewed yet" in plain
    assert napari.index("DOI") < napari.index("Licence")  # the DOI comes first
    script = pages["assets/catalogue-index.js"]
    index = json.loads(script.removeprefix("window.fairioCatalogue=").rstrip(";\n"))
    marks = {e["i"]: e.get("q", []) for e in index["entries"]}
    assert marks == {"napari-course": ["reviewed", "persistent"], "omero-slides": ["reviewed"],
                     "plain-page": []}  # fmt: skip
    assert index["marks"]["reviewed"] == "Community reviewed"


def test_reviewer_pages_credit_each_review(pages):
    page = pages[f"catalogue/reviewers/{REVIEWER}.md"]
    assert page.title == "Reviewer: Josiah Carberry"
    assert page.body.count("<li>") == 2
    assert "../materials/napari-course.html" in page.body
    assert "../materials/omero-slides.html" in page.body
    assert "https://orcid.org/0000-0002-1825-0097" in page.body
    index = pages["catalogue/reviewers/index.md"]
    assert "2 reviewers" in index.body and "Jane Doe" in index.body


def test_discussion_link_for_endorsements(pages):
    page = pages["catalogue/materials/plain-page.md"].body
    assert 'href="https://github.com/example/portal/discussions?discussions_q=plain-page"' in page


def test_a_self_review_stops_the_build(tmp_path):
    reviews = {("napari-course", REVIEWER): _review("Lovelace, Ada", REVIEWER, "Mine.")}
    with pytest.raises(InputError, match="CAT065"):
        generated_pages(_sources(tmp_path, reviews))


def test_curator_dashboard(tmp_path):
    reviews = {("napari-course", REVIEWER): _review("Josiah Carberry", REVIEWER, "Good.")}
    sources = _sources(tmp_path, reviews)
    history = tmp_path / "history.jsonl"
    add_run(history, Run("2026-02-02", {"ok": 3}))
    add_run(history, Run("2026-02-09", {"ok": 1, "broken": 1, "gone": 1, "not-checked": 1}))
    sources = dataclasses.replace(sources, links_history=history)
    page = generated_pages(sources)["curation/dashboard.md"]
    sections = dict(
        re.findall(r"<h2>([^<(]+?)(?: \([^<]*\))?</h2>(.*?)(?=<h2>|$)", page.body, re.S)
    )
    # the rules applied to the whole catalogue: two materials give no licence (CAT031)
    assert "CAT031" in sections["Open problems by rule"]
    assert "Image analysis glossary" in sections["Without licence"]
    assert "Segmenting nuclei" not in sections["Without licence"]
    assert sections["Without level"].count("<li>") == 3
    assert "Segmenting nuclei with napari</a></td><td>1<" in sections["Reviews per material"]
    trend = sections["Link health between runs"]
    assert "<td>2026-02-09</td><td>4</td><td>2</td><td>+2</td><td>1</td>" in trend


def test_history_keeps_one_run_per_date_and_refuses_garbage(tmp_path):
    path = tmp_path / "history.jsonl"
    add_run(path, Run("2026-02-02", {"ok": 3}))
    add_run(path, Run("2026-02-02", {"ok": 2, "broken": 1}))  # the same day, run again
    (run,) = read_history(path)
    assert (run.checked, run.failing) == (3, 1)
    path.write_text('{"date": "yesterday", "counts": {}}\n')
    with pytest.raises(InputError, match="line 1"):
        read_history(path)
