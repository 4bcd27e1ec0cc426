"""The training catalogue: schema, NFDI4BIOIMAGE import, Bioschemas and DALIA exports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from fairio_tools.catalogue.model import levels, resource_types, schema, spdx_ids
from fairio_tools.catalogue.normalise import license_ids
from fairio_tools.catalogue.store import dump_entry, load_catalogue
from tests.conftest import ROOT, run_fairio

SAMPLE = "catalogue/nfdi4bioimage-training-sample.yml"
GOOD = {
    "name": "Converting microscopy images to OME-Zarr",
    "urls": ["https://example.org/ome-zarr"],
    "type": ["tutorial"],
    "license": "CC-BY-4.0",
}


@pytest.fixture(scope="module")
def imported(shared_data: Path, tmp_path_factory) -> tuple[Path, dict, str]:
    """The real 240-record sample imported once through the CLI."""
    out = tmp_path_factory.mktemp("import")
    result = run_fairio(
        "catalogue", "import", "--format", "nfdi4bioimage", shared_data / SAMPLE,
        "--into", out / "catalogue", "--json", out / "report.json",
    )  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    return out / "catalogue", report, result.stderr


def write_entry(directory: Path, name: str, data: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_schema_vocabularies_agree():
    definitions = schema()["$defs"]
    assert (
        list(definitions["resource_type"]["x-vocabulary"]) == definitions["resource_type"]["enum"]
    )
    assert list(levels()) == ["novice", "advanced-beginner", "competent", "proficient", "expert"]
    assert resource_types()["slides"].hcrt == "https://w3id.org/kim/hcrt/slide"
    assert "CC-BY-4.0" in spdx_ids()


def test_import_sample_accounts_for_every_record(imported):
    directory, report, stderr = imported
    files = sorted(directory.glob("*.yml"))
    assert report["records"] == 240
    assert report["imported"] == len(files)
    assert report["imported"] + len(report["rejected"]) == 240
    for rejection in report["rejected"]:
        assert rejection["reasons"] and all(rejection["reasons"])
        assert f"rejected #{rejection['index']}" in stderr
    catalogue = load_catalogue(directory)
    assert catalogue.ok and len(catalogue.entries) == len(files)


def test_import_matches_committed_catalogue(imported):
    directory, _, _ = imported
    committed = ROOT / "portal" / "catalogue"
    assert sorted(p.name for p in directory.glob("*.yml")) == sorted(
        p.name for p in committed.glob("*.yml")
    )
    name = "omero-walkthrough-for-facility-managers.yml"
    assert (directory / name).read_text() == (committed / name).read_text()


def test_import_report_records_normalisations(imported):
    directory, report, _ = imported
    changes = report["changes"]

    def found(field, before, after):
        return any(
            c["field"] == field and c["before"] == before and c["after"] == after for c in changes
        )

    assert found("type", "Github repository", "code-repository")
    assert found("license", "cc-by-4.0", "CC-BY-4.0")
    assert found("license", "CCY-BY-SA-4.0", "CC-BY-SA-4.0")
    assert found("tags", "include in DALIA", "dalia: include")
    assert found("publication_date", "publication date", "publication_date")
    assert any(c["field"] == "type" and c["action"] == "inferred" for c in changes)
    assert any(c["field"] == "doi" and c["action"] == "extracted" for c in changes)
    # the stray key's entry was kept with a real date
    entries = load_catalogue(directory).entries
    assert all("include in DALIA" not in e.tags for e in entries)
    assert {t for e in entries for t in e.type} <= set(resource_types())


def test_import_merges_orcids_into_authors(imported):
    entries = load_catalogue(imported[0]).entries
    haase = [a for e in entries for a in e.authors if a.name == "Robert Haase"]
    assert haase and any(a.orcid for a in haase)
    # the source once gives him a co-author's ORCID: such shared ORCIDs are dropped
    assert all(a.orcid == "0000-0001-5949-2327" for a in haase if a.orcid)
    assert any(
        c["before"] == "ORCID 0009-0004-7280-1226 of Lea Kabjesz, Robert Haase"
        for c in imported[1]["changes"]
    )


def test_import_keeps_at_least_99_percent_of_the_sample(imported):
    _, report, _ = imported
    assert report["imported"] >= 0.99 * report["records"]


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("CC0", ["CC0-1.0"]),
        ("Apache License 2.0", ["Apache-2.0"]),
        ("Apache License, Version 2.0", ["Apache-2.0"]),
        ("mit-license", ["MIT"]),
        ("MIT License", ["MIT"]),
        ("BSD 3-Clause", ["BSD-3-Clause"]),
        ("CC BY-SA 4.0", ["CC-BY-SA-4.0"]),
        ("Creative Commons Attribution-NonCommercial 4.0 International", ["CC-BY-NC-4.0"]),
        ("GNU GPL v3", ["GPL-3.0-only"]),
        (["MIT", "cc-by-4.0"], ["MIT", "CC-BY-4.0"]),
        ("MIT and CC BY 4.0", ["MIT", "CC-BY-4.0"]),
        ("UNKNOWN", []),
    ],
)
def test_licence_spellings_map_to_spdx(spelling, expected):
    assert license_ids(spelling) == expected


def test_licence_spelling_without_a_version_is_not_guessed():
    with pytest.raises(ValueError, match="not an SPDX"):
        license_ids("CC-BY")


def test_import_keeps_near_misses_missing_types_and_decodes_text(tmp_path):
    records = [
        {"name": "Course A", "url": "https://example.org/a", "type": "Online Course",
         "license": ["MIT", "CC BY 4.0"], "authors": ["Haase, Robert"]},
        {"name": "Talk B", "url": "https://example.org/b", "type": ["Webinar", "Tool"],
         "authors": ["Haase Robert", "Robert Haase"]},
        {"name": "Record C", "url": "https://zenodo.org/records/1", "authors": ["Robert Haase"],
         "description": "Made at the University of D&uuml;sseldorf &amp; shared with the "
                        "community in the hope that it is useful for the analysis of images"},
    ]  # fmt: skip
    source = tmp_path / "training.yml"
    source.write_text(yaml.safe_dump({"resources": records}))
    result = run_fairio(
        "catalogue", "import", "--format", "nfdi4bioimage", source, "--into", tmp_path / "cat",
        "--json", tmp_path / "report.json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    entries = {e.id: e for e in load_catalogue(tmp_path / "cat").entries}
    assert entries["course-a"].type == ("course",)
    assert entries["course-a"].license == ("MIT", "CC-BY-4.0")
    assert entries["talk-b"].type == ("video", "application")
    assert entries["record-c"].type == ()
    assert entries["record-c"].description.startswith("Made at the University of Düsseldorf & ")
    assert entries["record-c"].language == ("en",)
    assert {a.name for e in entries.values() for a in e.authors} == {"Robert Haase"}
    assert len(entries["talk-b"].authors) == 1
    changes = json.loads((tmp_path / "report.json").read_text())["changes"]
    assert any(c["field"] == "type" and c["action"] == "missing" for c in changes)
    review = run_fairio(
        "catalogue", "check", "--catalogue", tmp_path / "cat", "--json", tmp_path / "check.json"
    )
    assert review.returncode == 0, review.stderr
    assert "CAT007" in (tmp_path / "check.json").read_text()


def test_import_rejects_without_writing_invalid(tmp_path):
    source = tmp_path / "training.yml"
    source.write_text(
        yaml.safe_dump(
            {
                "resources": [
                    {"name": "Fine", "url": "https://example.org/a", "type": "Slides"},
                    {"name": "Evil", "url": "javascript:alert(1)", "type": "Slides"},
                    {"name": "Odd", "url": "https://example.org/b", "type": "Interpretive dance"},
                ]
            }
        )
    )
    result = run_fairio(
        "catalogue", "import", "--format", "nfdi4bioimage", source, "--into", tmp_path / "cat"
    )
    assert result.returncode == 1
    assert [p.name for p in (tmp_path / "cat").iterdir()] == ["fine.yml"]
    assert "rejected #1 Evil: urls[0]: 'javascript:alert(1)' is not an http(s) URL" in result.stderr
    assert "rejected #2 Odd: type: 'Interpretive dance' is not a catalogue type" in result.stderr


def test_import_missing_file_is_one_line(tmp_path):
    result = run_fairio(
        "catalogue", "import", "--format", "nfdi4bioimage", tmp_path / "none.yml",
        "--into", tmp_path / "cat",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {tmp_path / 'none.yml'}: no such file"
    ]
    assert not (tmp_path / "cat").exists()


def test_import_not_the_nfdi4bioimage_format(tmp_path):
    source = tmp_path / "list.yml"
    source.write_text("- name: a\n")
    result = run_fairio(
        "catalogue", "import", "--format", "nfdi4bioimage", source, "--into", tmp_path / "cat"
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no 'resources' list" in result.stderr
    assert not (tmp_path / "cat").exists()


def test_validate_names_file_and_field(tmp_path):
    write_entry(tmp_path, "good", GOOD)
    write_entry(tmp_path, "bad", {**GOOD, "license": "cc by", "levels": ["guru"]})
    write_entry(tmp_path, "Not_A_Slug", GOOD | {"uuid": "not-a-uuid"})
    result = run_fairio("catalogue", "validate", tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"{tmp_path}: 1 valid, 2 invalid"
    bad = next(line for line in lines if line.startswith(str(tmp_path / "bad.yml")))
    assert "license: 'cc by' is not an SPDX licence identifier" in bad
    assert "levels[0]: 'guru' is not a Dreyfus level" in bad
    slug = next(line for line in lines if "Not_A_Slug" in line)
    assert "is not a slug" in slug and "uuid" in slug


def test_validate_rejects_script_and_javascript_urls(tmp_path):
    write_entry(tmp_path, "evil", {**GOOD, "urls": ["javascript:alert(document.cookie)"]})
    write_entry(
        tmp_path, "evil-too", {**GOOD, "urls": ['https://x.org/"><script>alert(1)</script>']}
    )
    result = run_fairio("catalogue", "validate", tmp_path)
    assert result.returncode == 1
    assert "urls[0]: 'javascript:alert(document.cookie)' is not an http(s) URL" in result.stderr
    assert f"{tmp_path / 'evil-too.yml'}: urls[0]:" in result.stderr


def test_validate_duplicate_doi(tmp_path):
    write_entry(tmp_path, "one", {**GOOD, "doi": "10.5281/zenodo.1"})
    write_entry(tmp_path, "two", {**GOOD, "doi": "10.5281/ZENODO.1"})
    catalogue = load_catalogue(tmp_path)
    assert not catalogue.entries
    assert [str(f) for f in catalogue.errors[0].findings] == [
        "doi: 10.5281/zenodo.1 is also used by two"
    ]


def test_validate_missing_directory(tmp_path):
    result = run_fairio("catalogue", "validate", tmp_path / "nowhere")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {tmp_path / 'nowhere'}: catalogue directory not found "
        "(give the folder that holds one <slug>.yml per entry)"
    ]


def test_entry_files_are_stable_yaml(imported):
    for path in sorted(imported[0].glob("*.yml"))[:20]:
        entry = load_catalogue(imported[0]).by_id()[path.stem]
        assert dump_entry(entry) == path.read_text()


def test_dalia_export_passes_dalia_validator(imported, tmp_path):
    from dalia_dif.dif13 import read_dif13

    out = tmp_path / "dalia.csv"
    result = run_fairio(
        "catalogue", "export", "--format", "dalia", out, "--catalogue", imported[0], "--all"
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    listed = [line for line in result.stderr.splitlines() if line.startswith("not exported ")]
    assert len(rows) + len(listed) == len(list(imported[0].glob("*.yml")))
    assert len(rows) > 50
    errors: list[str] = []
    parsed = read_dif13(out, error_accumulator=errors)
    assert errors == []
    assert len(parsed) == len(rows)
    assert all("no language" in line or "no " in line or "license" in line for line in listed)


def test_dalia_export_honours_exclude_flag(imported, tmp_path):
    out = tmp_path / "dalia.csv"
    result = run_fairio("catalogue", "export", "--format", "dalia", out, "--catalogue", imported[0])
    assert result.returncode == 0
    assert "curators excluded it from DALIA" in result.stderr
    ids = {row["DALIA_ID"] for row in csv.DictReader(out.open())}
    excluded = {e.uuid for e in load_catalogue(imported[0]).entries if e.dalia == "exclude"}
    assert ids and not ids & excluded


def test_bioschemas_round_trip(imported, tmp_path):
    out = tmp_path / "catalogue.jsonld"
    assert run_fairio("catalogue", "export", "--format", "bioschemas", out,
                      "--catalogue", imported[0]).returncode == 0  # fmt: skip
    document = json.loads(out.read_text())
    assert all(n["dct:conformsTo"]["@id"].endswith("TrainingMaterial/1.0-RELEASE")
               for n in document["@graph"])  # fmt: skip
    result = run_fairio(
        "catalogue", "import", "--format", "bioschemas", out, "--into", tmp_path / "back"
    )
    assert result.returncode == 0, result.stderr
    original = {e.link: e for e in load_catalogue(imported[0]).entries}
    back = load_catalogue(tmp_path / "back").entries
    assert len(back) == len(original)
    for entry in back:
        source = original[entry.link]
        assert entry.name == source.name
        assert (entry.type, entry.doi, entry.license, entry.levels) == (
            source.type, source.doi, source.license, source.levels
        )  # fmt: skip
        assert [a.orcid for a in entry.authors] == [a.orcid for a in source.authors]


def test_yaml_suffix_is_reported_not_ignored(tmp_path):
    write_entry(tmp_path, "good", GOOD)
    (tmp_path / "typo.yaml").write_text(yaml.safe_dump(GOOD))
    catalogue = load_catalogue(tmp_path)
    assert [e.id for e in catalogue.entries] == ["good"]
    assert [str(e) for e in catalogue.errors] == [
        f"{tmp_path / 'typo.yaml'}: entries end in .yml, rename the file"
    ]
