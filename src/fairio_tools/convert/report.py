"""The conversion report: what the source held, what was carried, and what was not (and why)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ConversionReport:
    """Written as JSON next to every conversion; nothing is dropped without a line here."""

    source: dict[str, Any]
    output: dict[str, Any]
    carried: list[dict[str, Any]] = field(default_factory=list)
    not_carried: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def carry(self, item: str, value: Any, to: str) -> None:
        """Record that ``item`` (with ``value``) was written to ``to`` in the store."""
        self.carried.append({"item": item, "value": value, "to": to})

    def drop(self, item: str, reason: str) -> None:
        """Record that ``item`` was not written, and why."""
        self.not_carried.append({"item": item, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
