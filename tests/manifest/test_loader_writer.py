"""The manifest format: stable output, a loader that says file:line:col for every mistake."""

from __future__ import annotations

import pytest

from pushgen.errors import ManifestError
from pushgen.manifest import Manifest, dump_manifest, load_manifest, parse_manifest
from pushgen.model import Asset

SAMPLE = Manifest(
    routes={
        "/docs/": (Asset("/static/css/docs.css", "style", media="screen and (min-width: 40em)"),),
        "/": (
            Asset("/static/css/site.css", "style"),
            Asset("/static/fonts/f.woff2", "font", type="font/woff2", crossorigin="anonymous"),
            Asset("/static/js/app.js", "script", crossorigin="anonymous", module=True),
            Asset("/static/img/a.png?size=1,2", "image", push=False),
            Asset("/static/img/no.png", "image", push=False, hint=False),
        ),
        "/empty.html": (),
    }
)


def test_dump_is_stable_readable_and_round_trips() -> None:
    text = dump_manifest(SAMPLE)
    assert text == dump_manifest(SAMPLE)
    assert parse_manifest(text) == SAMPLE
    assert text.startswith("# yaml-language-server: $schema=push-manifest.schema.json\n")
    body = text.split("routes:", 1)[1]
    assert body.split("\n", 1)[1] == (
        "  /:\n"
        "    - {path: /static/css/site.css, as: style}\n"
        "    - {path: /static/fonts/f.woff2, as: font, type: font/woff2, crossorigin: anonymous}\n"
        "    - {path: /static/js/app.js, as: script, crossorigin: anonymous, module: true}\n"
        '    - {path: "/static/img/a.png?size=1,2", as: image, push: false}\n'
        "    - {path: /static/img/no.png, as: image, push: false, hint: false}\n"
        "  /docs/:\n"
        '    - {path: /static/css/docs.css, as: style, media: "screen and (min-width: 40em)"}\n'
        "  /empty.html: []\n"
    )


@pytest.mark.parametrize("value", ["true", "null", "1.5", "yes", "a: b", "x,y", "#c", "[a]"])
def test_values_that_yaml_would_misread_are_quoted(value: str) -> None:
    manifest = Manifest(routes={"/": (Asset("/a.css", "style", media=value),)})
    assert parse_manifest(dump_manifest(manifest)) == manifest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nroutes:\n  /:\n    - {path: /a.css, as: styel}\n",
            "m.yaml:4:26: error: 'styel' is not a Fetch destination; did you mean 'style'?",
        ),
        (
            "version: 1\nroutes:\n  /:\n    - {path: /a.css, as: style, pusj: false}\n",
            "m.yaml:4:33: error: unknown key 'pusj' in an entry of route '/'; did you mean 'push'?",
        ),
        (
            "version: 1\nrouts: {}\n",
            "m.yaml:2:1: error: unknown key 'routs' in the manifest; did you mean 'routes'?",
        ),
        (
            "version: 1\nroutes:\n  /:\n    - {path: a.css, as: style}\n",
            "m.yaml:4:14: error: path 'a.css' must be an absolute URL path on this site, starting with one '/'",
        ),
        (
            "version: 1\nroutes:\n  /:\n    - {path: /static/../../etc/passwd, as: style}\n",
            "m.yaml:4:14: error: path '/static/../../etc/passwd' leaves the site root ('.' or '..' segment)",
        ),
        ("version: 1\nroutes:\n  /:\n    - {path: '/a%2e%2e/%2E%2E/x', as: style}\n", None),
        (
            "version: 1\nroutes:\n  /:\n    - {path: /a.css, as: style, push: maybe}\n",
            "m.yaml:4:39: error: 'push' must be true or false",
        ),
        (
            "version: 1\nroutes:\n  /:\n    - {path: /a.css, as: style}\n    - {path: /a.css, as: style}\n",
            "m.yaml:5:7: error: /a.css is listed twice for route '/' (first on line 4)",
        ),
        (
            "version: 1\nroutes:\n  /:\n    - {as: style}\n",
            "m.yaml:4:7: error: entry of route '/' is missing 'path'",
        ),
        (
            "version: 1\nroutes:\n  docs:\n    - {path: /a.css, as: style}\n",
            "m.yaml:3:3: error: route 'docs' must be a URL path starting with '/'",
        ),
        (
            "version: 2\nroutes: {}\n",
            "m.yaml:1:10: error: unsupported manifest version; this pushgen reads version 1",
        ),
        ("version: 1\nroutes:\n  /: [\n", "m.yaml:4:1: error: invalid YAML:"),
        (
            "version: 1\nroutes:\n  /:\n    - {path: /a.css, as: style, crossorigin: yes-please}\n",
            "m.yaml:4:46: error: crossorigin must be 'anonymous' or 'use-credentials', not 'yes-please'",
        ),
    ],
)
def test_mistakes_are_located(text: str, expected: str | None) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "m.yaml")
    if expected is not None:
        assert str(info.value).startswith(expected)
    assert all(d.line > 0 for d in info.value.diagnostics)


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = "version: 1\nroutes:\n  /:\n    - {path: /a.css, as: bogus}\n  /b:\n    - {path: rel.css, as: style}\n"
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "m.yaml")
    assert [d.line for d in info.value.diagnostics] == [4, 6]


def test_load_reports_unreadable_and_non_utf8_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load_manifest(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"version: 1\nroutes:\n  /\xff: []\n")
    with pytest.raises(ManifestError, match=r"bad.yaml:3: error: manifest is not UTF-8"):
        load_manifest(bad)


def test_an_empty_file_is_an_empty_manifest() -> None:
    assert parse_manifest("") == Manifest()
    assert parse_manifest("version: 1\nroutes:\n") == Manifest()


def test_all_routes_are_the_generated_ones_and_those_exact_rules_name() -> None:
    m = parse_manifest(
        "version: 1\n"
        "rules:\n"
        "  - match: /extra/\n"
        "    add: [{path: /a.css, as: style}]\n"
        "  - match: /blog/*\n"
        "    remove: [/a.css]\n"
        "routes:\n"
        "  /: [{path: /a.css, as: style}]\n"
    )
    assert m.all_routes == {"/", "/extra/"}
