"""Each Galaxy tool folder is a Tool Shed repository on its own: its test data are real files
inside it (Galaxy refuses test inputs that link out of the folder), small, and attributed."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = sorted(p.parent for p in (ROOT / "tools").glob("*/.shed.yml"))
MODEL_PACKAGE_LIMIT = 4 * 2**20
FILE_LIMIT = 2**20


def test_every_tool_folder_has_a_shed_file():
    assert len(TOOLS) == len([p for p in (ROOT / "tools").iterdir() if p.is_dir()]) >= 13


def _test_inputs(tool: Path) -> set[str]:
    """The files the tool's Galaxy tests upload (``value=`` of a data parameter)."""
    import xml.etree.ElementTree as ET

    root = ET.parse(tool / f"{tool.name}.xml").getroot()
    return {
        name
        for p in root.iter("param")
        if p.get("ftype") or p.get("class") == "Directory"
        for name in p.get("value", "").split(",")
    }


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.name)
def test_test_data_are_small_attributed_files_inside_the_folder(tool: Path):
    data = tool / "test-data"
    inputs = _test_inputs(tool)
    if not data.exists():  # a tool whose tests upload nothing needs no test data
        assert not inputs, f"{tool.name}: tests upload {sorted(inputs)} but there is no test-data/"
        return
    assert inputs, f"{tool.name}: test-data/ is there but no test uploads from it"
    for name in inputs:
        assert (data / name).exists(), f"{tool.name}: test input {name} is not in test-data/"
    assert (data / "SOURCES.md").is_file(), f"{tool.name}: test-data/SOURCES.md is missing"
    for path in data.rglob("*"):
        resolved = path.resolve()
        assert resolved.is_relative_to(data.resolve()), f"{path} links out of {tool.name}"
        if path.is_file():
            limit = MODEL_PACKAGE_LIMIT if path.suffix == ".zip" else FILE_LIMIT
            assert path.stat().st_size <= limit, f"{path} is larger than {limit} bytes"
