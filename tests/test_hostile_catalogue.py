"""Hostile catalogue entries and study metadata: refused quickly, in bounded memory, and
nothing outside the catalogue folder is ever read.

One catalogue holds a real entry and every hostile entry; ``catalogue validate``,
``catalogue check`` and ``portal build`` each run once over it (under a 2 GiB address-space
limit), and every case is asserted on those runs. Before the safe loader, the 330-byte alias
bomb alone made ``catalogue validate`` run out of 2 GiB after 48 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.conftest import run_bounded as bounded
from tests.test_portal import portal_config

FAIRIO = Path(sys.executable).parent / "fairio"
MEMORY_LIMIT = 2 * 1024**3
"""Address space each CLI run may use; the alias bomb needed more than this before."""
CANARY = "CANARY-d41d8cd9-this-text-lives-outside-the-catalogue"
REAL_ENTRY = ROOT / "portal" / "catalogue" / "omero-walkthrough-for-facility-managers.yml"


def alias_bomb() -> str:
    """The classic "billion laughs": 9 levels of 9 aliases, about 330 bytes, 9**9 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def nested_anchor_bomb() -> str:
    """Billion laughs with anchors on nested mappings, as a valid-looking entry."""
    lines = ["name: Laughs", "type: [tutorial]", "x0: &x0 {lol: [lol, lol, lol, lol]}"]
    for level in range(1, 12):
        lines.append(f"x{level}: &x{level} {{a: *x{level - 1}, b: *x{level - 1}, c: [*x0]}}")
    return "\n".join(lines) + "\nurls: *x11\n"


HOSTILE: dict[str, tuple[bytes | None, str]] = {
    "alias-bomb": (alias_bomb().encode(), "more than 100000 values (aliases counted in full)"),
    "anchor-bomb": (
        nested_anchor_bomb().encode(),
        "more than 100000 values (aliases counted in full)",
    ),
    "python-object": (
        f"name: !!python/object/apply:os.system ['echo {CANARY} > pwned']\n".encode(),
        "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply",
    ),
    "custom-tag": (
        b"name: !include /etc/passwd\ntype: [tutorial]\n",
        "could not determine a constructor for the tag '!include'",
    ),
    "deep": (b"name: " + b"[" * 100 + b"]" * 100 + b"\n", "nested deeper than 64 levels"),
    "huge": (b"name: " + b"x" * (9 * 1024 * 1024) + b"\n", "more than the limit of 1048576"),
    "not-utf8": (b"name: caf\xe9 \xff\xfe\ntype: [tutorial]\n", "cannot read: not UTF-8 text"),
    "link-out": (None, "'link-out.yml' is a link that leads outside"),
    "fifo": (None, "'fifo.yml' is a FIFO, not a file"),
    "folder": (None, "'folder.yml' is a directory, not a file"),
}
"""entry id: (file content, or None for the special files below; words of its finding)."""


def run_bounded(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``fairio`` under the memory limit; a run over 60 s fails the test."""
    return bounded(*args, cwd=cwd, address_space=MEMORY_LIMIT, timeout=60)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    """A catalogue of one real entry and every hostile one; the canary file beside it."""
    root = tmp_path_factory.mktemp("hostile")
    canary = root / "secret.yml"
    canary.write_text(f"name: {CANARY}\ntype: [tutorial]\nurls: [https://example.org/x]\n")
    catalogue = root / "catalogue"
    catalogue.mkdir()
    (catalogue / REAL_ENTRY.name).write_bytes(REAL_ENTRY.read_bytes())
    for name, (content, _) in HOSTILE.items():
        if content is not None:
            (catalogue / f"{name}.yml").write_bytes(content)
    (catalogue / "link-out.yml").symlink_to(canary)
    os.mkfifo(catalogue / "fifo.yml")  # reading it would block forever
    (catalogue / "folder.yml").mkdir()
    return catalogue, canary


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text


@pytest.fixture(scope="module")
def validated(hostile) -> subprocess.CompletedProcess:
    catalogue, _ = hostile
    return run_bounded("catalogue", "validate", catalogue)


@pytest.fixture(scope="module")
def checked(hostile, tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict, str]:
    """``catalogue check`` as the pull-request workflow runs it, on every hostile file."""
    catalogue, _ = hostile
    out = tmp_path_factory.mktemp("review")
    files = [catalogue / f"{name}.yml" for name in HOSTILE]
    result = run_bounded(
        "catalogue", "check", *files, catalogue / REAL_ENTRY.name, "--catalogue", catalogue,
        "--json", out / "review.json", "--markdown", out / "review.md",
    )  # fmt: skip
    return result, json.loads((out / "review.json").read_text()), (out / "review.md").read_text()


def test_validate_reports_every_hostile_entry_and_keeps_the_real_one(validated, hostile):
    catalogue, _ = hostile
    assert validated.returncode == 1, validated.stderr[-2000:]
    lines = validated.stderr.strip().splitlines()
    assert lines[-1] == f"{catalogue}: 1 valid, {len(HOSTILE)} invalid"
    assert len(lines) == len(HOSTILE) + 1  # one line per invalid file, then the summary
    assert_no_canary(validated.stdout, validated.stderr)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_validate_names_the_file_and_the_problem(validated, hostile, name):
    catalogue, _ = hostile
    prefix = f"{catalogue / name}.yml: "
    (line,) = [line for line in validated.stderr.splitlines() if line.startswith(prefix)]
    assert HOSTILE[name][1] in line


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_check_reports_each_as_unreadable_yaml(checked, name):
    _, report, _ = checked
    findings = {entry["id"]: entry["findings"] for entry in report["entries"]}[name]
    assert [(f["code"], f["severity"]) for f in findings] == [("CAT003", "error")]
    assert HOSTILE[name][1] in findings[0]["message"]


def test_check_exits_1_with_its_summary_and_no_canary(checked, hostile):
    result, report, markdown = checked
    assert result.returncode == 1, result.stderr[-2000:]
    assert report["errors"] == len(HOSTILE)
    assert result.stderr.strip().splitlines() == [
        f"{len(HOSTILE) + 1} entries checked: {len(HOSTILE)} errors, {report['warnings']} warnings"
    ]
    assert_no_canary(result.stdout, result.stderr, json.dumps(report), markdown)
    catalogue, _ = hostile
    assert not (catalogue / "pwned").exists() and not Path("pwned").exists()


def test_check_refuses_a_file_outside_the_catalogue(hostile):
    catalogue, canary = hostile
    result = run_bounded("catalogue", "check", canary, "--catalogue", catalogue)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {canary}: is not in the catalogue folder {catalogue} "
        "(check entries of the catalogue given with --catalogue)"
    ]
    assert_no_canary(result.stdout, result.stderr)


def test_portal_build_stops_at_the_first_hostile_entry(hostile, tmp_path):
    catalogue, _ = hostile
    config = portal_config(tmp_path, catalogue, tmp_path / "workflows")
    site = tmp_path / "site"
    result = run_bounded("portal", "build", "--config", config, "--site-dir", site)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2  # the progress line and the error
    first = sorted(HOSTILE)[0]
    assert lines[1].startswith(f"fairio: error: {config}: site build failed: {catalogue}: ")
    assert f"{len(HOSTILE)} invalid catalogue entries; first: {catalogue / first}.yml" in lines[1]
    assert_no_canary(result.stdout, result.stderr)
    assert not site.exists() and not list(tmp_path.glob(".site-*"))


def test_import_refuses_an_alias_bomb_in_one_line(tmp_path):
    source = tmp_path / "training.yml"
    source.write_text("resources:\n" + "".join(f"  {line}\n" for line in alias_bomb().splitlines()))
    result = run_bounded(
        "catalogue", "import", "--format", "nfdi4bioimage", source, "--into", tmp_path / "cat"
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"fairio: error: {source}: invalid YAML at line ")
    assert line.endswith("more than 100000 values (aliases counted in full)")
    assert not (tmp_path / "cat").exists()


def test_import_refuses_deeply_nested_json_ld_in_one_line(tmp_path):
    source = tmp_path / "training.jsonld"
    source.write_text("[" * 100_000 + "]" * 100_000)
    result = run_bounded(
        "catalogue", "import", "--format", "bioschemas", source, "--into", tmp_path / "cat"
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {source}: not JSON: nested too deeply"
    ]
    assert not (tmp_path / "cat").exists()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.xlsx"
    result = run_bounded("metadata-template", "--profile", "minimal", "--xlsx", path)
    assert result.returncode == 0, result.stderr
    return path


def mutant(template: Path, target: Path, sheet_xml=None, extra: tuple[str, int] | None = None):
    """A copy of the template with the metadata sheet's XML rewritten or a part added."""
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(target, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml" and sheet_xml:
                data = sheet_xml(data.decode()).encode()
            copy.writestr(item, data, zipfile.ZIP_DEFLATED)
        if extra:
            name, size = extra
            with copy.open(zipfile.ZipInfo(name), "w") as part:
                for _ in range(size // 2**20):
                    part.write(bytes(2**20))
    return target


def _far_row(xml: str) -> str:
    """One more cell, a million rows down: a reader fills the gap with empty rows."""
    row = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    xml = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml)
    return xml.replace("</sheetData>", row + "</sheetData>")


def _many_rows(xml: str) -> str:
    """6000 more rows, and no dimension that would stop a reader at the template's end."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>study</t></is></c></row>'
        for r in range(100, 6100)
    )
    xml = re.sub(r'<dimension ref="[^"]*"/>', "", xml)
    return xml.replace("</sheetData>", rows + "</sheetData>")


def _entity_bomb(xml: str) -> str:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    xml = re.sub(r"^(<\?xml[^>]*\?>)?", rf"\1<!DOCTYPE worksheet [{entities}]>", xml, count=1)
    return re.sub(r"<t>[^<]*</t>", "<t>&l9;</t>", xml, count=1)


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("zip-bomb.xlsx", lambda t, p: mutant(t, p, extra=("xl/media/zeros.bin", 40 * 2**20)),
         "workbook inflates to 41"),
        ("far-row.xlsx", lambda t, p: mutant(t, p, _far_row), "more than the limit of 5000 rows"),
        ("many-rows.xlsx", lambda t, p: mutant(t, p, _many_rows), "limit of 5000 rows"),
        ("entity-bomb.xlsx", lambda t, p: mutant(t, p, _entity_bomb),
         "not a readable .xlsx workbook (EntitiesForbidden"),
    ],
)  # fmt: skip
def test_hostile_workbook_exits_2_with_one_line(template, tmp_path, name, make, words):
    path = make(template, tmp_path / name)
    report = tmp_path / "report.json"
    result = run_bounded("validate-metadata", path, "--json", report)
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"fairio: error: {path}: ") and words in line
    assert not report.exists()


def test_yaml_bomb_as_study_metadata_exits_2_with_one_line(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(alias_bomb())
    result = run_bounded("validate-metadata", path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"fairio: error: {path}: invalid YAML at line ")
    assert line.endswith("more than 100000 values (aliases counted in full)")


def test_fifo_as_study_metadata_is_refused_unopened(tmp_path):
    path = tmp_path / "study.xlsx"
    os.mkfifo(path)  # opening it for reading would wait for a writer forever
    result = run_bounded("validate-metadata", path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fairio: error: {path}: is not a regular file, not a YAML file"
    ]
