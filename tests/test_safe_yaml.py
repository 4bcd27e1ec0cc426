"""The one loader for untrusted YAML, on real descriptions and on crafted documents."""

from __future__ import annotations

import time

import pytest
import yaml

from fairio_tools.errors import InputError
from fairio_tools.safe_yaml import MAX_YAML_NODES, load_yaml, parse_yaml

FIXED_SHAPE = "models/spec-examples/unet2d_fixed_shape/v0_4.bioimageio.yaml"


def laughs(levels: int) -> str:
    """Billion laughs: each level lists the previous one 9 times (9**levels values)."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_real_description_with_aliases_loads_as_pyyaml_reads_it(shared_data):
    path = shared_data / FIXED_SHAPE
    text = path.read_text()
    assert "*" in text and "&" in text  # it really uses anchors and aliases
    assert load_yaml(path) == yaml.safe_load(text)


def test_small_aliases_and_merge_keys_are_expanded():
    data = parse_yaml("a: &a [1, 2]\nb: *a\nc: {<<: {x: 1}, y: 2}\n", "f.yml")
    assert data == {"a": [1, 2], "b": [1, 2], "c": {"x": 1, "y": 2}}


def test_alias_bomb_is_refused_without_expanding_it():
    bomb = laughs(9)
    assert len(bomb) < 500
    started = time.process_time()
    with pytest.raises(InputError, match=f"more than {MAX_YAML_NODES} values"):
        parse_yaml(bomb, "bomb.yml")
    assert time.process_time() - started < 1.0  # CPU time, not wall time: load does not matter


def test_expansion_just_under_the_limit_is_accepted():
    assert len(parse_yaml(laughs(5), "ok.yml")["l4"]) == 9  # 9**5 = 59,049 values


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: !!python/object/apply:os.system [id]", "could not determine a constructor"),
        ("a: !include /etc/passwd", "could not determine a constructor"),
        ("a: " + "[" * 65 + "]" * 65, "nested deeper than 64 levels"),
        ("a: 2020-13-45", "invalid YAML value"),
        ("a: " + "9" * 5000, "invalid YAML value"),
        ("a: [1,\n", "invalid YAML at line 2"),
        ("a: !!timestamp garbage", "invalid YAML value"),
        ("a: a\x00b", "control characters are not allowed"),
        ("".join(f"k{i}: {i}\n" for i in range(60_000)), "more than 100000 values"),
        (b"a: caf\xe9", "not UTF-8 text"),
    ],
)
def test_crafted_documents_are_input_errors(text, words):
    with pytest.raises(InputError, match=words.replace("[", r"\[")) as refused:
        parse_yaml(text, "crafted.yml")
    assert "\n" not in str(refused.value)  # one line, whatever the parser wrote
