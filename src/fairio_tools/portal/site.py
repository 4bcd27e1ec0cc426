"""The generated part of the portal: every page computed from the catalogue, tools and
workflows, keyed by site path. The MkDocs hooks (``portal/hooks.py``) add these to the
build; nothing here imports MkDocs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fairio_tools.catalogue.model import Entry
from fairio_tools.catalogue.peer_review import PeerReview, check_reviews
from fairio_tools.catalogue.review import review_catalogue
from fairio_tools.catalogue.snapshot import read_snapshot
from fairio_tools.errors import InputError
from fairio_tools.galaxy.artifacts import find_tools, find_workflows
from fairio_tools.links.catalogue_links import deprecated_entry_ids, entry_links
from fairio_tools.links.history import read_history
from fairio_tools.links.state import UrlState, read_state
from fairio_tools.portal import (
    dashboard,
    feeds,
    galaxy_pages,
    html,
    learning_paths,
    materials,
    related,
    review_pages,
)
from fairio_tools.portal.html import GeneratedPage


@dataclass(frozen=True)
class PortalSources:
    """Where the generated pages come from (``extra.fairio`` in mkdocs.yml)."""

    catalogue: Path
    tools: Path
    workflows: Path
    links_state: Path
    """The link-health state (``fairio links check --state``); missing means no checks yet."""
    reviews: Path | None = None
    links_history: Path | None = None
    """One line per link-health run (``fairio links check --history``): the dashboard's trends."""
    """The peer-review folder (``<material-id>/<orcid>.yml``); missing means no reviews."""
    discussions: str | None = None
    """The repository's discussions, where material pages send endorsements."""
    site_url: str | None = None
    """Where the portal is published (mkdocs.yml ``site_url``): the feed's absolute links."""
    learning_paths: Path | None = None
    """The folder of learning paths (``<slug>.yml``); missing means none."""
    galaxy: str = galaxy_pages.DEFAULT_GALAXY_URL
    """The Galaxy whose forms "Open in Galaxy" opens."""

    @classmethod
    def from_mkdocs_extra(
        cls, extra: dict, root: Path, site_url: str | None = None
    ) -> PortalSources:
        settings = extra.get("fairio") or {}
        return cls(
            catalogue=root / settings.get("catalogue", "portal/catalogue"),
            tools=root / settings.get("tools", "tools"),
            workflows=root / settings.get("workflows", "workflows"),
            links_state=root / settings.get("links_state", "portal/links-state.jsonl"),
            reviews=root / settings.get("reviews", "portal/reviews"),
            links_history=root / settings.get("links_history", "portal/links-history.jsonl"),
            discussions=settings.get("discussions"),
            site_url=site_url,
            learning_paths=root / settings.get("learning_paths", "portal/learning-paths"),
            galaxy=galaxy_pages.checked_galaxy_url(
                settings.get("galaxy", galaxy_pages.DEFAULT_GALAXY_URL)
            ),
        )


def generated_pages(sources: PortalSources) -> dict[str, GeneratedPage | str]:
    """All generated pages and assets. Raises InputError when the catalogue is invalid."""
    snapshot = read_snapshot(sources.catalogue)  # read once: for the pages and the review
    catalogue = snapshot.catalogue()
    if not catalogue.ok:
        raise InputError(
            f"{len(catalogue.errors)} invalid catalogue entries; first: {catalogue.errors[0]}",
            path=sources.catalogue,
            hint="run: fairio catalogue validate " + str(sources.catalogue),
        )
    entries = catalogue.entries
    tools = [galaxy_pages.read_tool(path) for path in find_tools(sources.tools)]
    workflows = [galaxy_pages.read_workflow(path) for path in find_workflows(sources.workflows)]
    tool_pages = {tool.id: tool.page for tool in tools}

    pages: dict[str, GeneratedPage | str] = {}
    related_pages: dict[str, list[tuple[str, str]]] = {}
    rarity = related.Rarity(entries)

    def material_href(page: str):
        return lambda entry: html.relative_url(page, materials.material_path(entry.id))

    def tool_href(page: str):
        def href(tool_id: str) -> str | None:
            target = tool_pages.get(galaxy_pages.short_tool_id(tool_id))
            return html.relative_url(page, target) if target else None

        return href

    for tool in tools:
        found = related.related_materials({tool.id}, tool.keywords, entries, rarity)
        for entry in found:
            related_pages.setdefault(entry.id, []).append((tool.page, tool.name))
        pages[tool.page] = galaxy_pages.tool_page(
            tool, found, material_href(tool.page), sources.galaxy
        )
    for workflow in workflows:
        keywords = {t.casefold() for t in workflow.tags}
        found = related.related_materials(
            {workflow.id, *workflow.tool_ids}, keywords, entries, rarity
        )
        for entry in found:
            related_pages.setdefault(entry.id, []).append((workflow.page, workflow.name))
        pages[workflow.page] = galaxy_pages.workflow_page(
            workflow, tool_href(workflow.page), found, material_href(workflow.page), sources.galaxy
        )
        pages[workflow.download] = workflow.path.read_text(encoding="utf-8")
    pages[f"{galaxy_pages.SECTION}/index.md"] = galaxy_pages.tools_index(tools, workflows)
    state = read_state(sources.links_state)
    by_id = {entry.id: entry for entry in entries}
    deprecated = {
        entry_id: _deprecated_since(by_id[entry_id], state)
        for entry_id in deprecated_entry_ids(entries, state)
    }
    reviews = _reviews(sources, entries)
    extras = review_pages.material_extras(
        entries, reviews, review_pages.persistent_ids(entries, state), sources.discussions
    )
    marks = {i: extra.marks for i, extra in extras.items() if extra.marks}
    index = materials.search_index(entries, set(deprecated), marks, review_pages.MARK_LABELS)
    pages.update(materials.catalogue_pages(entries, index, related_pages, deprecated, extras))
    pages.update(feeds.feed_pages(entries, sources.site_url, index))
    paths = (
        learning_paths.read_learning_paths(sources.learning_paths, entries)
        if (sources.learning_paths)
        else []
    )
    pages.update(learning_paths.learning_path_pages(paths, entries, sources.site_url))
    pages[f"{feeds.API}/learning-paths.json"] = feeds.json_text(
        {"api": feeds.API_NAME, "learning_paths": [learning_paths.api_record(p) for p in paths]}
    )
    pages.update(review_pages.reviewer_pages(entries, reviews))
    history = read_history(sources.links_history) if sources.links_history else []
    pages[dashboard.PATH] = dashboard.dashboard_page(
        entries, review_catalogue(sources.catalogue, head=snapshot), deprecated, reviews, history
    )
    return pages


def _reviews(sources: PortalSources, entries: list[Entry]) -> list[PeerReview]:
    """The valid peer reviews; an invalid review file stops the build, as an entry does."""
    if sources.reviews is None:
        return []
    checked = check_reviews(sources.reviews, {entry.id: entry.to_dict() for entry in entries})
    if checked.findings:
        path, findings = next(iter(sorted(checked.findings.items())))
        raise InputError(
            f"{len(checked.findings)} invalid review files; first: {path}: "
            f"{findings[0].code} {findings[0].message}",
            path=sources.reviews,
            hint=f"run: fairio catalogue check --reviews {sources.reviews}",
        )
    return checked.reviews


def _deprecated_since(entry: Entry, state: dict[str, UrlState]) -> str:
    """The date the last of an entry's links was deprecated."""
    return max(state[url].deprecated or "" for url in entry_links(entry))
