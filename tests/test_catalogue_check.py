"""``fairio catalogue check``: each bad submission reported precisely, a good one passes,
and the real sample's known duplicates are found."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from fairio_tools.catalogue.identifiers import normalise_url, suggested_doi
from fairio_tools.catalogue.nfdi4bioimage import import_nfdi4bioimage
from fairio_tools.catalogue.review import review_catalogue
from fairio_tools.catalogue.review_comment import MARKER, review_markdown
from fairio_tools.catalogue.review_findings import RULES
from fairio_tools.catalogue.store import write_catalogue
from tests.conftest import ROOT, run_fairio

EXISTING = {
    "napari-segmentation-course": {
        "name": "Segmenting nuclei with napari and StarDist",
        "doi": "10.5281/zenodo.7654321",
        "urls": ["https://github.com/example-lab/napari-course"],
        "type": ["tutorial"],
        "authors": [{"name": "Ada Lovelace"}],
        "license": "CC-BY-4.0",
    },
    "cellpose-paper": {
        "name": "Cellpose: a generalist algorithm for cellular segmentation",
        "doi": "10.1038/s41592-020-01018-x",
        "type": ["publication"],
        "authors": [{"name": "Carsen Stringer"}],
        "license": "LicenseRef-all-rights-reserved",
    },
    "omero-data-management": {
        "name": "Managing microscopy data in OMERO",
        "urls": ["https://www.example.org/training/omero/"],
        "type": ["slides"],
        "authors": [{"name": "Grace Hopper"}],
        "license": "CC-BY-4.0",
    },
}

GOOD = {
    "name": "Converting images to OME-Zarr in Galaxy",
    "doi": "10.5281/zenodo.1234567",
    "urls": ["https://training.galaxyproject.org/topics/imaging/ome-zarr.html"],
    "type": ["tutorial"],
    "authors": [{"name": "Rosalind Franklin", "orcid": "0000-0002-1825-0097"}],
    "license": "CC-BY-4.0",
    "levels": ["novice"],
    "tags": ["OME-Zarr", "Galaxy"],
}

# name: (change to GOOD, rule code, field, words the message or fix must contain)
BAD = {
    "http-url": ({"urls": ["http://training.example.org/zarr"]}, "CAT010", "urls[0]",
                 "https://training.example.org/zarr"),
    "javascript-url": ({"urls": ["javascript:alert(document.cookie)"]}, "CAT011", "urls[0]",
                       "javascript:"),
    "data-url": ({"urls": ["data:text/html;base64,PHNjcmlwdD4="]}, "CAT011", "urls[0]", "data:"),
    "file-url": ({"urls": ["file:///home/me/slides.pdf"]}, "CAT011", "urls[0]", "file:"),
    "shortener": ({"urls": ["https://bit.ly/3abcXYZ"]}, "CAT012", "urls[0]", "bit.ly"),
    "youtube-short": ({"urls": ["https://youtu.be/dQw4w9WgXcQ"]}, "CAT012", "urls[0]",
                      "youtube.com/watch?v=dQw4w9WgXcQ"),
    "loopback": ({"urls": ["https://localhost:8080/course"]}, "CAT013", "urls[0]", "localhost"),
    "private": ({"urls": ["https://192.168.1.1/wiki"]}, "CAT013", "urls[0]", "private"),
    "metadata": ({"urls": ["https://169.254.169.254/latest"]}, "CAT013", "urls[0]", "metadata"),
    "credentials": ({"urls": ["https://bob:secret@example.org/x"]}, "CAT014", "urls[0]",
                    "https://example.org/x"),
    "doi-as-url": ({"doi": "https://doi.org/10.5281/zenodo.3000001"}, "CAT020", "doi",
                   "doi: 10.5281/zenodo.3000001"),
    "doi-syntax": ({"doi": "zenodo.1234567"}, "CAT020", "doi", "is not a DOI"),
    "licence-spelling": ({"license": "CC BY 4.0"}, "CAT030", "license", "CC-BY-4.0"),
    "licence-unknown": ({"license": "Do what you like"}, "CAT030", "license", "spdx.org"),
    "missing-type": ({"type": None}, "CAT007", "type", "no type"),
    "unknown-type": ({"type": ["lecture-notes"]}, "CAT001", "type[0]", "not a catalogue type"),
    "unknown-key": ({"difficulty": "hard"}, "CAT001", "", "difficulty"),
    "same-url": ({"urls": ["https://example.org/training/omero?utm_source=x"]}, "CAT040",
                 "urls[0]",
                 "omero-data-management"),
    "same-doi": ({"doi": "10.1038/S41592-020-01018-X"}, "CAT041", "doi", "cellpose-paper"),
    "same-zenodo-record": ({"urls": ["https://zenodo.org/records/7654321"]}, "CAT042",
                           "urls[0]", "Zenodo record 7654321"),
    "same-title": ({"doi": None, "name": "Segmenting Nuclei with napari & StarDist",
                    "authors": [{"name": "Lovelace, Ada"}]},
                   "CAT044", "name", "napari-segmentation-course"),
    "zenodo-without-doi": ({"doi": None, "urls": ["https://zenodo.org/records/999888"]},
                           "CAT021", "urls[0]", "doi: 10.5281/zenodo.999888"),
    "no-licence": ({"license": None}, "CAT031", "license", "SPDX"),
}  # fmt: skip
WARNINGS = {"same-title", "zenodo-without-doi", "no-licence", "missing-type"}


def _write(directory: Path, name: str, data: dict) -> Path:
    path = directory / f"{name}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """A catalogue of two entries, plus the good and each bad submission as new files."""
    root = tmp_path_factory.mktemp("submission")
    catalogue = root / "catalogue"
    catalogue.mkdir()
    for name, data in EXISTING.items():
        _write(catalogue, name, data)
    files = {"good": _write(catalogue, "good", GOOD)}
    for number, (name, (change, *_)) in enumerate(BAD.items()):
        own = {  # each submission is otherwise a different material
            "doi": f"10.5281/zenodo.{2000 + number}",
            "urls": [f"https://training.example.org/{name}"],
            "authors": [{"name": f"Author {name}"}],
        }
        data = {k: v for k, v in {**GOOD, **own, **change}.items() if v is not None}
        files[name] = _write(catalogue, name, data)
    (catalogue / "broken-yaml.yml").write_text("name: [unclosed\n", encoding="utf-8")
    not_a_slug = {
        "doi": "10.1000/other",
        "urls": ["https://example.org/other"],
        "name": "Other segmentation tools",
    }
    _write(catalogue, "Not_A_Slug", GOOD | not_a_slug)
    return catalogue, files


@pytest.fixture(scope="module")
def cli_review(submissions, tmp_path_factory):
    """One CLI run over every submitted file, as the pull-request workflow runs it."""
    catalogue, files = submissions
    out = tmp_path_factory.mktemp("out")
    extra = [catalogue / "broken-yaml.yml", catalogue / "Not_A_Slug.yml"]
    result = run_fairio(
        "catalogue", "check", *files.values(), *extra, "--catalogue", catalogue,
        "--json", out / "review.json", "--markdown", out / "review.md",
    )  # fmt: skip
    report = json.loads((out / "review.json").read_text())
    by_id = {entry["id"]: entry["findings"] for entry in report["entries"]}
    return result, report, by_id, (out / "review.md").read_text()


def test_at_least_fifteen_bad_submissions():
    assert len(BAD) - len(WARNINGS) >= 15


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_submission_is_reported_precisely(cli_review, name):
    _, _, by_id, _ = cli_review
    _, code, field, words = BAD[name]
    findings = by_id[name]
    assert len(findings) == 1, findings
    (finding,) = findings
    assert (finding["code"], finding["field"]) == (code, field)
    assert finding["severity"] == ("warning" if name in WARNINGS else "error")
    assert words in finding["message"] + " " + finding["fix"]


def test_unreadable_yaml_and_bad_file_name(cli_review):
    _, _, by_id, _ = cli_review
    assert [f["code"] for f in by_id["broken-yaml"]] == ["CAT003"]
    assert "line" in by_id["broken-yaml"][0]["message"]
    assert [f["code"] for f in by_id["Not_A_Slug"]] == ["CAT002"]


def test_good_submission_passes(cli_review):
    _, _, by_id, markdown = cli_review
    assert by_id["good"] == []
    assert "No findings: `good.yml`" in markdown


def test_errors_exit_1_with_a_one_line_summary(cli_review):
    result, report, _, _ = cli_review
    assert result.returncode == 1
    assert report["errors"] == len(BAD) - len(WARNINGS) + 2
    assert result.stderr.strip().splitlines() == [
        f"{report['checked']} entries checked: {report['errors']} errors, "
        f"{report['warnings']} warnings"
    ]


def test_good_submission_alone_exits_0(submissions):
    catalogue, files = submissions
    result = run_fairio("catalogue", "check", files["good"], "--catalogue", catalogue)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["errors"] == 0


def test_missing_catalogue_is_a_usage_error(tmp_path):
    result = run_fairio("catalogue", "check", "--catalogue", tmp_path / "nowhere")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {tmp_path / 'nowhere'}: catalogue directory not found "
        "(give the folder that holds one <slug>.yml per entry)"
    ]


def test_markdown_comment_is_inert(tmp_path):
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    hostile = GOOD | {
        "name": "Pwn [click](https://evil.example) <img src=x> @maintainers",
        "urls": ["javascript:alert(1)|`x`"],
    }
    _write(catalogue, "hostile", hostile)
    markdown = review_markdown(review_catalogue(catalogue))
    assert not re.search(r"(?<!\\)\[click|(?<!\\)<img", markdown)
    assert "@maintainers" not in markdown
    assert "\\[click\\]\\(https\\://evil" in markdown
    table_rows = [line for line in markdown.splitlines() if line.startswith("| ❌")]
    assert table_rows and all(line.count(" | ") == 4 for line in table_rows)


TROJAN_SOURCE = "Safe course \u202e\u2066 }nimda{ fi \u2069\u2066 \u200bend\ufeff\u061c\u200f"
"""A title whose bidi overrides and isolates would display its words in another order."""


def _comment(tmp_path: Path, name: str, file_name: str = "hostile") -> str:
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir(exist_ok=True)
    _write(catalogue, file_name, GOOD | {"name": name, "urls": ["javascript:alert(1)"]})
    return review_markdown(review_catalogue(catalogue))


def _invisible(markdown: str) -> list[str]:
    """Control and format characters, except newlines and the zero-width space that defuses
    our own escaped @-mentions and #-references."""
    defused = re.sub("(?<=[@#])\u200b", "", markdown)
    return [c for c in defused if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")]


def test_trojan_source_title_cannot_reorder_the_comment(tmp_path):
    markdown = _comment(tmp_path, TROJAN_SOURCE, file_name="notes\u202egnp")
    assert _invisible(markdown) == []
    heading = next(line for line in markdown.splitlines() if line.startswith("### "))
    assert "\\\\u202e" in heading and "\\\\u2066" in heading  # shown as escapes
    assert "`notes\\u202egnp.yml`" in markdown


@pytest.mark.parametrize(
    "control", ["\x00", "\x1b[31m", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\r", "\x0b"]
)
def test_control_characters_in_a_title_stay_on_one_line(tmp_path, control):
    markdown = _comment(tmp_path, f"Course{control}## Approved")
    assert _invisible(markdown) == []
    assert [line for line in markdown.splitlines() if line.startswith("#")][1:] == [
        next(line for line in markdown.splitlines() if line.startswith("### "))
    ]


def test_title_cannot_inject_markup_comments_or_pings(tmp_path):
    title = (
        "Course\n\n## ✅ Approved\n<!-- fairio-catalogue-check -->\n@octocat merge #1 "
        "&#x202E; &commat;team $\\color{red}{x}$ <details>"
    )
    markdown = _comment(tmp_path, title)
    lines = markdown.splitlines()
    assert [line for line in lines if line.startswith("## ")] == [lines[1]]  # ours only
    assert markdown.count("<!--") == 1 and lines[0] == MARKER
    assert "@octocat" not in markdown and "#1 " not in markdown
    assert not re.search(r"(?<!\\)[&$<]", markdown.replace(MARKER, ""))
    heading = next(line for line in lines if line.startswith("### "))
    assert "Approved" in heading and "merge" in heading and "details" in heading


def test_known_duplicates_of_the_real_sample_are_found(shared_data, tmp_path):
    """The NFDI4BIOIMAGE sample holds 7 pairs of entries for one material (Zenodo versions,
    a repository that moved, a thesis listed by archive URL and by DOI). Two different
    courses that share the title "Image processing with Python" are not duplicates."""
    imported = import_nfdi4bioimage(shared_data / "catalogue" / "nfdi4bioimage-training-sample.yml")
    write_catalogue(imported.entries, tmp_path / "catalogue")
    review = review_catalogue(tmp_path / "catalogue")
    names = {entry.entry_id: entry.name for entry in review.entries}
    pairs = set()
    for entry in review.entries:
        for finding in entry.findings:
            if finding.code.startswith("CAT04"):
                other = finding.message.split("`")[1]
                pairs.add(frozenset((names[entry.entry_id], names[other])))
    expected = {
        "Combining the BIDS and ARC Directory Structures for Multimodal Research Data Organization",
        "Hackaton Results - Conversion of KNIME image analysis workflows to Galaxy",
        "NFDI4BIOIMAGE - An Initiative for a National Research Data Infrastructure for "
        "Microscopy Data",
        "Gut Analysis Toolbox",
        "ImageJ tool for percentage estimation of pneumonia in lungs",
        "introduction-to-image-analysis",
        "Modular training resources for bioimage analysis",
    }
    assert {next(iter(pair)) for pair in pairs} == expected
    assert all(len(pair) == 1 for pair in pairs)  # same title, two entries each
    assert len(pairs) == len(expected)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://www.Example.org/a/", "https://example.org/a"),
        ("https://example.org/a?utm_source=x&b=2&a=1", "https://example.org/a?a=1&b=2"),
        ("https://example.org:443/a/index.html", "https://example.org/a"),
    ],
)
def test_url_normalisation(a, b):
    assert normalise_url(a) == normalise_url(b)


@pytest.mark.parametrize(
    ("url", "doi"),
    [
        ("https://zenodo.org/records/8349563", "10.5281/zenodo.8349563"),
        ("https://zenodo.org/record/123456", "10.5281/zenodo.123456"),
        ("https://zenodo.org/doi/10.5281/zenodo.8349562", "10.5281/zenodo.8349562"),
        ("https://figshare.com/articles/dataset/Cells/12345678", "10.6084/m9.figshare.12345678"),
        ("https://github.com/example/repo", None),
    ],
)
def test_doi_suggestions(url, doi):
    assert suggested_doi(url) == doi


def test_long_review_fits_in_a_comment_errors_first(submissions):
    catalogue, _ = submissions
    review = review_catalogue(catalogue)
    markdown = review_markdown(review, max_chars=6000)
    assert len(markdown) <= 6000
    assert "more entries with findings" in markdown
    shown = re.findall(r"^### `([^`]+)`", markdown, re.MULTILINE)
    with_errors = {entry.path.name for entry in review.entries if entry.errors}
    assert shown and set(shown) <= with_errors  # entries with errors are listed first


def test_every_rule_is_documented_for_curators():
    page = (ROOT / "portal" / "docs" / "curation" / "review-rules.md").read_text()
    documented = set(re.findall(r"^\| (CAT\d{3}) \| (error|warning) \|", page, re.MULTILINE))
    assert {code for code, _ in documented} == set(RULES)
