"""Package layering: the catalogue owns the entry types, the link checker builds on it.

``links/`` imports ``catalogue/`` (entries, to know which URLs to check and whose they are);
``catalogue/`` never imports ``links/``, so the review runs without the link checker's
dependencies and neither package can see the other half-initialised.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import fairio_tools

PACKAGE = Path(fairio_tools.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_catalogue_never_imports_the_link_checker() -> None:
    offenders = {
        path.name: sorted(m for m in imported_modules(path) if m.startswith("fairio_tools.links"))
        for path in sorted((PACKAGE / "catalogue").glob("*.py"))
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_the_link_checker_uses_the_catalogue_entry_type() -> None:
    users = [
        path.name
        for path in sorted((PACKAGE / "links").glob("*.py"))
        if "fairio_tools.catalogue.model.Entry" in imported_modules(path)
    ]
    assert users  # the direction the dependency goes


def test_the_review_imports_without_the_link_checker_or_aiohttp() -> None:
    code = (
        "import sys\n"
        "sys.modules['aiohttp'] = None\n"  # importing aiohttp now raises ImportError
        "import fairio_tools.catalogue.review, fairio_tools.catalogue.review_comment\n"
        "print(sorted(m for m in sys.modules if m.startswith('fairio_tools.links')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
