"""The curator dashboard: what needs a curator, on one generated page.

Open problems by review rule (the pull-request rules applied to the whole catalogue),
deprecated materials, materials without licence, level or language, reviews per material,
and the trend of link health between runs (from the history file).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from fairio_tools.catalogue.model import Entry
from fairio_tools.catalogue.peer_review import PeerReview
from fairio_tools.catalogue.review import Review
from fairio_tools.catalogue.review_findings import RULES
from fairio_tools.links.history import Run
from fairio_tools.portal import html
from fairio_tools.portal.html import GeneratedPage
from fairio_tools.portal.materials import material_path

PATH = "curation/dashboard.md"
LISTED = 30
"""Materials named per row or list; the rest are counted."""


def dashboard_page(
    entries: list[Entry],
    review: Review,
    deprecated: Mapping[str, str],
    reviews: Iterable[PeerReview],
    history: list[Run],
) -> GeneratedPage:
    """The dashboard page."""
    names = {entry.id: entry.name for entry in entries}
    parts = [f"<p>{len(entries)} materials. Generated at every build of the portal.</p>"]
    parts += _problems(review, names)
    parts += [f"<h2>Deprecated materials ({len(deprecated)})</h2>"]
    parts.append(_materials(sorted(deprecated, key=lambda i: (deprecated[i], i)), names,
                            lambda i: f"since {deprecated[i]}"))  # fmt: skip
    for label, missing in (
        ("licence", [e.id for e in entries if not e.license]),
        ("level", [e.id for e in entries if not e.levels]),
        ("language", [e.id for e in entries if not e.language]),
    ):
        parts += [f"<h2>Without {label} ({len(missing)})</h2>", _materials(missing, names)]
    parts += _reviews(list(reviews), names)
    parts += _trends(history)
    return html.page("Curator dashboard", "\n".join(parts))


def _link(material: str, names: Mapping[str, str]) -> str:
    return html.link(html.relative_url(PATH, material_path(material)), names[material])


def _materials(ids: list[str], names: Mapping[str, str], note=None) -> str:
    if not ids:
        return "<p>None.</p>"
    items = "".join(
        f"<li>{_link(i, names)}"
        + (f' <span class="fairio-meta">({html.text(note(i))})</span>' if note else "")
        + "</li>"
        for i in ids[:LISTED]
    )
    more = f"<p>…and {len(ids) - LISTED} more.</p>" if len(ids) > LISTED else ""
    return f'<ul class="fairio-list">{items}</ul>{more}'


def _problems(review: Review, names: Mapping[str, str]) -> list[str]:
    by_rule: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entry in review.entries:
        for finding in entry.findings:
            by_rule[(finding.code, finding.severity)].append(entry.entry_id)
    rows = []
    for (code, severity), ids in sorted(by_rule.items()):
        named = [i for i in dict.fromkeys(ids) if i in names]
        shown = ", ".join(_link(i, names) for i in named[:LISTED])
        if len(named) > LISTED:
            shown += f" …and {len(named) - LISTED} more"
        rows.append(f"<tr><td>{code}</td><td>{html.text(RULES[code])}</td><td>{severity}</td>"
                    f"<td>{len(ids)}</td><td>{shown}</td></tr>")  # fmt: skip
    total = sum(len(ids) for ids in by_rule.values())
    head = f"<h2>Open problems by rule ({total})</h2>"
    if not rows:
        return [head, "<p>None.</p>"]
    return [head, '<table class="fairio-facts"><thead><tr><th>Rule</th><th>What</th>'
            "<th>Severity</th><th>Findings</th><th>Materials</th></tr></thead><tbody>",
            *rows, "</tbody></table>"]  # fmt: skip


def _reviews(reviews: list[PeerReview], names: Mapping[str, str]) -> list[str]:
    per = Counter(r.material for r in reviews if r.material in names)
    head = f"<h2>Reviews per material ({len(per)} of {len(names)} materials reviewed)</h2>"
    if not per:
        return [head, "<p>No reviews yet.</p>"]
    rows = "".join(
        f"<tr><td>{_link(i, names)}</td><td>{n}</td></tr>"
        for i, n in sorted(per.items(), key=lambda kv: (-kv[1], names[kv[0]].casefold()))
    )
    return [head, '<table class="fairio-facts"><thead><tr><th>Material</th><th>Reviews</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"]  # fmt: skip


def _trends(history: list[Run]) -> list[str]:
    head = "<h2>Link health between runs</h2>"
    if not history:
        return [head, "<p>No link-health run recorded yet.</p>"]
    rows = []
    previous = None
    for run in history:
        change = "" if previous is None else f"{run.failing - previous.failing:+d}"
        rows.append(
            f"<tr><td>{run.date}</td><td>{run.checked}</td><td>{run.failing}</td>"
            f"<td>{change}</td><td>{run.counts.get('not-checked', 0)}</td></tr>"
        )
        previous = run
    return [head, '<table class="fairio-facts"><thead><tr><th>Run</th><th>Links</th>'
            "<th>Failing</th><th>Change</th><th>Not finished</th></tr></thead><tbody>",
            *rows[-LISTED:], "</tbody></table>"]  # fmt: skip
