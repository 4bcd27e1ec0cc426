"""Check a study metadata document against a profile: one finding per missing or wrong field.

Every rule comes from the model (``profiles.yaml``); the SHACL shapes generated from the same
model reach the same verdicts (a test checks it on the whole corpus). Each finding says what the
field means and gives an example value, so that a biologist can fix it without the spec.
"""

from __future__ import annotations

import re
from typing import Any

from fairio_tools.findings import Finding, Report, Severity, json_pointer
from fairio_tools.metadata.model import CURIE, REQUIRED, Field, Model, load_model
from fairio_tools.metadata.values import to_term, values_of

IGNORED_KEYS = frozenset({"profile"})
"""Top-level keys that are not sections (a document may say which profile it aims at)."""


def validate_metadata(document: dict[str, Any], profile: str, subject: str = "") -> Report:
    model = load_model()
    model.check_profile(profile)
    report = Report(subject=subject or "metadata")
    completeness: dict[str, float] = {}
    for section in model.sections:
        fields = section.in_profile(profile)
        given = document.get(section.name)
        if given is not None and not isinstance(given, dict):
            report.add(
                Finding(
                    Severity.ERROR,
                    "invalid-section",
                    f"section {section.name!r} must be a mapping of fields to values",
                    subject,
                    json_pointer(section.name),
                    f"write it as `{section.name}:` followed by indented `field: value` lines",
                )
            )
            given = {}
        given = given or {}
        complete = 0
        for field in fields:
            problems = field_problems(field, given.get(field.name), model)
            complete += not problems
            for code, message in problems:
                report.add(_finding(field, profile, code, message, subject))
        if fields:
            completeness[section.name] = round(100 * complete / len(fields))
        for name in given:
            if all(f.name != name for f in section.fields):
                report.add(
                    Finding(
                        Severity.WARNING,
                        "unknown-field",
                        f"{section.name}.{name} is not a field of any profile (a typo?)",
                        subject,
                        json_pointer(section.name, name),
                        "fields of this section: " + ", ".join(f.name for f in section.fields),
                    )
                )
    known = {s.name for s in model.sections} | IGNORED_KEYS
    for name in document:
        if name not in known:
            report.add(
                Finding(
                    Severity.WARNING,
                    "unknown-section",
                    f"{name!r} is not a section of the metadata model",
                    subject,
                    json_pointer(str(name)),
                    "sections: " + ", ".join(s.name for s in model.sections),
                )
            )
    total = [f for s in model.sections for f in s.in_profile(profile)]
    report.facts.update(
        profile=profile,
        profile_title=model.profiles[profile]["title"],
        completeness_percent=round(
            sum(completeness[s] * len(model.section(s).in_profile(profile)) for s in completeness)
            / len(total)
        ),
        section_completeness_percent=completeness,
    )
    return report


def field_problems(field: Field, value: Any, model: Model) -> list[tuple[str, str]]:
    """(code, message) for each rule of ``field`` that ``value`` breaks."""
    values = values_of(value)
    if not values:
        return [("missing", "is missing")]
    problems = []
    if not field.multiple and len(values) > 1:
        problems.append(("single-value", f"takes one value, not a list of {len(values)}"))
    for item in values:
        problem = _value_problem(field, item, model)
        if problem:
            problems.append(problem)
    return problems


def _value_problem(field: Field, value: Any, model: Model) -> tuple[str, str] | None:
    term = to_term(field, value, model)
    if term.kind == "structure":
        return "invalid-value", "must be a single text value, not a list or a mapping"
    if field.type == "date" and term.kind != "date":
        return "invalid-value", f"{term.text!r} is not a date written as YYYY-MM-DD"
    if field.type == "curie":
        match = CURIE.match(term.text)
        if not match:
            return "bad-curie", f"{term.text!r} is not a CURIE (PREFIX:ID)"
        prefix = match.group(1)
        if prefix not in model.prefixes:
            return "unknown-prefix", (
                f"prefix {prefix!r} of {term.text!r} is not a known ontology "
                f"({', '.join(model.prefixes)})"
            )
        if prefix not in field.ontologies:
            return "wrong-ontology", (
                f"{term.text!r} is from {prefix}, but this field takes "
                f"{' or '.join(field.ontologies)} terms"
            )
    if field.pattern and not re.search(field.pattern, term.text):
        return "invalid-value", f"{term.text!r} is not written as expected"
    return None


def _finding(field: Field, profile: str, code: str, message: str, subject: str) -> Finding:
    tier = field.tier(profile)
    severity = Severity.ERROR if tier == REQUIRED else Severity.WARNING
    if code == "missing":
        code = f"missing-{tier}"
        text = f"{field.key} is {tier} in the {profile} profile: {field.description}"
    else:
        text = f"{field.key} {message}: {field.description}"
    return Finding(
        severity,
        code,
        text,
        subject,
        json_pointer(field.section, field.name),
        f"example: {field.name}: {field.example_text()}",
    )
