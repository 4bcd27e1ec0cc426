"""The one YAML loader for untrusted files: safe tags only, bounded size, depth and aliases.

Aliases are accepted (real bioimage.io descriptions use them) but bounded: a document may
hold at most :data:`MAX_YAML_NODES` values, its aliases counted in full, which is what a
"billion laughs" bomb exceeds. Tags other than YAML's standard ones (``!!python/object``
and the like) are refused by the safe constructor. Parsing runs on libyaml's C parser where
it is present; only the composition of nodes (where aliases and depth are checked) is Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from fairio_tools.errors import InputError

MAX_YAML_BYTES = 8 * 1024 * 1024
"""Larger YAML documents are refused unread."""
MAX_YAML_DEPTH = 64
"""Deeper nesting of mappings and sequences is refused."""
MAX_YAML_NODES = 100_000
"""Most values a document may hold, its aliases (``*name``) counted in full: a whole
community catalogue holds about 30,000; a refusal costs at most about a second."""

_Parser = getattr(yaml.cyaml, "CParser", None) if hasattr(yaml, "cyaml") else None


class _BoundedComposer(Composer):
    """Compose nodes as PyYAML does, bounding nesting and the number of values.

    Values are counted as they are composed, an alias counting as everything its anchor
    holds (computed arithmetically, never expanded): a "billion laughs" bomb, or simply a
    huge document, is refused as soon as the count passes :data:`MAX_YAML_NODES`.
    """

    def compose_node(self, parent, index):  # type: ignore[override]
        sizes: dict[int, int] = self.__dict__.setdefault("_sizes", {})
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            self._add(sizes.get(id(node), 1), mark)
            return node
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            mark = self.peek_event().start_mark
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", mark
                )
            self._add(1, mark)
            before = self._total
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        sizes[id(node)] = 1 + self._total - before
        return node

    def _add(self, count: int, mark: yaml.Mark) -> None:
        self._total = getattr(self, "_total", 0) + count
        if self._total > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"more than {MAX_YAML_NODES} values (aliases counted in full)",
                mark,
            )


if _Parser is not None:

    class _Loader(_BoundedComposer, _Parser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml's parser, PyYAML's composer (with our checks), the safe constructor."""

        def __init__(self, stream):
            _Parser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.anchors = {}

        # CParser composes in C; take every composing method from the Python composer.
        get_single_node = Composer.get_single_node
        get_node = Composer.get_node
        check_node = Composer.check_node
        compose_document = Composer.compose_document
        compose_scalar_node = Composer.compose_scalar_node
        compose_sequence_node = Composer.compose_sequence_node
        compose_mapping_node = Composer.compose_mapping_node

else:  # pragma: no cover - PyYAML built without libyaml

    class _Loader(_BoundedComposer, yaml.SafeLoader):  # type: ignore[no-redef]
        """The pure-Python safe loader with our checks."""


def parse_yaml(text: str | bytes, path: str | Path) -> Any:
    """Parse YAML ``text`` that came from ``path`` (a file, or a member of an archive)."""
    if len(text) > MAX_YAML_BYTES:
        raise InputError(f"YAML of {len(text)} bytes is too large for metadata", path=path)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text", path=path) from None
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or getattr(error, "reason", None) or error
        problem = " ".join(str(problem).split())  # one line, whatever the parser wrote
        raise InputError(f"invalid YAML{where}: {problem}", path=path) from None
    except RecursionError:
        raise InputError("invalid YAML: nested too deeply", path=path) from None
    except (ValueError, OverflowError, AttributeError, TypeError) as error:
        # PyYAML's constructors fail this way on values such as an impossible date, a
        # 5000-digit number or a "!!timestamp" that is none
        message = " ".join(str(error).split()) or type(error).__name__
        raise InputError(f"invalid YAML value: {message}", path=path) from None


def load_yaml(path: Path) -> Any:
    """Read and parse a YAML file; raise :class:`InputError` naming the file and the problem."""
    path = Path(path)
    try:
        if not path.is_file():
            what = "a directory" if path.is_dir() else "not a regular file"
            if not path.exists():
                raise InputError("no such file", path=path)
            raise InputError(f"is {what}, not a YAML file", path=path)
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise InputError(f"file of {size} bytes is too large for metadata", path=path)
        with path.open("rb") as stream:
            data = stream.read(MAX_YAML_BYTES + 1)
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror or error})", path=path) from None
    return parse_yaml(data, path)
