"""Issue 15: push only what the first render waits for; hint or list the rest as the browser fetches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.config import DEFAULT_MAX_BYTES, load_config
from pushgen.errors import ConfigError
from pushgen.graph import Resolver
from pushgen.manifest import load_manifest
from pushgen.scan.html import scan_html
from pushgen.urls import document_url

from .sites import write_site


def _page(html: str, files: dict[str, bytes]) -> list[tuple[str, bool, bool, tuple[str, ...]]]:
    """(path, push, hint, notes) of each entry the resolver finds for ``html``."""
    resolver = Resolver(
        base_path="/",
        read=files.get,
        exists=files.__contains__,
        push_destinations=frozenset({"style", "script", "font"}),
    )
    scan = scan_html(html, document_url("/index.html"), filename="index.html")
    found = resolver.page_assets("index.html", scan).found
    return [(f.asset.path, f.asset.push, f.asset.hint, f.notes) for f in found]


# --- 1. what blocks the first render ------------------------------------------------


@pytest.mark.parametrize(
    ("html", "placement", "timing"),
    [
        pytest.param("<head><script src=a.js></script></head>", "head", "", id="head-blocking"),
        pytest.param("<head><script defer src=a.js></script></head>", "head", "defer", id="defer"),
        pytest.param("<head><script async src=a.js></script></head>", "head", "async", id="async"),
        pytest.param(
            "<head><script async defer src=a.js></script></head>", "head", "async", id="async-wins"
        ),
        pytest.param("<body><p>x<script src=a.js></script></body>", "body", "", id="body-end"),
        pytest.param(
            "<head><script type=module src=a.js></script></head>", "head", "defer", id="module"
        ),
        pytest.param(
            "<head><script type=module async src=a.js></script></head>",
            "head",
            "async",
            id="module-async",
        ),
    ],
)
def test_the_scanner_records_where_a_script_sits_and_when_it_runs(
    html: str, placement: str, timing: str
) -> None:
    (ref,) = scan_html(html, document_url("/index.html")).references
    assert (ref.placement, ref.timing) == (placement, timing)


SCRIPTS = {
    "head.js": b"1",
    "deferred.js": b"2",
    "async.js": b"3",
    "tail.js": b"4",
    "mod.js": b'import "./dep.js";',
    "dep.js": b"5",
}


def test_only_scripts_the_first_render_waits_for_are_pushed() -> None:
    html = (
        "<!doctype html><html><head>"
        '<script src="/head.js"></script>'
        '<script defer src="/deferred.js"></script>'
        '<script async src="/async.js"></script>'
        '<script type=module src="/mod.js"></script>'
        '</head><body><p>text</p><script src="/tail.js"></script></body></html>'
    )
    entries = {path: (push, hint, notes) for path, push, hint, notes in _page(html, SCRIPTS)}
    assert {path: push for path, (push, _, _) in entries.items()} == {
        "/head.js": True,
        "/deferred.js": False,
        "/async.js": False,
        "/mod.js": True,
        "/dep.js": True,
        "/tail.js": False,
    }
    assert all(hint for _, hint, _ in entries.values())
    assert entries["/deferred.js"][2] == (
        "hint only: defer script: the first render does not wait for it",
    )
    assert entries["/async.js"][2] == (
        "hint only: async script: the first render does not wait for it",
    )
    assert entries["/tail.js"][2] == (
        "hint only: script in <body>: the page renders what comes before it without waiting",
    )


def test_the_site_push_budget_has_a_default_and_null_lifts_it(tmp_path: Path) -> None:
    assert load_config(tmp_path).max_bytes == DEFAULT_MAX_BYTES
    (tmp_path / "pushgen.yaml").write_text("push: {max_bytes: null}\n")
    assert load_config(tmp_path).max_bytes is None
    (tmp_path / "pushgen.yaml").write_text("push: {max_bytes: 2000}\n")
    assert load_config(tmp_path).max_bytes == 2000
    (tmp_path / "pushgen.yaml").write_text("push: {max_bytes: -1}\n")
    with pytest.raises(ConfigError, match="or null for no limit"):
        load_config(tmp_path)


def test_a_huge_head_script_is_hinted_not_pushed_by_default(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "pages/index.html": '<!doctype html><html><head><link rel=stylesheet href="/static/a.css">'
            '<script src="/static/icons.js"></script></head><body>x</body></html>',
            "static/a.css": b"p{color:red}",
            "static/icons.js": b"//" + b"x" * DEFAULT_MAX_BYTES,
        },
    )
    (tmp_path / "templates").mkdir()
    manifest = (build_site(load_config(tmp_path)), load_manifest(tmp_path / "push-manifest.yaml"))[
        1
    ]
    entries = {a.path: a.push for a in manifest.routes["/"]}
    assert entries == {"/static/a.css": True, "/static/icons.js": False}


# --- 2. icons --------------------------------------------------------------------------


def test_an_icon_is_listed_never_hinted() -> None:
    html = '<link rel=icon href="/icon.png"><link rel=apple-touch-icon href="/touch.png">'
    entries = _page(html, {"icon.png": b"png", "touch.png": b"png"})
    note = ("not hinted: an icon, fetched by the browser's own favicon request",)
    assert entries == [("/icon.png", False, False, note), ("/touch.png", False, False, note)]
