"""The home page of the local Galaxy (``static_welcome_html``): what the tools do, the
workflows as starting points, sample data to try and the portal."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from urllib.parse import quote

from fairio_tools.atomic import atomic_path
from fairio_tools.galaxy.artifacts import find_workflows

SAMPLE_DATA = "workflows/imaging/*/test-data/*"
"""The workflows' own test inputs: small images and a metadata file, with their sources."""


def write_welcome(
    target: Path, root: Path, workflow_ids: dict[str, str], portal_url: str | None
) -> None:
    """Write the page to ``target``; ``workflow_ids`` maps workflow names to their Galaxy ids
    (the run buttons), ``portal_url`` is the portal served beside Galaxy, if any."""
    starts = []
    for path in find_workflows(root / "workflows"):
        workflow = json.loads(path.read_text(encoding="utf-8"))
        name = str(workflow.get("name", path.stem))
        run = workflow_ids.get(name)
        button = (
            f'<a class="run" target="_top" href="/workflows/run?id={quote(run)}">Run</a> '
            if run
            else ""
        )
        starts.append(
            f"<li>{button}<strong>{escape(name)}</strong><br>"
            f"{escape(str(workflow.get('annotation', '')))}</li>"
        )
    samples = sorted(p for p in root.glob(SAMPLE_DATA) if p.is_file() and p.name != "SOURCES.md")
    sample_items = "".join(
        f"<li><code>{escape(str(p.relative_to(root)))}</code></li>" for p in samples
    )
    portal = (
        f'<p>Tutorials, tool pages and workflow diagrams: the <a target="_blank" '
        f'href="{escape(portal_url)}">fairio-tools portal</a>.</p>'
        if portal_url
        else "<p>Tutorials, tool pages and workflow diagrams: the fairio-tools portal "
        "(<code>make run</code> serves it beside Galaxy).</p>"
    )
    page = PAGE.format(
        starts="".join(starts), samples=sample_items, portal=portal, root=escape(str(root))
    )
    with atomic_path(target) as temporary:
        temporary.write_text(page, encoding="utf-8")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fairio-tools Galaxy</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 60em; line-height: 1.5; }}
h1 {{ color: #00695c; }} li {{ margin-bottom: .6em; }}
a.run {{ background: #00796b; color: #fff; padding: .15em .8em; border-radius: 3px;
        text-decoration: none; margin-right: .4em; }}
code {{ background: #eee; padding: 0 .2em; }}
</style></head><body>
<h1>FAIR bioimage data in Galaxy</h1>
<p>The tools in <strong>FAIR bioimage data (fairio-tools)</strong> in the tool panel turn
microscopy images into <strong>OME-Zarr</strong>, check them against the OME-NGFF
specification, describe studies with REMBI/MIFA metadata, run bioimage.io models, label
objects and bundle everything as an RO-Crate that repositories understand. Their names end in
<em>(fairio)</em>. Galaxy's own collection and text tools are in the panel too.</p>
<h2>Start with a workflow</h2>
<ol>{starts}</ol>
<h2>Sample data to try</h2>
<p>Small images and a metadata file, in the checkout of fairio-tools
(<code>{root}</code>): <strong>Upload</strong> (top of the tool panel) → <em>Choose local
file</em>.</p>
<ul>{samples}</ul>
<p>Then run <strong>Convert to OME-Zarr (fairio)</strong> on an image: its
<em>preview</em> output shows the image with the eye icon.</p>
<h2>Learn more</h2>
{portal}
</body></html>
"""
