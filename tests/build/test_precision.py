"""Issue 15: push only what the first render waits for; hint or list the rest as the browser fetches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.build.graph import Found, Resolver
from pushgen.cli import main as cli_main
from pushgen.config import DEFAULT_MAX_BYTES, load_config
from pushgen.errors import ConfigError, ManifestError
from pushgen.links import link_value
from pushgen.manifest import Manifest, dump_manifest, load_manifest, parse_manifest
from pushgen.model import Asset
from pushgen.runtime.headers import build_route_table
from pushgen.scan.html import scan_html
from pushgen.scan.js import scan_js
from pushgen.urls import document_url
from tests.sites import write_site


def _found(html: str, files: dict[str, bytes], *, hint_script_fetches: bool = False) -> list[Found]:
    resolver = Resolver(
        base_path="/",
        read=files.get,
        exists=files.__contains__,
        push_destinations=frozenset({"style", "script", "font"}),
        hint_script_fetches=hint_script_fetches,
    )
    scan = scan_html(html, document_url("/index.html"), filename="index.html")
    return list(resolver.page_assets("index.html", scan).found)


def _page(
    html: str, files: dict[str, bytes], *, hint_script_fetches: bool = False
) -> list[tuple[str, bool, bool, tuple[str, ...]]]:
    """(path, push, hint, notes) of each entry the resolver finds for ``html``."""
    found = _found(html, files, hint_script_fetches=hint_script_fetches)
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


# --- 3. the likely LCP image ------------------------------------------------------------

IMAGES = {f"img/{name}": b"png" for name in ("a.png", "b.png", "c.png", "hero-1.png", "hero-2.png")}


def _lcp(html: str) -> list[tuple[str, str | None, str | None, str | None]]:
    refs = scan_html(html, document_url("/docs/page.html")).references
    return [
        (r.path, r.imagesrcset, r.imagesizes, r.fetchpriority)
        for r in refs
        if r.fetchpriority is not None
    ]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            "<img src=/a.png width=28 height=28><img src=/b.png width=640 height=240><img src=/c.png width=900 height=300>",
            [("/b.png", None, None, "high")],
            id="first-large",
        ),
        pytest.param(
            "<img src=/a.png width=640 height=240><img src=/b.png fetchpriority=high>",
            [("/b.png", None, None, "high")],
            id="fetchpriority-high-wins",
        ),
        pytest.param(
            "<img src=/a.png width=640 height=240 loading=lazy><img src=/b.png>",
            [],
            id="never-lazy",
        ),
        pytest.param("<img src=/a.png>", [], id="size-unknown"),
        pytest.param(
            '<img src=../hero-1.png srcset="../hero-1.png 480w, ../hero-2.png 960w" sizes="50vw">',
            [("/hero-1.png", "/hero-1.png 480w, /hero-2.png 960w", "50vw", "high")],
            id="srcset-made-absolute",
        ),
        pytest.param(
            '<picture><source srcset="/b.png 1x, /c.png 2x"><img src=/a.png width=640 height=240></picture>',
            [("/a.png", "/b.png 1x, /c.png 2x", None, "high")],
            id="picture-one-source",
        ),
        pytest.param(
            '<picture><source media="(max-width: 30em)" srcset="/b.png">'
            "<img src=/a.png width=640 height=240></picture><img src=/c.png width=640 height=240>",
            [],
            id="picture-art-direction-not-expressible",
        ),
        pytest.param(
            "<template><img src=/a.png width=640 height=240></template><img src=/b.png width=640 height=240>",
            [("/b.png", None, None, "high")],
            id="inert-template",
        ),
    ],
)
def test_the_likely_lcp_image(
    html: str, expected: list[tuple[str, str | None, str | None, str | None]]
) -> None:
    assert _lcp(html) == expected


def test_the_lcp_image_is_hinted_and_other_images_listed() -> None:
    html = (
        '<img src="/img/a.png" width=28 height=28>'
        '<img src="/img/hero-1.png" srcset="/img/hero-1.png 480w, /img/hero-2.png 960w" sizes="100vw">'
        '<img src="/img/b.png" width=900 height=300>'
    )
    entries = _page(html, IMAGES)
    assert [(path, push, hint) for path, push, hint, _ in entries] == [
        ("/img/a.png", False, False),
        ("/img/hero-1.png", False, True),
        ("/img/hero-2.png", False, False),
        ("/img/b.png", False, False),
    ]
    assert entries[0][3] == ("not hinted: an image other than the page's likely LCP image",)


def test_the_link_value_and_the_manifest_carry_the_image_attributes() -> None:
    asset = Asset(
        "/img/hero-1.png",
        "image",
        push=False,
        imagesrcset="/img/hero-1.png 480w, /img/hero-2.png 960w",
        imagesizes="(max-width: 60rem) 100vw, 60rem",
        fetchpriority="high",
    )
    assert link_value(asset) == (
        '</img/hero-1.png>; rel=preload; as=image; imagesrcset="/img/hero-1.png 480w, '
        '/img/hero-2.png 960w"; imagesizes="(max-width: 60rem) 100vw, 60rem"; fetchpriority=high'
    )
    text = dump_manifest(Manifest({"/": (asset,)}))
    assert parse_manifest(text).routes["/"] == (asset,)
    with pytest.raises(ManifestError, match="fetchpriority must be 'high', 'low' or 'auto'"):
        parse_manifest(text.replace("fetchpriority: high", "fetchpriority: urgent"))


# --- 4. preconnect ----------------------------------------------------------------------


def test_other_origins_the_first_render_needs_get_a_preconnect() -> None:
    html = (
        "<!doctype html><html><head>"
        '<link rel=stylesheet href="https://fonts.example/css?family=X">'
        '<link rel=stylesheet media=print href="https://print.example/p.css">'
        '<link rel=preload as=font crossorigin href="https://fonts.example/x.woff2">'  # listed once
        '<script src="https://cdn.example/lib.js"></script>'
        '<script type=module src="https://mod.example/m.js"></script>'
        '<script defer src="https://late.example/a.js"></script>'
        '<link rel=stylesheet href="/a.css">'
        '</head><body><img src="https://img.example/i.png" width=900 height=300></body></html>'
    )
    entries = _page(html, {"a.css": b"p{}"})
    preconnects = [(path, push, hint) for path, push, hint, _ in entries if "://" in path]
    assert preconnects == [
        ("https://fonts.example", False, True),
        ("https://cdn.example", False, True),
        ("https://mod.example", False, True),
    ]
    resolver = Resolver("/", {"a.css": b""}.get, {"a.css"}.__contains__, frozenset({"style"}))
    found = resolver.page_assets("p", scan_html(html, document_url("/"))).found
    links = [link_value(f.asset) for f in found if f.asset.preconnect]
    assert links == [
        "<https://fonts.example>; rel=preconnect",
        "<https://cdn.example>; rel=preconnect",
        "<https://mod.example>; rel=preconnect; crossorigin",
    ]
    assert found[0].notes == (
        "preconnect: the first render needs a stylesheet from https://fonts.example"
        " (https://fonts.example/css?family=X)",
    )
    text = dump_manifest(Manifest({"/": tuple(f.asset for f in found)}))
    assert '    - {preconnect: "https://mod.example", crossorigin: anonymous}\n' in text
    assert parse_manifest(text).routes["/"] == tuple(f.asset for f in found)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{preconnect: https://x.example/path}", "must be an origin like https://fonts.example"),
        ("{preconnect: https://x.example, as: font}", "takes only crossorigin and hint, not 'as'"),
        ("{preconnect: https://x.example, crossorigin: maybe}", "crossorigin must be"),
    ],
)
def test_a_bad_preconnect_entry_is_located(entry: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_manifest(f"version: 1\nroutes:\n  /:\n    - {entry}\n")


def test_a_preconnect_reaches_the_103_and_link_header_and_the_exports(tmp_path: Path) -> None:
    manifest = parse_manifest(
        "version: 1\nroutes:\n  /:\n"
        "    - {preconnect: https://fonts.example, crossorigin: anonymous}\n"
        "    - {path: /a.css, as: style}\n"
    )
    plan = build_route_table(manifest).lookup("/")
    assert plan is not None and plan.push_paths == ("/a.css",)
    assert plan.links[0] == b"<https://fonts.example>; rel=preconnect; crossorigin"
    assert plan.link_header.startswith("<https://fonts.example>; rel=preconnect; crossorigin, ")
    manifest_file = tmp_path / "m.yaml"
    manifest_file.write_text(dump_manifest(manifest))
    assert (
        cli_main(
            ["export", "-f", "netlify", "-m", str(manifest_file), "-o", str(tmp_path / "_headers")]
        )
        == 0
    )
    assert (
        "<https://fonts.example>; rel=preconnect; crossorigin"
        in (tmp_path / "_headers").read_text()
    )


# --- 6. what a script fetches through a literal URL ---------------------------------------

SCRIPT = b"""import { a } from "./a.js";
fetch("/data.json").then((r) => r.json());
const w = new Worker("worker.js");
button.onclick = () => import("./later.js");
Search.loadIndex("searchindex.js");  // Sphinx's search page: a classic script
other.loadIndex("no.js");  // only Search's
fetch(url);  // computed: unknowable
x.fetch("/no.json");
const y = Worker("not-constructed.js");
"""


def test_the_js_scanner_records_literal_fetches_only() -> None:
    refs = scan_js(SCRIPT, document_url("/js/app.js"), fetches=True).references
    assert [(r.path, r.destination, r.kind, r.module) for r in refs] == [
        ("/js/a.js", "script", "module", True),
        ("/data.json", "fetch", "fetch", False),
        ("/js/worker.js", "worker", "fetch", False),
        ("/js/later.js", "script", "fetch", True),
        ("/js/searchindex.js", "script", "fetch", False),
    ]


_FETCHING_FILES = {
    "js/app.js": SCRIPT,
    "js/classic.js": b'fetch("/classic.json");',
    "js/a.js": b"export const a = 1;",
    "js/later.js": b'import "./later-dep.js";',
    "js/later-dep.js": b"",
    "js/worker.js": b'importScripts("/w2.js");',
    "data.json": b"{}",
    "classic.json": b"{}",
}
_FETCHING_PAGE = (
    "<head><script src=/js/classic.js></script><script type=module src=/js/app.js></script></head>"
)


def test_what_a_script_fetches_is_listed_never_pushed_nor_hinted_by_default() -> None:
    # Measured in Chromium (bench/script_fetch_bench.py): a hint makes every page
    # download an import() that runs on a click, and the page never uses it.
    entries = {
        p: (push, hint, notes) for p, push, hint, notes in _page(_FETCHING_PAGE, _FETCHING_FILES)
    }
    assert {path: (push, hint) for path, (push, hint, _) in entries.items()} == {
        "/js/classic.js": (True, True),
        "/classic.json": (False, False),
        "/js/app.js": (True, True),
        "/js/a.js": (True, True),
        "/data.json": (False, False),
        "/js/worker.js": (False, False),
        "/js/later.js": (False, False),  # and not its imports: they load when it does
    }
    assert entries["/data.json"][2] == (
        "not hinted: fetched by a script through a literal URL, maybe never "
        "(hint it: push policy script_fetches: hint, or a rule's set)",
    )
    assert entries["/js/worker.js"][2] == (
        "not hinted: fetched by a script as a worker, which a preload cannot serve",
    )
    assert all(f.asset.fetchpriority is None for f in _found(_FETCHING_PAGE, _FETCHING_FILES))


def test_script_fetches_hint_makes_them_low_priority_hints_never_pushed() -> None:
    found = _found(_FETCHING_PAGE, _FETCHING_FILES, hint_script_fetches=True)
    assert {f.asset.path: (f.asset.push, f.asset.hint, f.asset.fetchpriority) for f in found} == {
        "/js/classic.js": (True, True, None),
        "/classic.json": (False, True, "low"),
        "/js/app.js": (True, True, None),
        "/js/a.js": (True, True, None),
        "/data.json": (False, True, "low"),
        "/js/worker.js": (False, False, None),  # a worker's fetches cannot use a page's preload
        "/js/later.js": (False, True, "low"),
    }
    notes = {f.asset.path: f.notes for f in found}
    assert notes["/data.json"] == (
        "hint only: fetched by a script through a literal URL (push policy "
        "script_fetches: hint), at low priority",
    )


def test_the_push_policy_key_script_fetches_hints_them_in_a_build(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "pages/index.html": "<!doctype html><html><head>"
        '<script type=module src="/static/app.js"></script></head><body>x</body></html>',
        "static/app.js": b'import("./later.js");',
        "static/later.js": b"",
    }
    write_site(tmp_path, files)
    (tmp_path / "templates").mkdir()
    assert load_config(tmp_path).script_fetches == "list"
    build_site(load_config(tmp_path))
    later = load_manifest(tmp_path / "push-manifest.yaml").routes["/"][1]
    assert (later.path, later.push, later.hint, later.fetchpriority) == (
        "/static/later.js",
        False,
        False,
        None,
    )
    (tmp_path / "pushgen.yaml").write_text("push: {script_fetches: hint}\n")
    build_site(load_config(tmp_path))  # the setting is part of what a rebuild checks
    later = load_manifest(tmp_path / "push-manifest.yaml").routes["/"][1]
    assert (later.push, later.hint, later.fetchpriority) == (False, True, "low")
    (tmp_path / "pushgen.yaml").write_text("push:\n  script_fetches: yes\n")
    with pytest.raises(ConfigError, match="must be list \\(the default\\) or hint") as raised:
        load_config(tmp_path)
    assert (raised.value.line, raised.value.column) == (2, 19)


def test_pushgen_scan_keeps_the_default_push_budget(tmp_path: Path) -> None:
    # A generator's folder got no budget at all: 1.2 MB pushed per route on a
    # Sphinx site (bench/precision_browser.py).
    from pushgen.cli import main as pushgen

    folder = write_site(
        tmp_path / "html",
        {
            "index.html": '<!doctype html><html><head><link rel=stylesheet href="small.css?v=1">'
            '<link rel=stylesheet href="theme.css?v=2"></head><body>x</body></html>',
            "small.css": "p{color:red}",
            "theme.css": "/*" + "x" * DEFAULT_MAX_BYTES + "*/",
        },
    )
    assert pushgen(["scan", str(folder), "-m", str(tmp_path / "m.yaml")]) == 0
    entries = {a.path: a.push for a in load_manifest(tmp_path / "m.yaml").routes["/"]}
    assert entries == {"/small.css?v=1": True, "/theme.css?v=2": False}
