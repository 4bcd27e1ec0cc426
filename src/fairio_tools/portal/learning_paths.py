"""Learning paths: ordered catalogue materials with a goal, a level and prerequisites.

Each path is one YAML file in the learning-paths folder (``extra.fairio.learning_paths``),
read through :mod:`fairio_tools.safe_yaml` as a regular file confined to that folder. A path
gets its own page, with Bioschemas ``Course`` / ``LearningResource`` JSON-LD whose parts are
its materials, and is listed in ``api/v1/learning-paths.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairio_tools.catalogue.bioschemas import script_json
from fairio_tools.catalogue.model import Entry, levels
from fairio_tools.confined import read_inside
from fairio_tools.errors import InputError
from fairio_tools.portal import html, materials
from fairio_tools.portal.html import GeneratedPage
from fairio_tools.safe_yaml import MAX_YAML_BYTES, parse_yaml

SECTION = "learning-paths"
COURSE_PROFILE = "https://bioschemas.org/profiles/Course/1.0-RELEASE"
MAX_PATHS = 200
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KEYS = {"name", "goal", "level", "prerequisites", "source", "steps"}


@dataclass(frozen=True)
class Step:
    title: str
    why: str
    materials: tuple[str, ...]


@dataclass(frozen=True)
class LearningPath:
    id: str
    name: str
    goal: str
    level: str
    prerequisites: tuple[str, ...]
    steps: tuple[Step, ...]
    source: str | None = None

    @property
    def page(self) -> str:
        return f"{SECTION}/{self.id}.md"


def read_learning_paths(folder: Path, entries: list[Entry]) -> list[LearningPath]:
    """Every ``*.yml`` path in ``folder`` (none when it is missing), checked against the
    catalogue. Raises InputError naming the file when one is not a valid path."""
    if not folder.is_dir():
        return []
    names = sorted(p.name for p in folder.iterdir() if p.suffix == ".yml")
    if len(names) > MAX_PATHS:
        raise InputError(f"{len(names)} learning paths, more than {MAX_PATHS}", path=folder)
    known = {entry.id for entry in entries}
    paths = []
    for name in names:
        data = read_inside(folder, name, MAX_YAML_BYTES)
        if data is None:
            continue
        paths.append(_learning_path(folder / name, parse_yaml(data, folder / name), known))
    return paths


def _learning_path(path: Path, data: Any, known: set[str]) -> LearningPath:
    def problem(message: str) -> InputError:
        return InputError(message, path=path, hint="see portal/learning-paths/README.md")

    if not _ID.match(path.stem):
        raise problem("the file name is not a slug (a-z, 0-9, hyphens)")
    if not isinstance(data, dict) or not {"name", "goal", "level", "steps"} <= data.keys():
        raise problem("a learning path needs name, goal, level and steps")
    if unknown := sorted(set(data) - _KEYS):
        raise problem(f"unknown keys: {', '.join(map(str, unknown))}")
    if data["level"] not in levels():
        raise problem(f"level {data['level']!r} is not one of {', '.join(levels())}")
    texts = [data["name"], data["goal"], *(data.get("prerequisites") or [])]
    if not all(isinstance(t, str) and t.strip() for t in texts):
        raise problem("name, goal and prerequisites must be text")
    source = data.get("source")
    if source is not None and not (isinstance(source, str) and source.startswith("https://")):
        raise problem("source must be an https:// URL")
    raw_steps = data["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        raise problem("steps must be a list of {title, why, materials}")
    steps = []
    for number, step in enumerate(raw_steps, 1):
        if not isinstance(step, dict) or set(step) != {"title", "why", "materials"}:
            raise problem(f"step {number} needs exactly title, why and materials")
        ids = step["materials"]
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise problem(f"step {number}: materials must list catalogue entry ids")
        if missing := [i for i in ids if i not in known]:
            raise problem(f"step {number}: no catalogue entry {', '.join(missing)}")
        if not all(isinstance(step[k], str) and step[k].strip() for k in ("title", "why")):
            raise problem(f"step {number}: title and why must be text")
        steps.append(Step(step["title"].strip(), step["why"].strip(), tuple(ids)))
    return LearningPath(
        id=path.stem,
        name=data["name"].strip(),
        goal=data["goal"].strip(),
        level=data["level"],
        prerequisites=tuple(t.strip() for t in data.get("prerequisites") or []),
        steps=tuple(steps),
        source=source,
    )


def learning_path_pages(
    paths: list[LearningPath], entries: list[Entry], site_url: str | None
) -> dict[str, GeneratedPage]:
    """The index of learning paths and one page per path."""
    by_id = {entry.id: entry for entry in entries}
    index = f"{SECTION}/index.md"
    items = "".join(
        f"<li>{html.link(html.relative_url(index, p.page), p.name)} "
        f'<span class="fairio-meta">({html.text(levels()[p.level])}, '
        f"{len(p.steps)} steps)</span>: {html.text(p.goal)}</li>"
        for p in paths
    )
    pages: dict[str, GeneratedPage] = {
        index: html.page(
            "Learning paths",
            "<p>Ordered selections of catalogue materials, each with a goal, a level and what "
            f'to know first.</p><ul class="fairio-list">{items}</ul>',
            search=True,
        )
    }
    for path in paths:
        pages[path.page] = _path_page(path, by_id, site_url)
    return pages


def _path_page(path: LearningPath, by_id: dict[str, Entry], site_url: str | None) -> GeneratedPage:
    here = path.page
    facts = [
        ("Goal", html.text(path.goal)),
        ("Level", html.text(levels()[path.level])),
        ("Prerequisites", html.text("; ".join(path.prerequisites) or "none")),
        ("Steps", str(len(path.steps))),
    ]
    if path.source:
        facts.append(("Background reading", html.external_link(path.source)))
    body = ['<table class="fairio-facts"><tbody>']
    body += [f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in facts]
    body.append('</tbody></table><ol class="fairio-path">')
    for step in path.steps:
        links = "".join(
            f"<li>{html.link(html.relative_url(here, materials.material_path(i)), by_id[i].name)}"
            f' <span class="fairio-meta">({html.text(", ".join(by_id[i].type_labels))})'
            "</span></li>"
            for i in step.materials
        )
        body.append(
            f"<li><h2>{html.text(step.title)}</h2><p>{html.text(step.why)}</p><ul>{links}</ul></li>"
        )
    body.append("</ol>")
    body.append(
        '<script type="application/ld+json">'
        + script_json(path_jsonld(path, by_id, site_url))
        + "</script>"
    )
    return html.page(path.name, "\n".join(body), search=True)


def path_jsonld(
    path: LearningPath, by_id: dict[str, Entry], site_url: str | None
) -> dict[str, Any]:
    """A path as a Bioschemas Course (and LearningResource) whose parts are its materials."""
    node: dict[str, Any] = {
        "@context": {"@vocab": "https://schema.org/", "dct": "http://purl.org/dc/terms/"},
        "@type": ["Course", "LearningResource"],
        "dct:conformsTo": {"@id": COURSE_PROFILE},
        "name": path.name,
        "description": path.goal,
        "educationalLevel": levels()[path.level],
        "keywords": ", ".join(dict.fromkeys(s.title for s in path.steps)),
        "hasPart": [
            {
                "@type": "LearningResource",
                "position": n,
                "name": by_id[i].name,
                "url": by_id[i].link,
            }
            for n, i in enumerate(_material_ids(path), 1)
        ],
    }
    if site_url:
        node["url"] = site_url.rstrip("/") + "/" + path.page.removesuffix(".md") + ".html"
    if path.prerequisites:
        node["coursePrerequisites"] = list(path.prerequisites)
    if path.source:
        node["citation"] = path.source
    return node


def _material_ids(path: LearningPath) -> list[str]:
    return [i for step in path.steps for i in step.materials]


def api_record(path: LearningPath) -> dict[str, Any]:
    """A path as ``api/v1/learning-paths.json`` lists it."""
    return {
        "id": path.id,
        "page": path.page.removesuffix(".md") + ".html",
        "name": path.name,
        "goal": path.goal,
        "level": path.level,
        "prerequisites": list(path.prerequisites),
        "source": path.source,
        "steps": [
            {"title": s.title, "why": s.why, "materials": list(s.materials)} for s in path.steps
        ],
    }
