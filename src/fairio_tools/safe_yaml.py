"""YAML for untrusted files: the safe loader, without aliases, with a size limit.

Aliases are refused outright: metadata never needs them, and they are what a "billion laughs"
YAML bomb is made of.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fairio_tools.errors import InputError

MAX_YAML_BYTES = 8 * 1024 * 1024


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted", mark
            )
        return super().compose_node(parent, index)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file safely; raise :class:`InputError` naming the file and the problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise InputError(f"file of {size} bytes is too large for metadata", path=path)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a YAML file", path=path) from None
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(f"invalid YAML{where}: {problem}", path=path) from None
