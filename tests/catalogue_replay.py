"""Replay realistic catalogue changes through ``fairio catalogue check`` and tally its findings.

Every case is a change a community pull request makes, built from the real NFDI4BIOIMAGE
sample (``../shared/data/catalogue``): to the community's training file (``training``
cases: base and head are training files, and for a check that reads folders only, the
folders the importer makes from them) or to the entry files of a catalogue folder imported
from it (``folder`` cases). Each case names the rules that must catch it (none for a good
change). A finding is

- **noise** when the base branch already had it for that entry (an old problem presented as
  the change's) or when it repeats a duplicate already reported in the case;
- **false** when it is a blocking error that is neither expected nor noise;
- **true** otherwise (an expected catch, or a warning about what the change brought).

Run ``PYTHONPATH=src:. python -m tests.catalogue_replay`` for the tally of this checkout's
``fairio``; ``--fairio PATH --no-base`` tallies another build the way the old pull-request
workflow ran it (the changed files only, no base).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

SAMPLE = (
    Path(__file__).resolve().parents[2] / "shared/data/catalogue/nfdi4bioimage-training-sample.yml"
)
DUPLICATE_RULES = {"CAT040", "CAT041", "CAT042", "CAT043"}
"""Same URL, DOI, Zenodo/figshare record or uuid: any of them catches a duplicate."""

Records = list[dict]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    """``training``: ``change`` edits the community records; ``folder``: it edits entry files."""
    change: Callable
    catches: frozenset[str] = frozenset()
    """Rules that must report the change; empty for a good change."""


def _first(records: Records, test: Callable[[dict], bool]) -> int:
    return next(i for i, r in enumerate(records) if test(r))


def _has(key: str) -> Callable[[dict], bool]:
    return lambda r: key in r and isinstance(r.get("url"), str)


def _new_record(number: int, **fields) -> dict:
    record = {
        "name": f"Segmenting organoids in light-sheet data, part {number}",
        "authors": ["Marie Curie", "Lise Meitner"],
        "type": ["Tutorial"],
        "url": f"https://training.example.org/organoids-{number}",
        "license": "CC-BY-4.0",
        "tags": ["Segmentation", "Light-sheet"],
        "uuid": f"00000000-0000-4000-8000-{number:012d}",
    }
    return {**record, **fields}


def _edit(index_of: Callable[[Records], int], **fields) -> Callable[[Records], Records]:
    def change(records: Records) -> Records:
        records[index_of(records)].update(fields)
        return records

    return change


def _strip(index_of: Callable[[Records], int], *keys: str) -> Callable[[Records], Records]:
    def change(records: Records) -> Records:
        for key in keys:
            records[index_of(records)].pop(key, None)
        return records

    return change


def _append(*new: dict) -> Callable[[Records], Records]:
    return lambda records: [*records, *new]


def _no_licence(records: Records) -> int:
    return _first(records, lambda r: "license" not in r and isinstance(r.get("url"), str))


def _with_bot(records: Records) -> int:
    return _first(records, lambda r: any("[bot]" in str(a) for a in r.get("authors") or []))


def _typed(records: Records) -> int:
    return _first(records, lambda r: r.get("type") and isinstance(r.get("url"), str)
                  and not str(r["url"]).endswith((".pdf", ".pptx", ".ipynb", ".mp4")))  # fmt: skip


def _nth_typed(n: int) -> Callable[[Records], int]:
    def index_of(records: Records) -> int:
        hits = [i for i, r in enumerate(records) if r.get("type") and isinstance(r.get("url"), str)]
        return hits[n]

    return index_of


def _zenodo(records: Records) -> int:
    return _first(records, lambda r: "zenodo.org/records/" in str(r.get("url")))


def _duplicate_of_sample(records: Records) -> int:
    """A record of one of the sample's known same-title pairs (a pre-existing warning)."""
    title = "Gut Analysis Toolbox"
    return _first(records, lambda r: r.get("name") == title)


def _url_of(index_of: Callable[[Records], int]) -> Callable[[Records], Records]:
    def change(records: Records) -> Records:
        url = records[index_of(records)]["url"]
        return [*records, *(_new_record(40 + n, url=url) for n in range(3))]

    return change


def _remove(index_of: Callable[[Records], int]) -> Callable[[Records], Records]:
    def change(records: Records) -> Records:
        del records[index_of(records)]
        return records

    return change


def _overwrite(records: Records) -> Records:
    index = _nth_typed(5)(records)
    keep = records[index]["uuid"]
    records[index] = _new_record(7, uuid=keep, name="Deconvolution of widefield stacks in Fiji")
    return records


# --- changes to entry files of a folder (a pull request against the portal's catalogue) ----


def _file_edit(pick: Callable[[list[Path]], Path], edit: Callable[[str], str]):
    def change(folder: Path) -> None:
        path = pick(sorted(folder.glob("*.yml")))
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")

    return change


def _named(part: str) -> Callable[[list[Path]], Path]:
    return lambda paths: next(p for p in paths if part in p.name)


def _nth_file(n: int) -> Callable[[list[Path]], Path]:
    return lambda paths: paths[n]


def _drop_key(key: str) -> Callable[[str], str]:
    return lambda text: re.sub(rf"^{key}:.*\n(?:[ -].*\n)*", "", text, flags=re.MULTILINE)


def _copies(count: int):
    """The same material added again under new file names and uuids (one link, many entries)."""

    def change(folder: Path) -> None:
        source = sorted(folder.glob("*.yml"))[10]
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        for n in range(count):
            copy_ = {**data, "uuid": f"00000000-0000-4000-9000-{n:012d}"}
            copy_.pop("doi", None)
            copy_["name"] = f"{data['name']} (mirror {n + 1})"
            (folder / f"mirror-{n + 1}.yml").write_text(yaml.safe_dump(copy_), encoding="utf-8")

    return change


def _overwrite_file(folder: Path) -> None:
    path = sorted(folder.glob("*.yml"))[20]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(name="Counting mitochondria with deep learning",
                urls=["https://training.example.org/mitochondria"],
                authors=[{"name": "Barbara McClintock"}])  # fmt: skip
    data.pop("doi", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _delete_file(folder: Path) -> None:
    sorted(folder.glob("*.yml"))[30].unlink()


def _second_url(records: Records) -> Records:
    record = records[_typed(records)]
    record["url"] = [record["url"], "https://github.com/example-lab/course-mirror"]
    return records


def _typo(records: Records) -> Records:
    index = _no_licence(records)
    records[index]["name"] = records[index]["name"].rstrip(".") + "."
    return records


CASES = [
    Case("typo in a title (entry has no licence)", "training", _typo),
    Case("new complete record", "training", _append(_new_record(1))),
    Case("second URL added", "training", _second_url),
    Case("URL stripped from a record", "training", _strip(_nth_typed(3), "url"),
         frozenset({"CAT052"})),
    Case("type and tags stripped", "training", _strip(_nth_typed(4), "type", "tags"),
         frozenset({"CAT007"})),
    Case("record overwritten under its uuid", "training", _overwrite, frozenset({"CAT050"})),
    Case("tags: TODO", "training", _append(_new_record(2, tags="TODO")), frozenset({"CAT004"})),
    Case("description TBD", "training", _edit(_nth_typed(6), description="TBD"),
         frozenset({"CAT004"})),
    Case("'training' by dependabot[bot]", "training",
         _append(_new_record(3, name="training", authors=["dependabot[bot]"])),
         frozenset({"CAT005", "CAT006"})),
    Case("three copies of one link", "training", _url_of(_nth_typed(8)), frozenset({"duplicate"})),
    Case("record removed", "training", _remove(_nth_typed(9)), frozenset({"CAT051"})),
    Case("description edited on a record with a bot author", "training",
         _edit(_with_bot, description="Materials of the QuPath workshop, with exercises.")),
    Case("http URL in a new record", "training",
         _append(_new_record(4, url="http://training.example.org/organoids-http")),
         frozenset({"CAT010"})),
    Case("description of a known same-title pair edited", "training",
         _edit(_duplicate_of_sample, description="A toolbox for analysing the gut.")),
    Case("Zenodo URL without DOI", "training",
         _append(_new_record(5, url="https://zenodo.org/records/4242424")),
         frozenset({"CAT021"})),
    Case("broken YAML in an entry file", "folder",
         _file_edit(_nth_file(12), lambda t: "name: [unclosed\n" + t),
         frozenset({"CAT003", "CAT052"})),
    Case("type removed from an entry file", "folder",
         _file_edit(_nth_file(12), _drop_key("type")), frozenset({"CAT007"})),
    Case("entry file overwritten by another material", "folder", _overwrite_file,
         frozenset({"CAT050"})),
    Case("one-line edit of an entry with a bot author", "folder",
         _file_edit(_named("qupath-workshop"), lambda t: t.replace(
             "description: ", "description: Updated. ", 1))),
    Case("the same link in four entries", "folder", _copies(3), frozenset({"duplicate"})),
    Case("entry file removed", "folder", _delete_file, frozenset({"CAT051"})),
]  # fmt: skip


def sample_records(sample: Path = SAMPLE) -> Records:
    return yaml.safe_load(sample.read_text(encoding="utf-8"))["resources"]


def write_training(records: Records, path: Path) -> Path:
    path.write_text(yaml.safe_dump({"resources": records}, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")  # fmt: skip
    return path


def import_folder(training: Path, folder: Path) -> Path:
    from fairio_tools.catalogue.nfdi4bioimage import import_nfdi4bioimage
    from fairio_tools.catalogue.store import write_catalogue

    write_catalogue(import_nfdi4bioimage(training).entries, folder)
    return folder


@dataclass(frozen=True)
class Built:
    """One case on disk: base and head as folders, and as training files (training cases)."""

    case: Case
    base_folder: Path
    head_folder: Path | None
    """None for a training case until a check that reads folders only needs it."""
    base_file: Path
    head_file: Path | None = None


@dataclass(frozen=True)
class Base:
    """The base branch of every case: the sample as a training file and as a folder."""

    records: Records
    file: Path
    folder: Path

    @classmethod
    def make(cls, root: Path, sample: Path = SAMPLE, every: int = 1) -> Base:
        """The sample, or every ``every``-th record of it (with the records the cases edit:
        a bot author, a known same-title pair) for a quicker replay."""
        root.mkdir(parents=True, exist_ok=True)
        records = [
            r for i, r in enumerate(sample_records(sample))
            if i % every == 0 or r.get("name") == "Gut Analysis Toolbox"
            or any("[bot]" in str(a) for a in r.get("authors") or [])
        ]  # fmt: skip
        file = write_training(copy.deepcopy(records), root / "base.yml")
        return cls(records, file, import_folder(file, root / "base"))


def build(case: Case, root: Path, base: Base) -> Built:
    root.mkdir(parents=True)
    if case.kind == "folder":
        head = root / "head"
        shutil.copytree(base.folder, head)
        case.change(head)
        return Built(case, base.folder, head, base.file)
    head_file = write_training(case.change(copy.deepcopy(base.records)), root / "head.yml")
    return Built(case, base.folder, None, base.file, head_file)


def changed_files(base: Path, head: Path) -> list[Path]:
    """Entry files of ``head`` new or different from ``base`` (what a pull request touches)."""
    return [
        p
        for p in sorted(head.glob("*.yml"))
        if not (base / p.name).exists() or (base / p.name).read_bytes() != p.read_bytes()
    ]


def check_arguments(built: Built, with_base: bool) -> list[str | Path] | None:
    """The check's arguments as the pull-request workflow gives them (None: nothing to check).

    With the base: the head and base catalogues. Without (the old workflow): the entry files
    that changed, in the folder the importer makes of a training file.
    """
    if with_base and built.head_file is not None:
        return ["--catalogue", built.head_file, "--base", built.base_file]
    if with_base:
        return ["--catalogue", built.head_folder, "--base", built.base_folder]
    head = built.head_folder or import_folder(built.head_file, built.head_file.with_suffix(""))
    files = changed_files(built.base_folder, head)
    return [*files, "--catalogue", head] if files else None


def run_check(fairio: list[str], args: list, out: Path, env: dict | None = None) -> dict:
    """Run ``fairio catalogue check ARGS``; its JSON report (``refused``: exit 2's line)."""
    if args is None:
        return {"entries": [], "errors": 0}  # the workflow: "No catalogue entries changed."
    done = subprocess.run(
        [*fairio, "catalogue", "check", *map(str, args), "--json", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        return {"entries": [], "errors": 0, "refused": done.stderr.strip()}
    return json.loads(out.read_text(encoding="utf-8"))


def _problem(entry: dict, finding: dict) -> tuple[str, str, str]:
    return (entry["id"], finding["code"], re.sub(r"\[\d+\]", "[]", finding["field"]))


def tally(report: dict, base_report: dict, case: Case) -> Counter:
    """true / false / noise / missed / info counts of one case's report."""
    known = {_problem(e, f) for e in base_report["entries"] for f in e["findings"]}
    counts: Counter = Counter()
    duplicates_seen = 0
    caught = set()
    for entry in report["entries"]:
        for finding in entry["findings"]:
            code = "duplicate" if finding["code"] in DUPLICATE_RULES else finding["code"]
            if finding["severity"] == "info":
                counts["info"] += 1
                continue
            if code == "duplicate":
                duplicates_seen += 1
                if duplicates_seen > 1:
                    counts["noise"] += 1
                    continue
            if _problem(entry, finding) in known and code not in case.catches:
                counts["noise"] += 1
            elif code in case.catches or finding["severity"] == "warning":
                counts["true"] += 1
                caught.add(code)
            else:
                counts["false"] += 1
    if "refused" in report and case.catches:  # a refused file is caught, with its reason
        caught |= {c for c in case.catches if c == "CAT003"}
        counts["true"] += 1
    counts["missed"] += len(case.catches - caught)
    return counts


def replay(
    fairio: list[str], root: Path, with_base: bool, env: dict | None = None
) -> dict[str, Counter]:
    """Every case's tally, checked by the ``fairio`` command line."""
    base = Base.make(root)
    base_report = run_check(fairio, ["--catalogue", base.folder], root / "base.json", env)
    per_case = {}
    for number, case in enumerate(CASES):
        built = build(case, root / f"case-{number}", base)
        args = check_arguments(built, with_base)
        report = run_check(fairio, args, root / f"case-{number}" / "head.json", env)
        per_case[case.name] = tally(report, base_report, case)
    return per_case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fairio", default=str(Path(sys.executable).parent / "fairio"))
    parser.add_argument("--pythonpath", help="PYTHONPATH of the checked fairio (its sources)")
    parser.add_argument("--no-base", action="store_true", help="check changed files only")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": args.pythonpath} if args.pythonpath else None
    with tempfile.TemporaryDirectory() as tmp:
        per_case = replay([args.fairio], Path(tmp), not args.no_base, env)
    total: Counter = sum(per_case.values(), Counter())
    for name, counts in per_case.items():
        print(f"{name:55} " + " ".join(f"{k}={counts[k]}" for k in sorted(counts) if counts[k]))
    print(f"{len(CASES)} cases: true={total['true']} false={total['false']} "
          f"noise={total['noise']} missed={total['missed']} info={total['info']}")  # fmt: skip


if __name__ == "__main__":
    main()
