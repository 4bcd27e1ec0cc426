"""Study metadata: templates, validation against the profiles, and agreement with SHACL."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fairio_tools.findings import Severity
from fairio_tools.metadata.documents import load_document
from fairio_tools.metadata.model import REQUIRED, load_model
from fairio_tools.metadata.shacl import shapes_graph
from fairio_tools.metadata.template import template_yaml
from fairio_tools.metadata.validate import validate_metadata
from fairio_tools.rdf.conformance import shacl_verdicts
from fairio_tools.safe_yaml import load_yaml
from tests.conftest import run_fairio

DATA = Path(__file__).parent / "data" / "metadata"
PROFILES = ("minimal", "rembi", "rembi-mifa")
MODEL = load_model()
COMPLETE = load_document(DATA / "rembi-complete.yaml")


def _required(profile):
    return [f for s in MODEL.sections for f in s.in_profile(profile) if f.tier(profile) == REQUIRED]


def _without(document, field):
    changed = copy.deepcopy(document)
    del changed[field.section][field.name]
    return changed


@pytest.mark.parametrize("profile", PROFILES)
def test_complete_example_passes_every_profile(profile):
    report = validate_metadata(COMPLETE, profile)
    assert report.findings == []
    assert set(report.facts["section_completeness_percent"].values()) == {100}


def test_profiles_grow_from_minimal_to_rembi_mifa():
    assert len(_required("minimal")) < len(_required("rembi")) < len(_required("rembi-mifa"))
    sections = {p: {f.section for f in _required(p)} for p in PROFILES}
    assert sections["rembi"] >= {"study", "biosample", "specimen", "image_acquisition"}
    assert "annotations" in sections["rembi-mifa"] and "annotations" not in sections["rembi"]


REMOVALS = [
    pytest.param(profile, field, id=f"{profile}-{field.key}")
    for profile in ("rembi", "rembi-mifa")
    for field in _required(profile)
]


@pytest.mark.parametrize(("profile", "field"), REMOVALS)
def test_removing_a_required_field_gives_exactly_one_error_naming_it(profile, field):
    report = validate_metadata(_without(COMPLETE, field), profile, "study.yaml")
    assert len(report.findings) == 1
    (finding,) = report.findings
    assert finding.severity is Severity.ERROR and finding.code == "missing-required"
    assert finding.pointer == f"/{field.section}/{field.name}"
    assert field.key in finding.message and field.description in finding.message
    assert finding.hint.startswith(f"example: {field.name}: ")
    assert report.facts["section_completeness_percent"][field.section] < 100


def test_wrong_values_are_each_named():
    report = validate_metadata(load_document(DATA / "wrong-values.yaml"), "rembi")
    by_pointer = {f.pointer: f for f in report.findings}
    expected = {
        "/study/title": "single-value",
        "/study/description": "invalid-value",
        "/study/license": "invalid-value",
        "/study/contact_email": "invalid-value",
        "/study/release_date": "invalid-value",
        "/study/publication_doi": "invalid-value",
        "/biosample/organism": "bad-curie",
        "/biosample/cell_type": "wrong-ontology",
        "/biosample/anatomy": "unknown-prefix",
        "/image_acquisition/imaging_method": "bad-curie",
        "/stuides": "unknown-section",
    }
    for pointer, code in expected.items():
        assert by_pointer[pointer].code == code, by_pointer[pointer]
    assert "/study/authors" not in by_pointer  # a single author may be written without a list
    assert "/analysis/operation" not in by_pointer  # a right EDAM CURIE
    assert by_pointer["/biosample/organism"].hint == "example: organism: NCBITaxon:9606"


def _corpus():
    documents = {p.name: load_document(p) for p in sorted(DATA.glob("*.yaml"))
                 if p.name != "alias-bomb.yaml"}  # fmt: skip
    documents["empty"] = {}
    documents["template"] = load_yaml_text(template_yaml("rembi-mifa"))
    for field in _required("rembi-mifa"):
        documents[f"without {field.key}"] = _without(COMPLETE, field)
    for section in MODEL.sections:
        for field in section.fields:
            changed = copy.deepcopy(COMPLETE)
            changed[field.section][field.name] = _wrong_value(field)
            documents[f"wrong {field.key}"] = changed
    return documents


def _wrong_value(field):
    if field.type == "curie":
        return "UNKNOWN:1" if field.name == "organism" else "EFO:0000001"
    if field.type == "date":
        return "next Tuesday"
    if field.pattern:
        return "not written as it should be"
    return {"nested": "mapping"} if field.multiple else ["one", "two"]


def load_yaml_text(text):
    import yaml

    return yaml.safe_load(text)


PYTHON_ONLY = {"unknown-field", "unknown-section", "invalid-section"}
"""Findings about keys that have no RDF term, which SHACL therefore cannot see."""


@pytest.mark.parametrize("profile", PROFILES)
def test_shacl_and_python_report_agree_on_the_whole_corpus(profile):
    corpus = _corpus()
    assert len(corpus) > 20
    for name, document in corpus.items():
        report = validate_metadata(document, profile)
        python = {
            (*f.pointer.strip("/").split("/"), f.severity.value)
            for f in report.findings
            if f.code not in PYTHON_ONLY
        }
        conforms, shacl = shacl_verdicts(document, profile)
        assert python == shacl, name
        assert conforms == report.valid, name


def test_shapes_are_generated_for_each_field_of_a_profile():
    graph = shapes_graph("rembi")
    turtle = graph.serialize(format="turtle")
    fields = [f for s in MODEL.sections for f in s.in_profile("rembi")]
    assert turtle.count("sh:path") == len(fields)
    assert "sh:targetClass fairio:Biosample" in turtle
    assert "http://purl\\\\.obolibrary\\\\.org/obo/NCBITaxon_" in turtle


def test_yaml_template_lists_every_field_with_tier_and_example(tmp_path):
    target = tmp_path / "template.yaml"
    run_fairio("metadata-template", "--profile", "rembi", "--yaml", target, check=True)
    text = target.read_text()
    for field in (f for s in MODEL.sections for f in s.in_profile("rembi")):
        assert f"  {field.name}:" in text
    assert "# [required] The organism the sample comes from" in text
    assert "# example: NCBITaxon:9606" in text
    report = validate_metadata(load_yaml(target), "rembi")
    assert report.codes(Severity.ERROR) == {"missing-required"}
    assert report.count(Severity.ERROR) == len(_required("rembi"))


def test_xlsx_template_filled_in_validates(tmp_path):
    target = tmp_path / "template.xlsx"
    run_fairio("metadata-template", "--profile", "rembi-mifa", "--xlsx", target, check=True)
    workbook = load_workbook(target)
    sheet = workbook["metadata"]
    header = [c.value for c in sheet[1]]
    assert header == ["section", "field", "tier", "description", "example", "value"]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == sum(len(s.in_profile("rembi-mifa")) for s in MODEL.sections)
    # an empty template: exactly the required fields are reported
    assert validate_metadata(load_document(target), "rembi-mifa").count(Severity.ERROR) == len(
        _required("rembi-mifa")
    )
    for row in rows:
        value = COMPLETE[row[0].value][row[1].value]
        row[5].value = "; ".join(value) if isinstance(value, list) else str(value)
    workbook.save(target)
    result = run_fairio("validate-metadata", target, "--profile", "rembi-mifa")
    assert result.returncode == 0, result.stdout
    assert "annotations 100%" in result.stdout


def test_cli_reports_and_exit_codes(tmp_path):
    report_json, report_md = tmp_path / "r.json", tmp_path / "r.md"
    result = run_fairio(
        "validate-metadata", DATA / "minimal.yaml", "--profile", "rembi", "--shacl",
        "--json", report_json, "--markdown", report_md,
    )  # fmt: skip
    assert result.returncode == 1
    data = json.loads(report_json.read_text())
    assert data["valid"] is False and data["shacl_conforms"] is False
    assert data["profile"] == "rembi"
    assert data["section_completeness_percent"]["specimen"] == 0
    markdown = report_md.read_text()
    assert "## Completeness per section" in markdown and "| specimen | 0% |" in markdown
    assert "`missing-required`" in markdown
    ok = run_fairio("validate-metadata", DATA / "minimal.yaml", "--profile", "minimal")
    assert ok.returncode == 0 and "valid (0 error(s)" in ok.stdout


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("alias-bomb.yaml", None, "more than 100000 values (aliases counted in full)"),
        ("broken.yaml", "study: [unclosed", "invalid YAML"),
        ("list.yaml", "- a\n- b\n", "not a metadata document"),
        ("empty.yaml", "", "the file is empty"),
        ("fake.xlsx", "not a zip", "not a readable .xlsx workbook"),
        ("missing.yaml", False, "no such file"),
    ],
)
def test_unreadable_documents_exit_2_with_one_line(tmp_path, name, content, message):
    path = DATA / name if content is None else tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    report_json = tmp_path / "r.json"
    result = run_fairio("validate-metadata", path, "--json", report_json)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and name in lines[0]
    assert not report_json.exists()


def test_unknown_profile_is_a_usage_error():
    result = run_fairio("validate-metadata", DATA / "minimal.yaml", "--profile", "rembo")
    assert result.returncode == 2 and "unknown profile 'rembo'" in result.stderr


def test_validate_metadata_uses_the_profile_the_document_declares(tmp_path):
    from click.testing import CliRunner

    from fairio_tools.cli.app import main

    document = tmp_path / "study.yaml"
    document.write_text(template_yaml("minimal"))  # declares `profile: minimal`, fields empty
    runs = {
        profile: CliRunner().invoke(
            main,
            [
                "validate-metadata",
                str(document),
                "--profile",
                profile,
                "--json",
                str(tmp_path / f"{profile}.json"),
            ],
        )
        for profile in ("declared", "minimal", "rembi-mifa")
    }
    reports = {p: json.loads((tmp_path / f"{p}.json").read_text()) for p in runs}
    assert reports["declared"] == reports["minimal"] != reports["rembi-mifa"]
    document.write_text("study:\n  title: A study\n")
    refused = CliRunner().invoke(
        main, ["validate-metadata", str(document), "--profile", "declared"]
    )
    assert refused.exit_code == 2 and "declares no profile" in refused.output
