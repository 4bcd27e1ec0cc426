"""Typed errors the library raises for problems a user can fix.

Library code raises these; only the CLI turns them into one line and an exit code.
"""

from __future__ import annotations

from pathlib import Path


class FairioError(Exception):
    """A problem with the user's input: names the file, the field and what to do."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.field = field
        self.hint = hint

    def __str__(self) -> str:
        where = self.path or ""
        if self.field:
            where = f"{where} [{self.field}]" if where else self.field
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(FairioError):
    """The input cannot be read or used (missing, empty, truncated, unsupported)."""


class OutputError(FairioError):
    """The output cannot be written (exists without --overwrite, disk full, ...)."""
