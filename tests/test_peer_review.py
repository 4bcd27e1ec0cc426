"""Open peer review: review files are validated by the pull-request check (ORCID check
digit, the material exists, one review per reviewer per version, no self-review, scores on
the published criteria), and only valid reviews are credited."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from fairio_tools.catalogue.peer_review import check_reviews, orcid_checksum_ok
from tests.conftest import run_fairio

REVIEWER = "0000-0002-1825-0097"  # ORCID's documented example iD (Josiah Carberry)
OTHER = "0000-0001-5109-3700"  # another valid iD from ORCID's documentation
WITH_X = "0000-0002-1694-233X"  # a valid iD whose check digit is X
AUTHOR = "0000-0003-1419-2405"  # well-formed, valid check digit: an author of the course
ENTRIES = {
    "napari-course": {
        "name": "Segmenting nuclei with napari",
        "urls": ["https://example.org/napari"],
        "type": ["tutorial"],
        "authors": [{"name": "Ada Lovelace", "orcid": AUTHOR}, {"name": "Grace Hopper"}],
        "license": "CC-BY-4.0",
    },
    "omero-slides": {
        "name": "Managing microscopy data in OMERO",
        "urls": ["https://example.org/omero"],
        "type": ["slides"],
        "license": "CC-BY-4.0",
    },
}


def review(orcid: str = REVIEWER, name: str = "Josiah Carberry", **changes) -> dict:
    data = {
        "reviewer": {"name": name, "orcid": orcid},
        "date": "2026-03-01",
        "version": "v1.0",
        "scores": {"accuracy": 5, "clarity": 4, "reusability": 4, "currency": 3},
        "text": "Clear steps; the napari version should be updated.",
    }
    return {k: v for k, v in {**data, **changes}.items() if v is not None}


def write(root, material: str, orcid: str, data) -> None:
    (root / material).mkdir(parents=True, exist_ok=True)
    (root / material / f"{orcid}.yml").write_text(yaml.safe_dump(data), encoding="utf-8")


@pytest.fixture
def portal(tmp_path):
    catalogue = tmp_path / "portal" / "catalogue"
    catalogue.mkdir(parents=True)
    for slug, data in ENTRIES.items():
        (catalogue / f"{slug}.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return catalogue, tmp_path / "portal" / "reviews"


def codes(root) -> dict[str, list[str]]:
    checked = check_reviews(root, ENTRIES)
    return {
        path.relative_to(root).as_posix(): [f.code for f in found]
        for path, found in checked.findings.items()
    }


@pytest.mark.parametrize("orcid", [REVIEWER, OTHER, WITH_X, AUTHOR])
def test_orcid_check_digits(orcid):
    assert orcid_checksum_ok(orcid)
    last = orcid[-1]
    for wrong in "0123456789X":
        if wrong != last:
            assert not orcid_checksum_ok(orcid[:-1] + wrong)


def test_a_good_review_is_credited(portal):
    _, root = portal
    write(root, "napari-course", REVIEWER, review())
    write(root, "omero-slides", WITH_X, [review(WITH_X, "Jane Doe"),
                                         review(WITH_X, "Jane Doe", version="v2.0")])  # fmt: skip
    checked = check_reviews(root, ENTRIES)
    assert checked.findings == {}
    assert sorted((r.material, r.orcid, r.reviewed) for r in checked.reviews) == [
        ("napari-course", REVIEWER, "v1.0"),
        ("omero-slides", WITH_X, "v1.0"),
        ("omero-slides", WITH_X, "v2.0"),
    ]


BAD = {
    "typo in the ORCID": ("napari-course", "0000-0002-1825-0098", {"orcid": "0000-0002-1825-0098"},
                          "CAT061"),
    "filed under another iD": ("napari-course", OTHER, {}, "CAT062"),
    "no such material": ("napari-workshop", REVIEWER, {}, "CAT063"),
    "same version twice": ("omero-slides", REVIEWER, "twice", "CAT064"),
    "author by ORCID": ("napari-course", AUTHOR, {"orcid": AUTHOR, "name": "A. Lovelace"},
                        "CAT065"),
    "author by name": ("napari-course", REVIEWER, {"name": "Hopper, Grace"}, "CAT065"),
    "score out of range": ("napari-course", REVIEWER, {"scores": {"accuracy": 6, "clarity": 4,
                           "reusability": 4, "currency": 3}}, "CAT066"),
    "criterion missing": ("napari-course", REVIEWER, {"scores": {"accuracy": 5}}, "CAT066"),
    "nothing said reviewed": ("napari-course", REVIEWER, {"version": None}, "CAT060"),
    "unknown key": ("napari-course", REVIEWER, {"stars": 5}, "CAT060"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_bad_review_is_refused(portal, case):
    _, root = portal
    material, orcid, change, code = BAD[case]
    data = [review(), review(date="2026-04-01")] if change == "twice" else review(**change)
    write(root, material, orcid, data)
    assert codes(root) == {f"{material}/{orcid}.yml": [code]}
    assert check_reviews(root, ENTRIES).reviews == []  # a refused file credits nobody


def test_review_file_leading_out_of_the_folder_is_refused_unread(portal, tmp_path):
    _, root = portal
    (root / "napari-course").mkdir(parents=True)
    outside = tmp_path / "outside.yml"
    outside.write_text(yaml.safe_dump(review()))
    os.symlink(outside, root / "napari-course" / f"{REVIEWER}.yml")
    os.mkfifo(root / "napari-course" / f"{OTHER}.yml")
    found = check_reviews(root, ENTRIES).findings
    assert sorted(p.name for p in found) == [f"{OTHER}.yml", f"{REVIEWER}.yml"]
    assert all(f.code == "CAT060" and "cannot read" in f.message
               for findings in found.values() for f in findings)  # fmt: skip


def test_pull_request_check_refuses_bad_reviews_beside_the_catalogue(portal, tmp_path):
    catalogue, root = portal
    write(root, "napari-course", AUTHOR, review(AUTHOR, "Ada Lovelace"))
    write(root, "omero-slides", REVIEWER, review())
    result = run_fairio("catalogue", "check", "--catalogue", catalogue, "--json",
                        tmp_path / "r.json", "--markdown", tmp_path / "r.md")  # fmt: skip
    assert result.returncode == 1, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    flagged = {e["id"]: [f["code"] for f in e["findings"]] for e in report["entries"]
               if e["findings"]}  # fmt: skip
    assert flagged == {f"napari-course/{AUTHOR}.yml": ["CAT065"]}
    assert f"### `napari-course/{AUTHOR}.yml`" in (tmp_path / "r.md").read_text()


def test_with_a_base_only_changed_review_files_are_checked(portal, tmp_path):
    catalogue, root = portal
    write(root, "napari-course", AUTHOR, review(AUTHOR, "Ada Lovelace"))  # already on base
    base = tmp_path / "base" / "portal"
    base.mkdir(parents=True)
    os.system(f"cp -R '{catalogue}' '{root}' '{base}/'")
    write(root, "omero-slides", OTHER, review(OTHER, "Someone Else", scores={"accuracy": 0}))
    result = run_fairio("catalogue", "check", "--catalogue", catalogue,
                        "--base", base / "catalogue")  # fmt: skip
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert [e["id"] for e in report["entries"]] == [f"omero-slides/{OTHER}.yml"]


def test_review_files_given_as_files_are_checked_alone(portal, tmp_path):
    catalogue, root = portal
    write(root, "napari-course", AUTHOR, review(AUTHOR, "Ada Lovelace"))
    write(root, "omero-slides", REVIEWER, review(scores={"accuracy": 5}))
    chosen = root / "omero-slides" / f"{REVIEWER}.yml"
    result = run_fairio("catalogue", "check", chosen, "--catalogue", catalogue)
    assert result.returncode == 1, result.stderr
    (entry,) = json.loads(result.stdout)["entries"]
    assert entry["id"] == f"omero-slides/{REVIEWER}.yml"
    assert [f["code"] for f in entry["findings"]] == ["CAT066"]
