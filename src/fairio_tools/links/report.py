"""The curator report: broken, moved, changed and deprecated materials, with dates.

Rendered from the state file (and the catalogue, for titles) as one Markdown page. The same
page becomes the portal's curation page and the body of the scheduled curator issue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from fairio_tools.catalogue.model import Entry
from fairio_tools.links.catalogue_links import (
    DOI_RESOLVER,
    deprecated_entry_ids,
    links_by_url,
)
from fairio_tools.links.state import UrlState
from fairio_tools.links.status import LinkStatus
from fairio_tools.markdown_escape import inline_code, inline_text, table_cell

MARKER = "<!-- fairio-link-health -->"


def curator_report(
    state: Mapping[str, UrlState],
    entries: Iterable[Entry],
    *,
    title: str = "Link health of the training catalogue",
    doi_resolver: str = DOI_RESOLVER,
) -> str:
    """The Markdown report page."""
    entries = list(entries)
    names = {entry.id: entry.name for entry in entries}
    users = links_by_url(entries, doi_resolver)
    records = [state[url] for url in sorted(state) if url in users]
    counts = Counter(record.status for record in records)
    failing = [r for r in records if LinkStatus(r.status).is_failure]
    moved = [r for r in records if r.moved_to and not LinkStatus(r.status).is_failure]
    changed = sorted((r for r in records if r.content_changed), key=lambda r: r.content_changed,
                     reverse=True)  # fmt: skip
    deprecated = deprecated_entry_ids(entries, state, doi_resolver)
    checked = max((r.since for r in records), default="never")

    def materials(record: UrlState) -> str:
        return "<br>".join(
            f"{inline_text(names[i])} ({inline_code(i)})" for i in users.get(record.url, [])
        )

    if not records:
        return (f"{MARKER}\n# {title}\n\nNo link check has run yet: the weekly *Link health* "
                "workflow (`fairio links check`) fills this page.\n")  # fmt: skip
    lines = [
        MARKER,
        f"# {title}",
        "",
        f"{len(records)} links of {len(entries)} materials checked; latest status change "
        f"{checked}. "
        f"A material is deprecated (hidden from default search, never deleted) when all its "
        f"links failed in consecutive runs; it comes back as soon as one works again.",
        "",
        "| Status | Links |",
        "|---|---|",
        *(f"| {status} | {count} |" for status, count in sorted(counts.items())),
        "",
        f"## Deprecated materials ({len(deprecated)})",
        "",
    ]
    if deprecated:
        lines += ["| Material | Deprecated on | Links |", "|---|---|---|"]
        for entry in entries:
            if entry.id in deprecated:
                dates = sorted(state[u].deprecated or "" for u in users if entry.id in users[u])
                links = "<br>".join(inline_code(u) for u in users if entry.id in users[u])
                lines.append(
                    f"| {inline_text(entry.name)} ({inline_code(entry.id)}) | {dates[-1]} | "
                    f"{links} |"
                )
    else:
        lines.append("None.")
    lines += ["", f"## Broken links ({len(failing)})", ""]
    if failing:
        lines += ["| Material | Link | Status | Since | Failing runs | Detail |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for r in sorted(failing, key=lambda r: (r.since, r.url)):
            lines.append(
                f"| {materials(r)} | {inline_code(r.url)} | {r.status} | {r.since} | "
                f"{r.failures} | {table_cell(r.detail or '')} |"
            )
    else:
        lines.append("None.")
    lines += ["", f"## Moved permanently ({len(moved)})", ""]
    if moved:
        lines += ["| Material | Link | Now at |", "|---|---|---|"]
        for r in moved:
            lines.append(f"| {materials(r)} | {inline_code(r.url)} | {inline_code(r.moved_to)} |")
    else:
        lines.append("None.")
    lines += ["", f"## Changed content ({len(changed)})", ""]
    if changed:
        lines += ["| Material | Link | Main text changed on |", "|---|---|---|"]
        for r in changed:
            lines.append(f"| {materials(r)} | {inline_code(r.url)} | {r.content_changed} |")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
