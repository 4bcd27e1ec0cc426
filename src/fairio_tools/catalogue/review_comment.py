"""Render a review as a pull-request comment.

Entry files come from untrusted pull requests, so every value taken from them (titles, file
names, fields, values quoted in messages) goes through :mod:`fairio_tools.markdown_escape`:
inside code spans, or with Markdown and HTML specials escaped (no links, images, HTML
comments, entities, @-mentions or issue references can be smuggled into the comment), on one
line, and with bidi and other invisible control characters shown as ``\\uXXXX``.
"""

from __future__ import annotations

from fairio_tools.catalogue.review import EntryReview, Review
from fairio_tools.markdown_escape import inline_code, inline_text, table_cell

MARKER = "<!-- fairio-catalogue-check -->"
"""Lets the posting workflow find and update its earlier comment instead of adding one."""
ICONS = {"error": "❌ error", "warning": "⚠️ warning", "info": "💬 already on base"}


MAX_CHARS = 60_000
"""GitHub refuses comments over 65,536 characters."""


def review_markdown(review: Review, max_chars: int = MAX_CHARS) -> str:
    """The review as GitHub-flavoured Markdown, errors first, at most ``max_chars`` long."""
    errors, warnings, infos = review.error_count, review.warning_count, review.info_count
    verdict = "❌" if errors else ("⚠️" if warnings else "✅")
    known = f", {infos} already on the base branch" if infos else ""
    lines = [
        MARKER,
        f"## {verdict} Catalogue check: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}{known} in {len(review.entries)} "
        f"entr{'ies' if len(review.entries) != 1 else 'y'}",
        "",
    ]
    passing = [e for e in review.entries if not e.findings]
    flagged = sorted(
        (e for e in review.entries if e.findings), key=lambda e: (not e.errors, not e.warnings)
    )
    size = sum(len(line) + 1 for line in lines)
    for shown, entry in enumerate(flagged):
        section = _entry_section(entry)
        size += sum(len(line) + 1 for line in section)
        if size > max_chars - 2_000:
            lines += [f"…and {len(flagged) - shown} more entries with findings: see the JSON "
                      "report or the job summary.", ""]  # fmt: skip
            break
        lines += section
    if passing and size <= max_chars - 2_000:
        names = ", ".join(inline_code(e.label) for e in passing[:100])
        more = f" and {len(passing) - 100} more" if len(passing) > 100 else ""
        lines += [f"✅ No findings: {names}{more}", ""]
    if errors:
        lines.append("Errors block the merge; warnings are for the curators to judge.")
    if infos:
        lines.append("Problems already on the base branch are shown for information; they do "
                     "not block this change.")  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"


def _entry_section(entry: EntryReview) -> list[str]:
    title = f": {inline_text(entry.name)}" if entry.name else ""
    lines = [
        f"### {inline_code(entry.label)}{title}",
        "",
        "| | Rule | Field | What is wrong | How to fix |",
        "|---|---|---|---|---|",
    ]
    for finding in entry.findings:
        field = inline_code(finding.field) if finding.field else "file"
        lines.append(
            f"| {ICONS[finding.severity]} | {finding.code} | {field} | "
            f"{table_cell(finding.message)} | {table_cell(finding.fix)} |"
        )
    return [*lines, ""]
