"""The weekly curator issue: what changed since the last run, then the full report.

The scheduled workflow keeps one open issue (found by its label) and replaces its body with
this one each week, so curators read the news first: links that died this week, pages whose
main text changed, links that work again, materials newly deprecated, and the URLs the run
did not finish (its deadline, or a host that asked to come back later). Everything from the
catalogue is rendered as inert text (:mod:`fairio_tools.markdown_escape`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fairio_tools.catalogue.model import Entry
from fairio_tools.links.catalogue_links import DOI_RESOLVER, deprecated_entry_ids, links_by_url
from fairio_tools.links.report import curator_report
from fairio_tools.links.state import RunOutcome, UrlState
from fairio_tools.links.status import LinkResult, LinkStatus
from fairio_tools.markdown_escape import inline_code, inline_text, table_cell

MARKER = "<!-- fairio-link-health-issue -->"
TITLE = "Link health of the training catalogue"
LABEL = "link-health"
MAX_CHARS = 60_000
"""GitHub refuses issue bodies over 65,536 characters."""
MAX_ROWS = 200
"""Rows per section of the news; the rest are counted."""


def curator_issue(
    outcome: RunOutcome,
    results: Iterable[LinkResult],
    entries: Iterable[Entry],
    *,
    previous: Mapping[str, UrlState],
    today: str,
    doi_resolver: str = DOI_RESOLVER,
    max_chars: int = MAX_CHARS,
) -> dict[str, Any]:
    """The issue the workflow opens or updates: title, label, body and the news as data."""
    entries = list(entries)
    results = list(results)
    names = {entry.id: entry.name for entry in entries}
    users = links_by_url(entries, doi_resolver)
    before = set(deprecated_entry_ids(entries, previous, doi_resolver))
    now = deprecated_entry_ids(entries, outcome.state, doi_resolver)
    unfinished = [r for r in results if not r.status.is_conclusive]
    news = {
        "new_dead_links": outcome.newly_failing,
        "changed_content": outcome.changed,
        "recovered": outcome.recovered,
        "newly_deprecated_materials": [i for i in now if i not in before],
        "not_finished": [r.url for r in unfinished],
    }

    def who(url: str) -> str:
        return "<br>".join(
            f"{inline_text(names.get(i, i))} ({inline_code(i)})" for i in users.get(url, [])
        )

    state = outcome.state
    lines = [MARKER, f"# {TITLE}", "", f"## Since the last run ({today})", ""]
    if not previous:
        lines += ["First run: every link was checked for the first time.", ""]
    sections = (
        ("New dead links", news["new_dead_links"],
         lambda u: f"| {who(u)} | {inline_code(u)} | {state[u].status} | "
                   f"{table_cell(state[u].detail or '')} |",
         "| Material | Link | Status | Detail |"),
        ("Changed content", news["changed_content"],
         lambda u: f"| {who(u)} | {inline_code(u)} |", "| Material | Link |"),
        ("Recovered", news["recovered"],
         lambda u: f"| {who(u)} | {inline_code(u)} | {state[u].status} |",
         "| Material | Link | Status now |"),
        ("Newly deprecated materials", news["newly_deprecated_materials"],
         lambda i: f"| {inline_text(names.get(i, i))} | {inline_code(i)} |", "| Material | Id |"),
        ("Not finished in this run", [r.url for r in unfinished],
         lambda u: f"| {who(u)} | {inline_code(u)} | {table_cell(_reason(results, u))} |",
         "| Material | Link | Why |"),
    )  # fmt: skip
    for heading, items, row, header in sections:
        lines += [f"### {heading} ({len(items)})", ""]
        if not items:
            lines += ["None.", ""]
            continue
        lines += [header, "|" + "---|" * header.count(" | ") + "---|"]
        lines += [row(item) for item in items[:MAX_ROWS]]
        if len(items) > MAX_ROWS:
            lines.append(f"| …and {len(items) - MAX_ROWS} more: see the JSON report |" + " |"
                         * header.count(" | "))  # fmt: skip
        lines.append("")
    summary = "\n".join(lines)
    report = curator_report(state, entries, title="Full report", doi_resolver=doi_resolver)
    report = report.replace("<!-- fairio-link-health -->\n# Full report", "## Full report", 1)
    report = "\n".join(
        "#" + line if line.startswith("## ") and line != "## Full report" else line
        for line in report.splitlines()
    )
    body = summary + "\n" + report + "\n"
    if len(body) > max_chars:
        cut = "\n\n…cut to fit an issue: the full report is the portal's link health page.\n"
        body = body[: max_chars - len(cut)].rsplit("\n", 1)[0] + cut
    return {"title": TITLE, "label": LABEL, "marker": MARKER, "body": body, "news": news}


def _reason(results: list[LinkResult], url: str) -> str:
    result = next(r for r in results if r.url == url)
    if result.status is LinkStatus.RATE_LIMITED:
        return f"rate-limited: {result.detail}" if result.detail else "rate-limited"
    return result.detail or str(result.status)
