"""Package layering: ``rdf/`` builds graphs from study metadata, so it may import
``metadata/``; ``metadata/`` never imports ``rdf/`` (not even inside a function), and both take
their namespaces from ``fairio_tools.namespaces``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "fairio_tools"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_metadata_never_imports_rdf():
    offenders = {
        path.name: sorted(n for n in _imports(path) if n.startswith("fairio_tools.rdf"))
        for path in (PACKAGE / "metadata").glob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_namespaces_come_from_one_module():
    for package in ("metadata", "rdf"):
        for path in (PACKAGE / package).glob("*.py"):
            assert "NAMESPACES = {" not in path.read_text(encoding="utf-8"), path


def test_metadata_and_its_shapes_load_without_rdf():
    code = (
        "import sys, fairio_tools.metadata.validate, fairio_tools.metadata.shacl as s; "
        "s.shapes_graph('rembi'); "
        "print(sorted(m for m in sys.modules if m.startswith('fairio_tools.rdf')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
