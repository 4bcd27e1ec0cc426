"""Review against the base branch: realistic community changes, replayed from the real sample
(``tests/catalogue_replay.py`` builds each case), give no false or noisy blocking errors and
catch each kind of harm: overwrites, removals, records the importer would drop, placeholders,
bot authors, generic titles, duplicate clusters, YAML errors with line and column."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml

from fairio_tools.catalogue.content_rules import check_content
from fairio_tools.catalogue.review import review_catalogue
from fairio_tools.catalogue.review_comment import review_markdown
from tests.catalogue_replay import CASES, Base, build, check_arguments, tally
from tests.conftest import run_fairio


@pytest.fixture(scope="module")
def base(shared_data, tmp_path_factory):
    sample = shared_data / "catalogue" / "nfdi4bioimage-training-sample.yml"
    made = Base.make(tmp_path_factory.mktemp("base"), sample, every=4)
    return made, review_catalogue(made.folder).to_dict()


def _review(built):
    head = built.head_file or built.head_folder
    base = built.base_file if built.head_file else built.base_folder
    return review_catalogue(head, base=base)


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c.name for c in CASES])
def test_replayed_change_is_caught_without_false_or_noisy_findings(base, tmp_path, number):
    made, base_report = base
    case = CASES[number]
    review = _review(build(case, tmp_path / "case", made))
    counts = tally(review.to_dict(), base_report, case)
    assert (counts["false"], counts["noise"], counts["missed"]) == (0, 0, 0), (
        case.name, [(e.entry_id, f) for e in review.entries for f in e.findings])  # fmt: skip
    assert review.ok == (not case.catches - {"CAT051", "CAT021", "CAT007"})  # warnings never block


def _case(name: str):
    return next(c for c in CASES if c.name == name)


def test_a_cluster_of_four_entries_is_one_finding_naming_the_other_three(base, tmp_path):
    made, _ = base
    review = _review(build(_case("the same link in four entries"), tmp_path / "c", made))
    duplicates = [(e, f) for e in review.entries for f in e.findings if f.code in
                  {"CAT040", "CAT041", "CAT042", "CAT043"}]  # fmt: skip
    assert len(duplicates) == 1
    (entry, finding) = duplicates[0]
    named = set(re.findall(r"`([^`]+)` \(", finding.message))
    copies = {f"mirror-{n}" for n in (1, 2, 3)}
    assert (
        len(named) == 3 and entry.entry_id in copies and named & copies == copies - {entry.entry_id}
    )


def test_old_problems_of_an_edited_entry_are_information(base, tmp_path):
    made, _ = base
    built = build(_case("one-line edit of an entry with a bot author"), tmp_path / "c", made)
    review = _review(built)
    (entry,) = review.entries
    assert [(f.code, f.severity) for f in entry.findings] == [("CAT005", "info")]
    assert review.ok
    markdown = review_markdown(review)
    assert "already on the base branch" in markdown and "block the merge" not in markdown


def test_the_same_bot_author_on_a_new_entry_blocks(base, tmp_path):
    made, _ = base
    head = tmp_path / "head"
    shutil.copytree(made.folder, head)
    data = yaml.safe_load((head / "qupath-workshop.yml").read_text())
    data.update(name="QuPath for pathologists", uuid="00000000-0000-4000-8000-00000000abcd",
                urls=["https://github.com/example/qupath-pathology"])  # fmt: skip
    (head / "qupath-for-pathologists.yml").write_text(yaml.safe_dump(data))
    review = review_catalogue(head, base=made.folder)
    (entry,) = review.entries
    assert [(f.code, f.severity) for f in entry.errors] == [("CAT005", "error")]


def test_yaml_error_names_file_line_and_column(base, tmp_path):
    made, _ = base
    built = build(_case("broken YAML in an entry file"), tmp_path / "c", made)
    text = "name: Fine\ntype: [tutorial\nurls: [https://example.org/a]\n"
    broken = next(p for p in sorted(built.head_folder.glob("*.yml")) if
                  p.read_text().startswith("name: [unclosed"))  # fmt: skip
    broken.write_text(text)
    review = _review(built)
    (entry,) = [e for e in review.entries if e.path == broken]
    message = next(f.message for f in entry.findings if f.code == "CAT003")
    position = re.search(r"line (\d+), column (\d+)", message)
    # libyaml stops where the flow sequence meets the next key: line 3, column 5
    lines = text.splitlines()
    line, column = int(position[1]), int(position[2])
    assert lines[line - 1][column - 1 :].startswith(":")
    assert entry.label == broken.name


def test_training_file_yaml_error_is_exit_2_naming_file_line_and_column(base, tmp_path):
    made, _ = base
    head = tmp_path / "head.yml"
    head.write_text(made.file.read_text() + "  - name: [unclosed\n")
    result = run_fairio("catalogue", "check", "--catalogue", head, "--base", made.file)
    assert result.returncode == 2
    assert re.fullmatch(rf"fairio: error: {re.escape(str(head))}: invalid YAML at line \d+, "
                        r"column \d+: .*", result.stderr.strip())  # fmt: skip


def test_cli_against_the_base_checks_what_changed_and_exits_1_on_a_drop(base, tmp_path):
    made, _ = base
    built = build(_case("URL stripped from a record"), tmp_path / "c", made)
    out = tmp_path / "review.json"
    result = run_fairio("catalogue", "check", *check_arguments(built, True), "--json", out,
                        "--markdown", tmp_path / "review.md")  # fmt: skip
    assert result.returncode == 1, result.stderr
    report = json.loads(out.read_text())
    (entry,) = report["entries"]
    assert [f["code"] for f in entry["findings"]] == ["CAT052"]
    assert "no url and no DOI" in entry["findings"][0]["message"]
    assert report["base"] == str(built.base_file)
    markdown = (tmp_path / "review.md").read_text()
    assert f"### `{built.head_file.name}: " in markdown and "CAT052" in markdown


def test_no_change_against_the_base_checks_nothing_and_passes(base):
    made, _ = base
    result = run_fairio("catalogue", "check", "--catalogue", made.folder, "--base", made.folder)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["checked"] == 0


def test_content_rules_on_the_whole_real_sample_flag_only_its_bot_author(shared_data, tmp_path):
    """The real catalogue holds one entry credited to ``dependabot[bot]``, and no placeholder
    or one-word generic title: the rules must find exactly that."""
    made = Base.make(tmp_path, shared_data / "catalogue" / "nfdi4bioimage-training-sample.yml")
    review = review_catalogue(made.folder)
    content = [(e.entry_id, f.code, f.field) for e in review.entries for f in e.findings
               if f.code in {"CAT004", "CAT005", "CAT006"}]  # fmt: skip
    assert content == [("qupath-workshop", "CAT005", "authors[1]")]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"authors": [{"name": "renovate-bot"}]}, "CAT005"),
        ({"authors": [{"name": "github-actions"}]}, "CAT005"),
        ({"authors": [{"name": "Jan Bot"}, {"name": "Ann Talbot"}]}, None),
        ({"description": "Lorem ipsum dolor sit amet."}, "CAT004"),
        ({"urls": ["https://example.org/xxx"]}, "CAT004"),
        ({"event": {"date": "TBD"}}, "CAT004"),
        ({"description": "Sizes XXL and todolist apps are fine."}, None),
        ({"name": "Slides"}, "CAT006"),
        ({"name": "Napari"}, None),
    ],
)
def test_content_rules(change, code):
    data = {"name": "Segmenting organoids", "urls": ["https://example.org/a"]} | change
    assert [f.code for f in check_content(data)] == ([code] if code else [])


def test_a_dropped_record_with_a_hostile_name_stays_inert_in_the_comment(base, tmp_path):
    made, _ = base
    hostile = "<img src=x onerror=alert(1)> @maintainers [x](javascript:alert(1)) #1 \u202e"
    records = [*made.records, {"name": hostile, "type": ["Tutorial"]}]  # no url: dropped
    head = tmp_path / "head.yml"
    head.write_text(yaml.safe_dump({"resources": records}, allow_unicode=True))
    review = review_catalogue(head, base=made.file)
    (entry,) = review.entries
    assert [f.code for f in entry.findings] == ["CAT052"]
    markdown = review_markdown(review, max_chars=3000)
    assert len(markdown) <= 3000
    assert not re.search(r"(?<!\\)[<&]", markdown.split("\n", 1)[1])
    assert "@maintainers" not in markdown and "\u202e" not in markdown
    assert "](javascript" not in markdown
