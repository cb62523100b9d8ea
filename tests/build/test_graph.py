"""Following pages' references: what one resolver shares between pages changes no result."""

from __future__ import annotations

import pytest

from pushgen.build.graph import Found, Link, Resolver
from pushgen.model import Reference
from pushgen.scan.html import scan_html
from pushgen.urls import document_url

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
