"""pushgen's YAML files read safely: no aliases, bounded nesting, no control characters.

Issue 11: items 2 (a newline in a rule's match reached exported configs) and 8 (a
460-byte pushgen.yaml of aliases took 2.4 GB; 1,000 levels of nesting gave a
RecursionError traceback).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from pushgen.config import load_config
from pushgen.errors import ConfigError, ManifestError
from pushgen.manifest import dump_manifest, parse_manifest
from pushgen.manifest.yamlsafe import MAX_DEPTH, YamlError, compose
from tests.manifest.test_loader_writer import SAMPLE

LOADERS = [yaml.SafeLoader, yaml.CSafeLoader]
LOADER_IDS = ["SafeLoader", "CSafeLoader"]

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def error_of(text: str) -> str:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "m.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'version: 1\nroutes:\n  "/a\\nb":\n    - {path: /a.css, as: style}\n',
            "m.yaml:3:3: error: '/a\\nb' holds a control character (U+000A)",
        ),
        (
            'version: 1\nrules:\n  - match: "/x\\r\\nlocation / {"\n    add: [{path: /a.css, as: style}]\n',
            "m.yaml:3:12: error: '/x\\r\\nlocation / {' holds a control character (U+000D)",
        ),
        (
            'version: 1\nroutes:\n  /:\n    - {path: /a.css, as: style, media: "x\\u2028y"}\n',
            "m.yaml:4:40: error: 'x\\u2028y' holds a control character (U+2028)",
        ),
        (
            'version: 1\nroutes:\n  /:\n    - {path: /a.css, as: style, type: "t\\x85"}\n',
            "m.yaml:4:39: error: 't\\x85' holds a control character (U+0085)",
        ),
        (
            'version: 1\nroutes:\n  /:\n    - {path: "/a\\x7f.css", as: style}\n',
            "m.yaml:4:14: error: '/a\\x7f.css' holds a control character (U+007F)",
        ),
        (
            'version: 1\nrules:\n  - match: /x\n    remove: ["/a\\u2029"]\n',
            "m.yaml:4:14: error: '/a\\u2029' holds a control character (U+2029)",
        ),
        (
            'version: 1\nrules:\n  - match: /x\n    set: [{path: "/a\\t*", push: false}]\n',
            "m.yaml:4:18: error: '/a\\t*' holds a control character (U+0009)",
        ),
        (
            "version: 1\nroutes:\n  /:\n    - {path: /a.css, as: style, media: a\tb}\n",
            "m.yaml:4:40: error: 'a\\tb' holds a control character (U+0009)",
        ),
    ],
    ids=["route", "match", "media", "type", "path", "remove", "set", "raw-tab"],
)
def test_control_characters_are_refused_where_they_are(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_a_control_character_in_a_config_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pushgen.yaml").write_text('output: _site\nbase_path: "/x\\n/"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(
        f"{tmp_path / 'pushgen.yaml'}:2:12: '/x\\n/' holds a control character (U+000A)"
    )


def test_context_values_may_hold_newlines(tmp_path: Path) -> None:
    (tmp_path / "pushgen.yaml").write_text('context:\n  about: "two\\nlines"\n')
    assert load_config(tmp_path).context == {"about": "two\nlines"}


def test_a_manifest_with_aliases_is_refused_at_the_alias() -> None:
    text = (
        "version: 1\nrules:\n  - match: /a\n    add: &css [{path: /a.css, as: style}]\n"
        "  - match: /b\n    add: *css\n"
    )
    assert error_of(text).startswith(
        "m.yaml:4:10: error: an anchor (&css): pushgen's files need no anchors or aliases"
    )
    assert error_of(text.replace("&css ", "")).startswith("m.yaml:6:10: error: an alias (*css)")
    assert "an alias (*x)" in error_of("version: 1\nroutes: *x\n")


def test_billion_laughs_in_pushgen_yaml_is_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "pushgen.yaml").write_text(
        "context:\n" + "".join("  " + line + "\n" for line in LAUGHS.splitlines())
    )
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert ":2:6: an anchor (&a): pushgen's files need no anchors" in str(caught.value)
    assert time.monotonic() - started < 60  # 14.5 s and 2.4 GB before; a generous bound


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("shape", ["[", "{a: ", "- "])
def test_deep_nesting_is_a_located_error_under_both_loaders(loader: Any, shape: str) -> None:
    # libyaml stops at 1,000 levels by itself ("exceeded maximum nesting depth").
    depth = 500
    if shape == "- ":
        text = "".join("  " * i + "-\n" for i in range(depth)) + "  " * depth + "x\n"
    else:
        closing = "]" if shape == "[" else "}"
        text = shape * depth + "x" + closing * depth + "\n"
    with pytest.raises(YamlError) as caught:
        compose(text, "deep.yaml", loader=loader)
    found = caught.value.diagnostic
    assert found.message.startswith(f"nested more than {MAX_DEPTH} levels deep")
    assert (found.file, found.severity) == ("deep.yaml", "error")
    assert found.line >= 1


def test_deep_nesting_in_a_manifest_and_a_config(tmp_path: Path) -> None:
    deep = "[" * 1000 + "]" * 1000
    # Located either way: by libyaml's own bound (1,000), or by compose's.
    assert re.match(
        r"m\.yaml:2:\d+: error: (nested more than 64 levels deep|invalid YAML: exceeded maximum nesting)",
        error_of(f"version: 1\nroutes: {deep}\n"),
    )
    (tmp_path / "pushgen.yaml").write_text(f"context: {{a: {deep}}}\n")
    with pytest.raises(
        ConfigError, match=r"pushgen.yaml:1:\d+: (nested more|invalid YAML: exceeded)"
    ):
        load_config(tmp_path)


def test_a_second_document_is_refused() -> None:
    assert error_of("version: 1\nroutes: {}\n---\nversion: 1\n").startswith(
        "m.yaml:3:1: error: a second YAML document ('---')"
    )


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_compose_builds_the_tree_pyyaml_builds(loader: Any) -> None:
    text = (
        dump_manifest(SAMPLE)
        + "rules:\n  - {match: '/x', policy: {push: [style], max_pushes: 0x10}}\n  - ? [a, {b: c}]\n    : !!str 1\n"
    )
    assert _shape(compose(text, "m", loader=loader)) == _shape(yaml.compose(text, Loader=loader))


def _shape(node: yaml.Node | None) -> object:
    if node is None:
        return None
    where = (node.tag, node.start_mark.line, node.start_mark.column, node.end_mark.index)
    if isinstance(node, yaml.ScalarNode):
        return (*where, node.value, node.style)
    if isinstance(node, yaml.SequenceNode):
        return (*where, node.flow_style, [_shape(n) for n in node.value])
    assert isinstance(node, yaml.MappingNode), node
    return (*where, node.flow_style, [(_shape(k), _shape(v)) for k, v in node.value])
