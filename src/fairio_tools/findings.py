"""Typed findings that validators return instead of printing or raising.

A finding says how bad a problem is, where it is (a file and a JSON pointer inside it), what is
wrong and how to fix it. Validators collect findings into a :class:`Report`; only the CLI decides
what to print and which exit code follows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is: errors make the input invalid, warnings do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One problem found in the input."""

    severity: Severity
    code: str
    """Stable, named kind of problem (e.g. ``axes-order``), for filtering and tests."""
    message: str
    path: str = ""
    """File or node the finding is about, relative to the validated input."""
    pointer: str = ""
    """JSON pointer (RFC 6901) to the offending value inside ``path``."""
    hint: str = ""
    """What to do about it."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def location(self) -> str:
        """``path#pointer``, or whichever of the two is known."""
        if self.path and self.pointer:
            return f"{self.path}#{self.pointer}"
        return self.path or self.pointer


def json_pointer(*parts: str | int) -> str:
    """Build a JSON pointer from keys and indices, escaping ``~`` and ``/`` as RFC 6901 says."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass
class Report:
    """Findings about one input, plus facts the validator established on the way."""

    subject: str
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def valid(self) -> bool:
        return self.count(Severity.ERROR) == 0

    def codes(self, severity: Severity | None = None) -> set[str]:
        return {f.code for f in self.findings if severity is None or f.severity is severity}

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "valid": self.valid,
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            **self.facts,
            "findings": [f.to_dict() for f in self.findings],
        }

    def summary(self) -> str:
        verdict = "valid" if self.valid else "INVALID"
        errors, warnings = self.count(Severity.ERROR), self.count(Severity.WARNING)
        return f"{self.subject}: {verdict} ({errors} error(s), {warnings} warning(s))"

    def to_markdown(self, title: str) -> str:
        """A report a person can read: verdict, facts, then one table row per finding."""
        lines = [f"# {title}", "", f"**{self.summary()}**", ""]
        for key, value in self.facts.items():
            if isinstance(value, str | int | float) and value != "":
                lines.append(f"- {key.replace('_', ' ')}: {value}")
        if self.facts:
            lines.append("")
        if not self.findings:
            lines.append("No problems found.")
            return "\n".join(lines) + "\n"
        lines += [
            "| severity | code | location | problem | how to fix |",
            "| --- | --- | --- | --- | --- |",
        ]
        for f in self.findings:
            cells = [f.severity.value, f"`{f.code}`", f"`{f.location()}`", f.message, f.hint]
            lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
        return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
