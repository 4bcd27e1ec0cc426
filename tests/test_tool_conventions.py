"""Galaxy conventions every wrapper follows, read from the tool XML as Galaxy loads it
(macros expanded): cores from GALAXY_SLOTS, Zarr datasets of the image-analysis suite, EDAM."""

from __future__ import annotations

from pathlib import Path

import pytest
from galaxy.util import xml_macros

ROOT = Path(__file__).resolve().parents[1]
TOOLS = sorted(p for p in (ROOT / "tools").glob("*/*.xml") if p.name != "macros.xml")
MULTI_CORE = {
    "convert_to_ome_zarr", "export_ome_tiff", "validate_ngff", "predict_with_model",
    "label_image", "model_test",
}  # fmt: skip
MEMORY_HUNGRY = {
    "convert_to_ome_zarr", "export_ome_tiff", "predict_with_model", "label_image",
    "plate_summary", "qc_field_illumination", "qc_psf_beads",
}  # fmt: skip


def _tool(path: Path):
    return xml_macros.load(str(path)).getroot()


@pytest.mark.parametrize("path", TOOLS, ids=lambda p: p.stem)
def test_conventions(path: Path):
    tool = _tool(path)
    command = tool.find("command").text
    name = path.stem
    assert ("${GALAXY_SLOTS:-1}" in command) == (name in MULTI_CORE), name
    help_text = tool.find("help").text
    assert ("GALAXY_MEMORY_MB" in help_text) == (name in MEMORY_HUNGRY), name
    topics = [t.text for t in tool.iter("edam_topic")]
    assert "topic_3383" in topics, name
    for param in tool.iter("param"):
        formats = (param.get("format") or "").split(",")
        if "ome_zarr" in formats:  # what reads a store reads the suite's zarr datasets too
            assert "zarr" in formats, f"{name}: {param.get('name')}"
            assert ".metadata.store_root" in command, name


def test_metadata_tools_are_not_image_analysis():
    analysis = {p.stem for p in TOOLS if "operation_3443" in
                [o.text for o in _tool(p).iter("edam_operation")]}  # fmt: skip
    assert analysis == {"convert_to_ome_zarr", "export_ome_tiff", "predict_with_model",
                        "label_image", "plate_summary", "qc_field_illumination",
                        "qc_psf_beads", "qc_trend", "zip_ome_zarr"}  # fmt: skip
    label = _tool(ROOT / "tools" / "label_image" / "label_image.xml")
    assert any("10.1038/s41592-019-0686-2" in c.text for c in label.iter("citation"))  # SciPy


@pytest.mark.parametrize("path", TOOLS, ids=lambda p: p.stem)
def test_forms_and_outputs_speak_to_people(path: Path):
    tool = _tool(path)
    name = path.stem
    # public servers hold the image-analysis suite's tools of like names ("Convert to OME-Zarr")
    assert tool.get("name").endswith(" (fairio)") and tool.get("id") == f"fairio_{name}", name
    for param in tool.find("inputs").iter("param"):
        assert (param.get("help") or "").strip(), f"{name}: {param.get('name')} has no help"
    data = [p for p in tool.find("inputs").iter("param") if p.get("type") == "data"]
    single = [p for p in data if p.get("multiple") != "true" and p.get("optional") != "true"]
    for output in tool.find("outputs"):
        label = output.get("label", "")
        if single:  # "cells.tif: conversion report", after the dataset the user chose
            named = (f"{p.get('name')}.element_identifier}}: " in label for p in single)
            assert any(named), (name, label)
        else:  # several inputs: "... on data 2, data 3, and others", as Galaxy says it
            assert ("${on_string}" in label) == bool(data), (name, label)
    for citation in tool.iter("citation"):
        # a DOI citation is looked up at doi.org when shown: "(N.d.) https://doi.org/..." offline
        assert citation.get("type") == "bibtex", f"{name}: {citation.text}"
        text = citation.text
        assert "title = {" in text and ("year = {" in text or "url = {" in text), text


@pytest.mark.parametrize("path", TOOLS, ids=lambda p: p.stem)
def test_dataset_names_reach_the_shell_sanitised(path: Path):
    """Galaxy does not sanitise ``element_identifier`` (a dataset name the user chose): every
    use keeps only word characters, '.', '-' and spaces, so a quote cannot end the word."""
    command = _tool(path).find("command").text
    uses = command.count("element_identifier")
    safe = command.count('$re.sub(r"[^\\w.\\- ]", "_", str($')
    assert uses == safe, path.stem
    assert uses == 0 or "#import re" in command, path.stem
