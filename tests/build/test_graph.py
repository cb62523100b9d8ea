"""Following pages' references: what one resolver shares between pages changes no result."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.build.fonts import SheetFonts, parse_page, trace_fonts
from pushgen.build.graph import Found, Link, Resolver
from pushgen.cli import main
from pushgen.config import load_config
from pushgen.manifest import load_manifest
from pushgen.model import Reference
from pushgen.scan.html import scan_html
from pushgen.urls import document_url
from tests.sites import write_site

FILES = {
    "static/site.css": b'@import "base.css";\n@import "print.css" print;\nbody{background:url(bg.png)}\n',
    "static/base.css": b'@import "missing.css";\n@font-face{src:url(f.woff2)}\n',
    "static/print.css": b'@import "site.css";\n',  # a cycle back to site.css
    "static/f.woff2": b"wOF2",
    "static/bg.png": b"png",
    "static/app.js": b'import "./a.js";\nimport "./gone.js";\n',
    "static/a.js": b'import "./b.js";\nimport "./app.js";\n',  # a cycle back
    "static/b.js": b"export default 1;\n",
}
PAGES = {
    "a.html": '<link rel=stylesheet href="/static/site.css">',
    # The same stylesheet, after a page's own preload of a file in its tree.
    "b.html": '<link rel=preload as=style href="/static/base.css">\n'
    '<link rel=stylesheet href="/static/site.css">',
    "c.html": '<link rel=stylesheet href="/static/site.css" media="screen">\n'
    '<link rel=stylesheet href="/static/site.css">',
    "d.html": '<img src="/static/bg.png">\n<link rel=stylesheet href="/static/site.css">',
    "e.html": '<script type=module src="/static/app.js"></script>',
    # A module of the graph preloaded first, then the graph's entry.
    "f.html": '<link rel=modulepreload href="/static/b.js">\n'
    '<script type=module src="/static/app.js"></script>',
}


class Unshared(Resolver):
    """Follows every stylesheet and module for every page (what the shared expansions stand for)."""

    def _expand(
        self,
        found: dict[str, Found],
        top: Reference,
        chain: tuple[Link, ...],
        css_images: list[Found],
        *,
        css: bool,
    ) -> None:
        self._follow(found, top, chain, css_images, css)


def resolver(kind: type[Resolver] = Resolver) -> Resolver:
    return kind(
        base_path="/",
        read=FILES.get,
        exists=FILES.__contains__,
        push_destinations=frozenset({"style", "font", "script"}),
    )


def resolve(r: Resolver, page: str) -> tuple[list[Found], set[str], list[str]]:
    scan = scan_html(PAGES[page], document_url(f"/{page}"), filename=page)
    result = r.page_assets(page, scan)
    return list(result.found), set(result.touched), [str(d) for d in result.diagnostics]


@pytest.mark.parametrize("order", [list(PAGES), list(reversed(PAGES))])
def test_one_resolver_for_every_page_agrees_with_following_each_page(order: list[str]) -> None:
    shared = resolver()
    for page in order:
        found, touched, _ = resolve(shared, page)
        alone_found, alone_touched, _ = resolve(resolver(Unshared), page)
        assert found == alone_found, page
        assert touched == alone_touched, page
    # Every warning is reported (once) whichever page met it first.
    assert sorted({d.message for d in shared.diagnostics}) == [
        "@import cycle: /static/site.css is already being imported",
        "script /static/gone.js is not in the output (missing file static/gone.js)",
        "stylesheet /static/missing.css is not in the output (missing file static/missing.css)",
    ]


def test_each_page_gets_its_own_result_not_a_last_attribute() -> None:
    # Results are returned (issue 13): a later page leaves an earlier result as it was.
    r = resolver()
    first = r.page_assets("a.html", scan_html(PAGES["a.html"], document_url("/a.html")))
    touched, diagnostics = first.touched, first.diagnostics
    r.page_assets("e.html", scan_html(PAGES["e.html"], document_url("/e.html")))
    assert (first.touched, first.diagnostics) == (touched, diagnostics)
    assert "static/site.css" in first.touched and "static/app.js" not in first.touched
    assert [d.message for d in first.diagnostics] == [
        "stylesheet /static/missing.css is not in the output (missing file static/missing.css)",
        "@import cycle: /static/site.css is already being imported",
    ]
    assert not hasattr(r, "last_touched") and not hasattr(r, "last_diagnostics")


# --- an @import DAG (issue 22, item 2) ------------------------------------------------------------

# Sheet i imports i+1 and i+2: 2^(n/1.44) paths through n sheets, each sheet on many.
DAG_SHEETS = 60
# Calls of Resolver._sheet_fonts one walk of the DAG may take: one per @import rule
# and one for the sheet the page links (main took 2,178,308 for 30 sheets).
DAG_CALLS = 2 * DAG_SHEETS + 1


def dag_files(count: int, prefix: str = "") -> dict[str, str | bytes]:
    """``count`` sheets, sheet i importing i+1 and i+2; the last has the face the page uses."""
    files: dict[str, str | bytes] = {f"{prefix}f.woff2": b"wOF2"}
    for i in range(count):
        imports = "".join(f'@import "{j}.css";\n' for j in (i + 1, i + 2) if j < count)
        last = "@font-face { font-family: F; src: url(../f.woff2) }\np { font-family: F }\n"
        files[f"{prefix}css/{i}.css"] = imports + (last if i == count - 1 else "")
    return files


class CountingWalk:
    """Counts the calls of Resolver._sheet_fonts (the real one runs); fails past ``limit``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
        self.calls = 0
        self.limit = limit
        real = Resolver._sheet_fonts

        def counted(resolver: Resolver, *args: object) -> object:
            self.calls += 1
            if self.calls > self.limit:  # main would take ~10^12 calls: stop it here
                raise AssertionError(f"more than {self.limit} calls of _sheet_fonts")
            return real(resolver, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(Resolver, "_sheet_fonts", counted)


def test_an_import_dag_is_walked_once_per_sheet(monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"static/" + k: v for k, v in dag_files(DAG_SHEETS).items()}
    walk = CountingWalk(monkeypatch, limit=10 * DAG_CALLS)
    r = Resolver(
        base_path="/",
        read=files.get,  # type: ignore[arg-type]
        exists=files.__contains__,
        push_destinations=frozenset({"style", "font"}),
    )
    page = '<link rel=stylesheet href="/static/css/0.css"><p>text</p>'
    scan = scan_html(page, document_url("/"), filename="index.html")
    result = r.page_assets("index.html", scan, html=lambda: page, url="/")
    assert walk.calls <= DAG_CALLS
    paths = [item.asset.path for item in result.found]
    assert paths == [*(f"/static/css/{i}.css" for i in range(DAG_SHEETS)), "/static/f.woff2"]
    assert result.found[-1].asset.push  # traced: the page's <p> is set in F
    # A second page linking the same sheet takes the walk the first one made.
    r.page_assets("other.html", scan, html=lambda: page, url="/other.html")
    assert walk.calls <= DAG_CALLS


def test_an_import_dag_builds_and_scans_with_each_sheet_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page = '<!doctype html><link rel="stylesheet" href="/static/css/0.css"><p>text</p>\n'
    site = write_site(
        tmp_path / "site",
        {"pages/index.html": page, **dag_files(DAG_SHEETS, "static/")},
    )
    folder = write_site(
        tmp_path / "built", {"index.html": page, **dag_files(DAG_SHEETS, "static/")}
    )
    walk = CountingWalk(monkeypatch, limit=10 * DAG_CALLS)
    result = build_site(load_config(site), jobs=1)
    assert walk.calls <= DAG_CALLS
    assert [a.path for a in result.manifest.routes["/"]][-1] == "/static/f.woff2"
    walk.calls = 0
    manifest = tmp_path / "push-manifest.yaml"
    assert main(["scan", str(folder), "-m", str(manifest), "-j", "1"]) == 0
    assert walk.calls <= DAG_CALLS
    font = load_manifest(manifest).routes["/"][-1]
    assert (font.path, font.push) == ("/static/f.woff2", True)


SMALL_DAG = {
    # a imports b and c, b imports c and d: every path lists [c, d, b, c, a]. The
    # second c is later than d, so c's family wins on <p>; a walk listing each sheet
    # at its first place ([c, d, b, a]) would let d's win.
    "static/a.css": b'@import "b.css";\n@import "c.css";\nh1 { font-family: A }\n'
    b"@font-face { font-family: A; src: url(a.woff2) }\n",
    "static/b.css": b'@import "c.css";\n@import "d.css" screen;\n',
    "static/c.css": b"p { font-family: C }\n@font-face { font-family: C; src: url(c.woff2) }\n",
    "static/d.css": b"p { font-family: D }\n@font-face { font-family: D; src: url(d.woff2) }\n"
    b"@media print { em { font-family: A } }\n",
    **{f"static/{name}.woff2": b"wOF2" for name in "acd"},
}


def every_path(r: Resolver, sheet: Reference, media: str | None) -> list[SheetFonts]:
    """The sheets along every @import path, as main listed them (the oracle: exponential)."""
    doc = r.docs[sheet.path.lstrip("/")]
    assert doc is not None
    out: list[SheetFonts] = []
    for ref in doc.scan.references:
        if ref.kind == "import":
            out.extend(every_path(r, ref, ref.media or media))  # no media nested in media here
    if doc.scan.fonts is not None:
        out.append(SheetFonts(doc.scan.fonts, media, doc.display))
    return out


def test_a_small_dag_traces_the_fonts_every_path_traced() -> None:
    r = Resolver(
        base_path="/",
        read=SMALL_DAG.get,
        exists=SMALL_DAG.__contains__,
        push_destinations=frozenset({"style", "font"}),
    )
    page = '<link rel=stylesheet href="/static/a.css"><h1>t</h1><p>text <em>e</em></p>'
    scan = scan_html(page, document_url("/"), filename="index.html")
    result = r.page_assets("index.html", scan, html=lambda: page, url="/")
    fonts = {
        f.asset.path: (f.asset.push, f.asset.hint)
        for f in result.found
        if f.asset.destination == "font"
    }
    assert fonts == {
        "/static/a.woff2": (True, True),
        "/static/c.woff2": (True, True),
        "/static/d.woff2": (False, False),
    }
    root = parse_page(page)
    top = next(ref for ref in scan.references if ref.kind == "stylesheet")
    walked = r._sheet_lists[(top.path, top.media)]
    assert [s.display for s in walked] == [
        "static/d.css",  # b.css has no font rules
        "static/c.css",
        "static/a.css",
    ]
    assert trace_fonts(root, walked, r._style_attribute) == trace_fonts(
        root, every_path(r, top, None), r._style_attribute
    )
