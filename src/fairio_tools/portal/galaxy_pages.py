"""Pages for our Galaxy tools (from their XML, via galaxy-tool-util) and workflows (.ga).

A tool page shows what the tool is for, its inputs and outputs, its help (reStructuredText
rendered by docutils with raw HTML and file inclusion switched off), EDAM terms, citations
and the catalogue materials that teach it. A workflow page shows its steps as a Mermaid
diagram and, for reading without JavaScript or offline, as a plain list.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fairio_tools.catalogue.model import Entry
from fairio_tools.errors import InputError
from fairio_tools.galaxy.artifacts import MAIN_TOOL_SHED, read_shed_yml
from fairio_tools.portal import html
from fairio_tools.portal.html import GeneratedPage

SECTION = "tools"
MERMAID_SCRIPT = "assets/vendor/mermaid/mermaid.min.js"
"""Shipped with the site: mkdocs-material then renders diagrams without fetching Mermaid."""
DEFAULT_GALAXY_URL = "http://127.0.0.1:8080"
"""Where tool pages open tools: the Galaxy that ``make run`` serves (``extra.fairio.galaxy``)."""
EDAM_URL = "https://edamontology.org/"
DOI_URL = "https://doi.org/"
EDAM_LABELS = {
    "topic_3382": "Imaging",
    "topic_3383": "Bioimaging",
    "topic_3384": "Medical imaging",
    "topic_0091": "Bioinformatics",
    "topic_3489": "Database management",
    "topic_3474": "Machine learning",
    "topic_3316": "Computer science",
    "topic_0219": "Data submission, annotation and curation",
    "operation_3443": "Image analysis",
    "operation_3434": "Conversion",
    "operation_3457": "Image segmentation",
    "operation_3552": "Microscope image visualisation",
    "operation_2409": "Data handling",
    "operation_0336": "Format validation",
    "operation_2428": "Validation",
    "operation_3218": "Sequencing quality control",
    "operation_3927": "Network analysis",
    "operation_3096": "Editing",
    "operation_3436": "Aggregation",
    "operation_3282": "ID mapping",
    "operation_2422": "Data retrieval",
    "operation_3359": "Splitting",
}
"""Labels of EDAM terms our tools use (shown offline; unknown ids are shown as ids)."""
_STOPWORDS = {"with", "from", "into", "that", "this", "image", "images", "data", "file", "files"}


@dataclass
class ToolDoc:
    """What a tool page shows, read from the tool XML."""

    id: str
    name: str
    description: str
    version: str
    path: Path
    inputs: list[dict[str, str]] = field(default_factory=list)
    outputs: list[dict[str, str]] = field(default_factory=list)
    help_html: str = ""
    edam_topics: list[str] = field(default_factory=list)
    edam_operations: list[str] = field(default_factory=list)
    citations: list[tuple[str, str]] = field(default_factory=list)
    xrefs: list[tuple[str, str]] = field(default_factory=list)
    license: str | None = None
    shed_id: str = ""
    """The id servers give the tool installed from the main Tool Shed (from ``.shed.yml``)."""

    @property
    def page(self) -> str:
        return f"{SECTION}/{self.id}.md"

    def galaxy_link(self, galaxy_url: str) -> str:
        """The tool's form in the Galaxy at ``galaxy_url``: by its Tool Shed id, which Galaxy
        resolves against every Tool Shed it knows (the local harness's too)."""
        return f"{galaxy_url.rstrip('/')}/tool_runner?tool_id={quote(self.shed_id or self.id)}"

    @property
    def keywords(self) -> set[str]:
        words = re.findall(r"[a-z0-9][a-z0-9-]+", f"{self.name} {self.description}".lower())
        return {w for w in words if len(w) > 3 and w not in _STOPWORDS}


@dataclass
class WorkflowDoc:
    """What a workflow page shows, read from the .ga file."""

    id: str
    name: str
    annotation: str
    path: Path
    steps: list[dict[str, Any]] = field(default_factory=list)
    license: str | None = None
    release: str | None = None
    creators: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def page(self) -> str:
        return f"workflows/{self.id}.md"

    @property
    def download(self) -> str:
        """Where the site keeps a copy of the ``.ga`` file, next to the page."""
        return f"workflows/{self.id}.ga"

    @property
    def tool_ids(self) -> set[str]:
        """Short ids of the tools the steps run (Tool Shed ids reduced to the tool id)."""
        return {short_tool_id(step["tool_id"]) for step in self.steps if step["tool_id"]}


def short_tool_id(tool_id: str) -> str:
    """``toolshed.g2.bx.psu.edu/repos/owner/repo/fairio_x/1.0`` → ``fairio_x``."""
    parts = tool_id.split("/")
    return parts[-2] if len(parts) > 2 else tool_id


def read_tool(path: Path) -> ToolDoc:
    """Parse a tool XML with galaxy-tool-util (macros expanded as Galaxy does)."""
    from galaxy.tool_util.parser import get_tool_source

    try:
        source = get_tool_source(str(path))
        tool_id = source.parse_id()
    except Exception as error:  # galaxy-tool-util raises many kinds for bad XML
        raise InputError(f"not a readable Galaxy tool ({error})", path=path) from None
    if not tool_id:
        raise InputError("tool has no id", path=path)
    help_content = source.parse_help()
    help_format = getattr(help_content, "format", "restructuredtext")
    help_text = getattr(help_content, "content", help_content) or ""
    outputs, _collections = source.parse_outputs(None)
    return ToolDoc(
        id=tool_id,
        name=source.parse_name() or tool_id,
        description=source.parse_description() or "",
        version=source.parse_version() or "",
        path=path,
        inputs=_inputs(source),
        outputs=[
            {"name": name, "format": getattr(out, "format", "") or "", "label": _label(out)}
            for name, out in outputs.items()
        ],
        help_html=_render_help(str(help_text), help_format),
        edam_topics=list(source.parse_edam_topics()),
        edam_operations=list(source.parse_edam_operations()),
        citations=[(c.type, c.content) for c in _citations(source)],
        xrefs=[(x.get("reftype", ""), x.get("value", "")) for x in source.parse_xrefs()],
        license=source.parse_license() if hasattr(source, "parse_license") else None,
        shed_id=_shed_id(path, tool_id, source.parse_version() or ""),
    )


def _shed_id(path: Path, tool_id: str, version: str) -> str:
    """``toolshed.g2.bx.psu.edu/repos/<owner>/<repository>/<tool id>/<version>``, or "" for a
    tool folder without ``.shed.yml``."""
    shed_yml = path.parent / ".shed.yml"
    if not shed_yml.is_file():
        return ""
    repository = read_shed_yml(shed_yml)
    return f"{MAIN_TOOL_SHED}/repos/{repository.owner}/{repository.name}/{tool_id}/{version}"


def read_workflow(path: Path) -> WorkflowDoc:
    """Read a Galaxy ``.ga`` workflow (format-version 0.1 JSON)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"not a readable workflow ({error})", path=path) from None
    if not isinstance(document, dict) or not isinstance(document.get("steps"), dict):
        raise InputError("not a Galaxy workflow (no 'steps')", path=path)
    steps = []
    for key, step in sorted(document["steps"].items(), key=lambda kv: int(kv[0])):
        connections = []
        for input_name, links in (step.get("input_connections") or {}).items():
            for link in links if isinstance(links, list) else [links]:
                if isinstance(link, dict) and "id" in link:
                    connections.append((int(link["id"]), input_name))
        steps.append(
            {
                "id": int(step.get("id", key)),
                "type": str(step.get("type", "tool")),
                "label": str(step.get("label") or step.get("name") or f"Step {key}"),
                "annotation": str(step.get("annotation") or ""),
                "tool_id": str(step.get("tool_id") or ""),
                "connections": connections,
            }
        )
    creators = [str(c.get("name", "")) for c in document.get("creator") or [] if c.get("name")]
    return WorkflowDoc(
        id=path.stem,
        name=str(document.get("name") or path.stem),
        annotation=str(document.get("annotation") or ""),
        path=path,
        steps=steps,
        license=document.get("license"),
        release=document.get("release"),
        creators=creators,
        tags=[str(t) for t in document.get("tags") or []],
    )


def tool_page(
    tool: ToolDoc, materials: list[Entry], material_href, galaxy_url: str = DEFAULT_GALAXY_URL
) -> GeneratedPage:
    """One tool page; ``material_href(entry)`` links a material, "Open in Galaxy" the tool's
    form in the Galaxy at ``galaxy_url``."""
    facts = [
        ("Tool id", f"<code>{html.text(tool.id)}</code>"),
        ("Tool Shed id", f"<code>{html.text(tool.shed_id)}</code>" if tool.shed_id else ""),
        ("Version", html.text(tool.version)),
        ("Licence", html.text(tool.license or "")),
        ("EDAM topics", _edam(tool.edam_topics)),
        ("EDAM operations", _edam(tool.edam_operations)),
        ("Cross-references", ", ".join(_xref(kind, value) for kind, value in tool.xrefs)),
    ]
    parts = [
        f'<p class="fairio-lead">{html.text(tool.description)}</p>' if tool.description else "",
        _open_in_galaxy(tool, galaxy_url),
        '<table class="fairio-facts"><tbody>',
        *(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts if v),
        "</tbody></table>",
        "<h2>Inputs</h2>",
        _table(("Name", "Label", "Type", "Formats", "Help"), tool.inputs),
        "<h2>Outputs</h2>",
        _table(("Name", "Label", "Format"), tool.outputs),
    ]
    if tool.help_html:
        parts += ["<h2>Help</h2>", f'<div class="fairio-help">{tool.help_html}</div>']
    if tool.citations:
        items = "".join(f"<li>{_citation(kind, value)}</li>" for kind, value in tool.citations)
        parts.append(f"<h2>Citations</h2><ul>{items}</ul>")
    parts.append(_materials_section(materials, material_href))
    return html.page(tool.name, "\n".join(p for p in parts if p), search=True)


def checked_galaxy_url(value: object) -> str:
    """The ``galaxy`` setting of ``extra.fairio``: an http(s) address without query."""
    if not isinstance(value, str) or not re.fullmatch(r"https?://[A-Za-z0-9.:\[\]/_~-]+", value):
        raise InputError(
            f"extra.fairio.galaxy is not an http(s) address: {value!r}", path="mkdocs.yml"
        )
    return value.rstrip("/")


def _open_in_galaxy(tool: ToolDoc, galaxy_url: str) -> str:
    link = html.text(tool.galaxy_link(galaxy_url))
    return (
        f'<p><a class="md-button md-button--primary" href="{link}">Open in Galaxy</a> '
        f'<span class="fairio-meta">at {html.text(galaxy_url)}; on another Galaxy server, '
        f"search its tool panel for {html.text(tool.name)}.</span></p>"
    )


def workflow_page(
    workflow: WorkflowDoc,
    tool_href,
    materials: list[Entry],
    material_href,
    galaxy_url: str = DEFAULT_GALAXY_URL,
) -> GeneratedPage:
    """One workflow page: its ``.ga`` to download with import instructions, a Mermaid diagram
    plus the same steps as a list."""
    by_id = {step["id"]: step for step in workflow.steps}
    facts = [
        ("Release", html.text(workflow.release or "")),
        ("Licence", html.text(workflow.license or "")),
        ("Creators", html.text(", ".join(workflow.creators))),
        ("Tags", html.text(", ".join(workflow.tags))),
    ]
    items = []
    for step in workflow.steps:
        sources = ", ".join(
            f"{html.text(by_id[i]['label'])} → {html.text(name)}"
            for i, name in step["connections"]
            if i in by_id
        )
        tool = step["tool_id"]
        tool_link = tool_href(tool)
        what = html.link(tool_link, tool) if tool_link else html.text(tool or step["type"])
        note = f" — {html.text(step['annotation'])}" if step["annotation"] else ""
        inputs = f'<br><span class="fairio-meta">from {sources}</span>' if sources else ""
        items.append(f"<li><strong>{html.text(step['label'])}</strong> ({what}){note}{inputs}</li>")
    parts = [
        html.paragraphs(workflow.annotation) if workflow.annotation else "",
        '<table class="fairio-facts"><tbody>',
        *(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts if v),
        "</tbody></table>",
        _run_in_galaxy(workflow, galaxy_url),
        "<h2>Steps</h2>",
        f'<script src="{html.relative_url(workflow.page, MERMAID_SCRIPT)}"></script>',
        f'<pre class="mermaid"><code>{html.text(mermaid_flowchart(workflow))}</code></pre>',
        f'<ol class="fairio-steps">{"".join(items)}</ol>',
        _materials_section(materials, material_href),
    ]
    return html.page(workflow.name, "\n".join(p for p in parts if p), search=True)


def _run_in_galaxy(workflow: WorkflowDoc, galaxy_url: str) -> str:
    download = html.text(html.relative_url(workflow.page, workflow.download))
    workflows = html.text(f"{galaxy_url.rstrip('/')}/workflows/list")
    name = html.text(workflow.path.name)
    return (
        "<h2>Run it in Galaxy</h2>"
        f'<p><a class="md-button md-button--primary" href="{download}" download="{name}">'
        f"Download {name}</a></p><ol>"
        f"<li>In the Galaxy that <code>make run</code> starts it is imported already: "
        f'<a href="{workflows}">Workflows</a>, then the ▶ (run) button of '
        f"<em>{html.text(workflow.name)}</em>.</li>"
        "<li>On another Galaxy server: <strong>Workflows → Import</strong>, choose the "
        "downloaded file (or paste this file's address), <strong>Import workflow</strong>. "
        "Galaxy lists any tool the server lacks; an admin installs it from the Tool Shed "
        "(see the admin guide).</li>"
        "<li>Upload the inputs (<strong>Upload</strong>, top of the tool panel), then run the "
        "workflow and pick them in its form.</li></ol>"
    )


def mermaid_flowchart(workflow: WorkflowDoc) -> str:
    """The workflow's steps and connections as Mermaid ``flowchart LR`` source."""
    lines = ["flowchart LR"]
    for step in workflow.steps:
        shape = (
            ('[/"', '"/]')
            if step["type"].startswith("data") or "input" in step["type"]
            else ('["', '"]')
        )
        lines.append(f"  s{step['id']}{shape[0]}{_mermaid_text(step['label'])}{shape[1]}")
    for step in workflow.steps:
        for source, _name in step["connections"]:
            lines.append(f"  s{source} --> s{step['id']}")
    return "\n".join(lines)


def tools_index(tools: list[ToolDoc], workflows: list[WorkflowDoc]) -> GeneratedPage:
    """The overview page of tools and workflows."""
    here = f"{SECTION}/index.md"
    tool_items = "".join(
        f"<li>{html.link(html.relative_url(here, t.page), t.name)} "
        f'<span class="fairio-meta">{html.text(t.description)}</span></li>'
        for t in sorted(tools, key=lambda t: t.name.casefold())
    )
    workflow_items = "".join(
        f"<li>{html.link(html.relative_url(here, w.page), w.name)}</li>"
        for w in sorted(workflows, key=lambda w: w.name.casefold())
    )
    parts = [
        "<p>Every page here is generated from the tool XML and workflow files of this "
        "repository when the site is built, so it says what the code does.</p>",
        f"<h2>Galaxy tools</h2><ul>{tool_items or '<li>No tools yet.</li>'}</ul>",
        f"<h2>Workflows</h2><ul>{workflow_items or '<li>No workflows yet.</li>'}</ul>",
    ]
    return html.page("Tools and workflows", "\n".join(parts), search=True)


def _inputs(source) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for page in source.parse_input_pages().page_sources:
        _collect_inputs(page.parse_input_sources(), "", rows)
    return rows


def _collect_inputs(input_sources, prefix: str, rows: list[dict[str, str]]) -> None:
    for item in input_sources:
        kind = item.parse_input_type()
        name = prefix + (item.get("name") or "")
        if kind == "param":
            rows.append(
                {
                    "name": name,
                    "label": item.get("label") or item.get("argument") or "",
                    "type": item.get("type") or "",
                    "format": item.get("format") or "",
                    "help": item.get("help") or "",
                }
            )
        elif kind == "conditional":
            test = item.parse_test_input_source()
            _collect_inputs([test], f"{name}|", rows)
            for _value, when in item.parse_when_input_sources():
                _collect_inputs(when.parse_input_sources(), f"{name}|", rows)
        elif kind in ("repeat", "section"):
            nested = item.parse_nested_inputs_source().parse_input_sources()
            _collect_inputs(nested, f"{name}|", rows)


def _label(output) -> str:
    label = getattr(output, "label", "") or ""
    # "${tool.name} on ${on_string}: table" or "${input.element_identifier}: table"
    named = r"\$\{(tool\.name\} on \$\{on_string|[\w.]+\.element_identifier)\}:?\s*"
    return re.sub(named, "", label)


def _citations(source) -> list:
    try:
        return list(source.parse_citations())
    except Exception:  # older galaxy-tool-util returns elements
        return []


def _render_help(text: str, help_format: str) -> str:
    """Tool help as HTML: reST through docutils with raw HTML and includes disabled."""
    if not text.strip():
        return ""
    if help_format == "markdown":
        import markdown

        return markdown.markdown(html.text(text))
    from docutils.core import publish_parts

    parts = publish_parts(
        text,
        writer_name="html5",
        settings_overrides={
            "raw_enabled": False,
            "file_insertion_enabled": False,
            "report_level": 5,
            "halt_level": 5,
            "doctitle_xform": False,
            "initial_header_level": 3,
        },
    )
    return parts["body"]


def _table(header: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    if not rows:
        return "<p>None.</p>"
    keys = [h.lower().replace("formats", "format") for h in header]
    head = "".join(f"<th>{html.text(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.text(row.get(k, ''))}</td>" for k in keys) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _edam(terms: list[str]) -> str:
    return ", ".join(
        html.external_link(f"{EDAM_URL}{term}", f"{EDAM_LABELS.get(term, term)} ({term})")
        for term in terms
        if re.fullmatch(r"(topic|operation|format|data)_\d{4}", term)
    )


def _xref(kind: str, value: str) -> str:
    urls = {"bio.tools": "https://bio.tools/", "biii": "https://biii.eu/"}
    if kind in urls and re.fullmatch(r"[A-Za-z0-9_.-]+", value):
        return html.external_link(urls[kind] + value, f"{kind}: {value}")
    return html.text(f"{kind}: {value}")


def _citation(kind: str, value: str) -> str:
    if kind == "doi":
        return html.external_link(DOI_URL + value.strip(), f"doi:{value.strip()}")
    fields = bibtex_fields(value)
    if "title" not in fields:
        return f"<pre>{html.text(value.strip())}</pre>"
    authors = fields.get("author", "").replace(" and others", " et al.").replace(" and ", "; ")
    where = ", ".join(fields[k] for k in ("journal", "volume", "pages") if k in fields)
    cited = (f"{authors} ({fields.get('year', 'n.d.')})", fields["title"], where)
    text = html.text(". ".join(part for part in cited if part) + ".")
    if "doi" in fields and re.fullmatch(r"10\.\d{4,9}/\S+", fields["doi"]):
        text += " " + html.external_link(DOI_URL + fields["doi"], f"doi:{fields['doi']}")
    elif fields.get("url", "").startswith("https://"):
        text += " " + html.external_link(fields["url"])
    return text


_ACCENTS = {"'": "\u0301", '"': "\u0308", "`": "\u0300", "^": "\u0302", "~": "\u0303"}


def bibtex_fields(entry: str) -> dict[str, str]:
    """The fields of one BibTeX entry written one field a line (as our tools' citations are),
    as plain text: braces dropped, LaTeX accents (``{\\'e}``) as letters, ``--`` as a dash."""
    fields = {}
    for match in re.finditer(r"^\s*(\w+)\s*=\s*\{(.*)\},?\s*$", entry, re.MULTILINE):
        value = re.sub(
            r"\{?\\(['\"`^~])\{?(\w)\}?\}?",
            lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]),
            match.group(2),
        )
        value = value.replace("{", "").replace("}", "").replace("--", "\N{EN DASH}")
        fields[match.group(1).lower()] = value
    return fields


def _materials_section(materials: list[Entry], material_href) -> str:
    if not materials:
        return ""
    items = "".join(
        f"<li>{html.link(material_href(e), e.name)} "
        f'<span class="fairio-meta">({html.text(", ".join(e.type_labels))})</span></li>'
        for e in materials
    )
    return f"<h2>Training materials</h2><ul>{items}</ul>"


def _mermaid_text(label: str) -> str:
    """A label Mermaid shows as text: quotes and markup characters become entity codes."""
    return re.sub(r"[\"<>&#;`{}\[\]|]", lambda m: f"#{ord(m.group())};", label)
