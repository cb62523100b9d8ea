"""What pushgen writes reads back identical under every YAML reader a user may meet.

PyYAML's pure-Python SafeLoader and libyaml's CSafeLoader (YAML 1.1), ruamel.yaml
(1.2), and node's ``yaml`` (1.2 and 1.1 modes) and ``js-yaml`` (1.2), installed
in tests/node by scripts/setup. Hypothesis proves the quoting rule over arbitrary
strings against both PyYAML loaders; the others read manifests full of the
values that trip readers up (issue 12, item 1).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgen.build import build_site
from pushgen.config import load_config
from pushgen.manifest import (
    Manifest,
    dump_manifest,
    parse_manifest,
    routes_checksum,
    update_manifest_text,
    yaml_scalar,
)
from pushgen.model import Asset
from tests.sites import SMALL_SITE, write_site

NODE_DIR = Path(__file__).parents[1] / "node"
LOADERS: list[type[yaml.SafeLoader] | type[yaml.CSafeLoader]] = [yaml.SafeLoader, yaml.CSafeLoader]

# Values each of which some reader once read as something else, or refused.
TRICKY = [
    "/static/js/app.js?v=42", "/a?", "?x", "0x10", ".5", "1:20", "0o17", "017", "1e3", "1_000",
    "+1", "-1", ".inf", ".NaN", "2001-12-14", "'x'", '"x"', "=", "<<", "!a", "&a", "*a", "@a",
    "%a", "`a", "|", ">", "\U0001f600", "caf\u00e9", "\ufeff", "\u00a0", "#", "a #b", "a#b",
    "a: b", "a:", ":a", " x", "x ", "-", "- a", "--- a", "...", "[]{},", "a,b", "{a}", "null",
    "Null", "NULL", "~", "", "yes", "No", "ON", "off", "y", "N", "true", "False", "\\", "a\\b",
    "e6", "E8", "e+5", "e-1", "screen and (min-width: 40em)", "font/woff2", "image/svg+xml", "/", "/static/a'b(c)*d",
]  # fmt: skip
# Refused by the loader (issue 11 item 2), but the writer must still escape them.
CONTROL = ["a\x00b", "\t", "a\nb", "\r", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]

# Characters that mean something to a YAML scanner, mixed with any others.
_YAML_CHARS = st.sampled_from(list("/:?#-,[]{}!&*@%'\"=~.<>|`\\ 0123456789eEoxyYnN+_\t\n"))
_ANY_CHARS = st.characters(exclude_categories=["Cs"])
STRINGS = st.text(st.one_of(_YAML_CHARS, _ANY_CHARS), max_size=24)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("/static/css/site.css", "/static/css/site.css"),
        ("font/woff2", "font/woff2"),
        ("/static/js/app.js?v=42", '"/static/js/app.js?v=42"'),
        ("0x10", '"0x10"'),
        ("yes", '"yes"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\U0001f600", '"\\U0001F600"'),
        ("caf\u00e9\n", '"caf\\u00E9\\u000A"'),
    ],
)
def test_the_quoting_rule(value: str, written: str) -> None:
    assert yaml_scalar(value) == written


@pytest.mark.parametrize("loader", LOADERS, ids=["SafeLoader", "CSafeLoader"])
@pytest.mark.parametrize("value", TRICKY + CONTROL)
def test_tricky_values_read_back_under_both_pyyaml_loaders(value: str, loader: Any) -> None:
    assert _both_places(value, loader) == (value, value)


@settings(max_examples=400, deadline=None)
@given(STRINGS)
def test_any_string_reads_back_under_both_pyyaml_loaders(value: str) -> None:
    for loader in LOADERS:
        assert _both_places(value, loader) == (value, value)


def _both_places(value: str, loader: Any) -> tuple[object, object]:
    """``value`` read back as a flow mapping's value (an entry) and as a block key (a route)."""
    quoted = yaml_scalar(value)
    assert quoted.isascii()
    entry = yaml.load(f"- {{path: {quoted}, as: style}}\n", Loader=loader)
    route = yaml.load(f"routes:\n  {quoted}:\n    - {{path: /a, as: style}}\n", Loader=loader)
    return entry[0]["path"], next(iter(route["routes"]))


def tricky_manifest(values: list[str]) -> Manifest:
    routes: dict[str, tuple[Asset, ...]] = {}
    for i, value in enumerate(values):
        routes["/" + value] = (
            Asset("/x" + value, "style", type=value or None, media=value or None),
            Asset(f"/{i}.png", "image", push=False, hint=False, media="x" + value),
        )
    return Manifest(routes=routes)


def as_data(manifest: Manifest) -> dict[str, object]:
    """The plain data a reader must produce for ``dump_manifest(manifest)``."""
    routes: dict[str, list[dict[str, object]]] = {}
    for route, assets in manifest.routes.items():
        entries = []
        for asset in assets:
            entry: dict[str, object] = {"path": asset.path, "as": asset.destination}
            for key in ("type", "crossorigin", "media"):
                if getattr(asset, key) is not None:
                    entry[key] = getattr(asset, key)
            if asset.module:
                entry["module"] = True
            for key in ("push", "hint"):
                if not getattr(asset, key):
                    entry[key] = False
            entries.append(entry)
        routes[route] = entries
    return {"version": 1, "rules": [], "routes": routes}


@settings(max_examples=60, deadline=None)
@given(st.lists(STRINGS, max_size=6, unique=True))
def test_a_written_manifest_reads_back_under_both_pyyaml_loaders(values: list[str]) -> None:
    manifest = tricky_manifest(values)
    text = dump_manifest(manifest)
    for loader in LOADERS:
        assert yaml.load(text, Loader=loader) == as_data(manifest)


def test_ruamel_yaml_reads_written_manifests_back(tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    manifest = tricky_manifest(TRICKY + CONTROL)
    text = dump_manifest(manifest)
    for reader in (YAML(typ="safe", pure=True), YAML(typ="safe")):
        assert _plain(reader.load(text)) == as_data(manifest)


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("reader", ["yaml-1.2", "yaml-1.1", "js-yaml"])
def test_node_yaml_readers_read_written_manifests_back(tmp_path: Path, reader: str) -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed (Debian: nodejs)"
    assert (NODE_DIR / "node_modules" / "yaml").is_dir(), "run scripts/setup (npm ci in tests/node)"
    files, expected = [], []
    for i, values in enumerate([TRICKY, CONTROL, TRICKY[::-1]]):
        manifest = tricky_manifest(values)
        file = tmp_path / f"m{i}.yaml"
        file.write_text(dump_manifest(manifest), encoding="utf-8")
        files.append(str(file))
        expected.append(as_data(manifest))
    done = subprocess.run(
        [node, str(NODE_DIR / "read.mjs"), reader, *files],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


def test_a_build_with_query_strings_and_odd_attributes_is_read_by_the_pure_loader(
    tmp_path: Path,
) -> None:
    site = write_site(
        tmp_path / "site",
        {
            **SMALL_SITE,
            "pages/q.html": '<link rel="stylesheet" href="/static/css/docs.css?v=42" '
            'media="0x10"><link rel="preload" as="font" type="1:20" '
            'href="/static/fonts/f.woff2?\U0001f600" crossorigin>',
        },
    )
    result = build_site(load_config(site))
    text = result.manifest_text
    assert '{path: "/static/css/docs.css?v=42", as: style, media: "0x10"' in text
    data = yaml.load(text, Loader=yaml.SafeLoader)
    entries = {e["path"]: e for e in data["routes"]["/q.html"]}
    assert entries["/static/css/docs.css?v=42"]["media"] == "0x10"
    assert entries["/static/fonts/f.woff2?%F0%9F%98%80"]["type"] == "1:20"
    assert parse_manifest(text).routes == result.manifest.routes


def test_a_block_from_the_old_writer_is_written_anew_not_copied(tmp_path: Path) -> None:
    routes = {"/": (Asset("/a.js?v=1", "script"),), "/b": (Asset("/b.css", "style"),)}
    # What pushgen 0.1 wrote: the query string plain, no writer version on the line.
    old_body = "  /:\n    - {path: /a.js?v=1, as: script}\n  /b:\n    - {path: /b.css, as: style}\n"
    digest = routes_checksum(update_manifest_text(None, {"/x": ()})) and _sum(old_body)
    old = (
        "version: 1\nrules: []\n"
        f"routes:  # written by pushgen build; hand edits go in rules (sha256:{digest})\n"
        + old_body
    )
    new = update_manifest_text(old, routes, unchanged={"/", "/b"}, written=digest)
    assert '{path: "/a.js?v=1", as: script}' in new
    assert yaml.load(new, Loader=yaml.SafeLoader)["routes"]["/"][0]["path"] == "/a.js?v=1"
    # The new block is the current writer's: the next build may copy from it.
    again = update_manifest_text(new, routes, unchanged={"/", "/b"}, written=routes_checksum(new))
    assert again == new


def _sum(body: str) -> str:
    import hashlib

    return hashlib.sha256(body.encode()).hexdigest()[:12]
