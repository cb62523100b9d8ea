"""Per-page font tracing (pushgen/build/fonts/): which faces a page's text uses (issue 15).

The pure tracing function is fed a page and stylesheets as text; each case says
which face files the page uses for certain (pushed), possibly (hinted only) or not
at all (listed only). The last tests go through the Resolver (links, @import,
inline <style>, the push policy) and the build's policy key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.build.explain import explain_route
from pushgen.build.fonts import SheetFonts, parse_page, trace_fonts
from pushgen.build.graph import Resolver
from pushgen.cli import main as cli_main
from pushgen.config import load_config
from pushgen.errors import ConfigError, ManifestError
from pushgen.manifest import load_manifest, parse_manifest
from pushgen.push_policy import Policy
from pushgen.scan.css import scan_css
from pushgen.scan.font_rules import style_font_declarations
from pushgen.scan.html import scan_html
from pushgen.urls import document_url
from tests.sites import write_site

FACES = """
@font-face { font-family: "Lato"; src: url(/f/lato.woff2) format("woff2"), url(/f/lato.woff) format("woff"); }
@font-face { font-family: Lato; font-weight: bold; src: url(/f/lato-bold.woff2) format("woff2"); }
@font-face { font-family: lato; font-style: italic; src: url(/f/lato-italic.woff2) format("woff2"); }
@font-face { font-family: Lato; font-weight: 700; font-style: italic; src: url(/f/lato-bolditalic.woff2); }
@font-face { font-family: "Roboto Slab"; font-weight: 300; src: url(/f/slab-light.woff2); }
@font-face { font-family: "Roboto Slab"; font-weight: 700; src: url(/f/slab-bold.woff2); }
@font-face { font-family: Cyr; unicode-range: U+0400-04FF; src: url(/f/cyr.woff2); }
@font-face { font-family: Cyr; unicode-range: U+0000-00FF; src: url(/f/cyr-latin.woff2); }
@font-face { font-family: Icons; src: url(/f/icons.woff2); }
"""


def trace(css: str, body: str, *, media: str | None = None) -> dict[str, str]:
    """Each face file's verdict (used / possible / unused) for ``body`` under ``css``."""
    sheet = scan_css(FACES + css, document_url("/site.css")).fonts
    assert sheet is not None
    root = parse_page(f"<!doctype html><html><head></head><body>{body}</body></html>")
    uses = trace_fonts(root, [SheetFonts(sheet, media, "site.css")], style_font_declarations)
    return {
        path.removeprefix("/f/").removesuffix(".woff2"): use.verdict for path, use in uses.items()
    }


def used(verdicts: dict[str, str], verdict: str = "used") -> set[str]:
    return {name for name, v in verdicts.items() if v == verdict}


@pytest.mark.parametrize(
    ("css", "body", "certain", "possible"),
    [
        pytest.param("", "<p>Text</p>", set(), set(), id="no-rule-uses-a-face"),
        pytest.param(
            "body { font-family: Lato, sans-serif }",
            "<p>Text</p>",
            {"lato"},
            set(),
            id="inheritance",
        ),
        pytest.param(
            "body { font-family: LATO }", "<p>Text</p>", {"lato"}, set(), id="family-case"
        ),
        pytest.param(
            "body { font-family: Lato }",
            "<div><span></span></div>",
            set(),
            set(),
            id="no-text-no-font",
        ),
        pytest.param(
            "body { font-family: Lato }", "<h1>T</h1>", {"lato-bold"}, set(), id="ua-bold-heading"
        ),
        pytest.param(
            "body { font-family: Lato }",
            "<p><em>e</em></p>",
            {"lato-italic"},
            set(),
            id="ua-italic-em",
        ),
        pytest.param(
            "body { font-family: Lato }",
            "<p><b><i>x</i></b></p>",
            {"lato-bolditalic"},
            set(),
            id="bold-italic",
        ),
        pytest.param(
            "body { font-family: Lato }", "<pre>code</pre>", set(), set(), id="ua-monospace"
        ),
        pytest.param(
            "body { font-family: Lato } pre { font-family: inherit }",
            "<pre>c</pre>",
            {"lato"},
            set(),
            id="inherit",
        ),
        # CSS Fonts 4, section 5.2: 300 wanted, 300 absent: lighter first, then heavier.
        pytest.param(
            "p { font-family: 'Roboto Slab'; font-weight: 400 }",
            "<p>T</p>",
            {"slab-light"},
            set(),
            id="weight-400-to-300",
        ),
        pytest.param(
            "p { font-family: 'Roboto Slab'; font-weight: 600 }",
            "<p>T</p>",
            {"slab-bold"},
            set(),
            id="weight-600-to-700",
        ),
        pytest.param(
            "p { font-family: 'Roboto Slab'; font-weight: 100 }",
            "<p>T</p>",
            {"slab-light"},
            set(),
            id="weight-100-to-300",
        ),
        pytest.param(
            "p { font-family: 'Roboto Slab'; font-style: italic }",
            "<p>T</p>",
            {"slab-light"},
            set(),
            id="italic-to-normal",
        ),
        pytest.param(
            "p { font-family: Lato; font-style: oblique 10deg }",
            "<p>T</p>",
            {"lato-italic"},
            set(),
            id="oblique-to-italic",
        ),
        pytest.param(
            "p { font: italic bold 12px/1.5 Lato, serif }",
            "<p>T</p>",
            {"lato-bolditalic"},
            set(),
            id="shorthand",
        ),
        pytest.param(
            "body { font-weight: bold } p { font: 12px Lato }",
            "<p>T</p>",
            {"lato"},
            set(),
            id="shorthand-resets-weight",
        ),
        pytest.param(
            "p { font-family: Lato !important } #x { font-family: 'Roboto Slab' }",
            "<p id=x>T</p>",
            {"lato"},
            set(),
            id="important-wins",
        ),
        pytest.param(
            "p { font-family: Lato !important }", "<p>T</p>", {"lato"}, set(), id="important-alone"
        ),
        pytest.param(
            "p { font-family: Lato } p.x { font-family: 'Roboto Slab' }",
            "<p class=x>T</p>",
            {"slab-light"},
            set(),
            id="specificity",
        ),
        pytest.param(
            "article p { font-family: Lato }", "<p>T</p>", set(), set(), id="unmatched-selector"
        ),
        pytest.param(
            "p:first-child { font-family: Lato }", "<p>T</p>", {"lato"}, set(), id="static-pseudo"
        ),
        pytest.param(
            "body { font-family: Lato } a:hover { font-weight: bold }",
            "<p><a href=x>l</a></p>",
            {"lato"},
            {"lato-bold"},
            id="hover-hints",
        ),
        pytest.param(
            "p::first-line { font-family: Lato }",
            "<p>T</p>",
            set(),
            {"lato"},
            id="other-pseudo-element",
        ),
        pytest.param(
            ".i { font-family: Icons } .i-star::before { content: '\\2605' }",
            "<p><span class='i i-star'></span></p>",
            {"icons"},
            set(),
            id="icon-font-before",
        ),
        pytest.param(
            ".i { font-family: Icons }",
            "<p><span class='i'></span></p>",
            set(),
            set(),
            id="icon-without-content",
        ),
        pytest.param(
            "@media print { p { font-family: Lato } }", "<p>T</p>", set(), set(), id="media-print"
        ),
        pytest.param(
            "@media screen { p { font-family: Lato } }",
            "<p>T</p>",
            {"lato"},
            set(),
            id="media-screen",
        ),
        pytest.param(
            "@media (max-width: 600px) { p { font-family: Lato } }",
            "<p>T</p>",
            set(),
            {"lato"},
            id="media-width",
        ),
        pytest.param(
            "p { font-family: var(--f) }", "<p>T</p>", set(), set(), id="var-of-nothing-is-unset"
        ),
        pytest.param(
            "p { font-family: attr(data-f) }",
            "<p>T</p>",
            set(),
            {"lato", "slab-light", "cyr-latin", "icons"},
            id="unknowable",
        ),
        pytest.param(
            "p { font-family: Helvetica, Lato }",
            "<p>T</p>",
            set(),
            {"lato"},
            id="after-a-local-font",
        ),
        pytest.param(
            "p { font-family: serif, Lato }", "<p>T</p>", set(), set(), id="after-a-generic"
        ),
        pytest.param(
            "p:unknown-thing(( { font-family: Lato }",
            "<p>T</p>",
            set(),
            set(),
            id="bad-selector-dropped",
        ),
        pytest.param(
            'p[title="a]b"]:focus-within { font-family: Lato }',
            '<p title="a]b">T</p>',
            set(),
            {"lato"},
            id="bracket-and-focus-within",
        ),
        pytest.param(
            "p { font-family: Lato }", "<p hidden>T</p>", set(), set(), id="hidden-attribute"
        ),
        pytest.param(
            "body { font-family: Lato }",
            "<p style='font-family: \"Roboto Slab\"'>T</p>",
            {"slab-light"},
            set(),
            id="style-attr",
        ),
        pytest.param(
            "body { font-family: Lato }",
            "<p style='display: none'>T</p>",
            set(),
            set(),
            id="style-attr-display-none",
        ),
        # unicode-range: the characters of the text set in the family.
        pytest.param(
            "p { font-family: Cyr }", "<p>Text</p>", {"cyr-latin"}, set(), id="range-latin"
        ),
        pytest.param("p { font-family: Cyr }", "<p>Текст</p>", {"cyr"}, set(), id="range-cyrillic"),
        pytest.param(
            "p { font-family: Cyr }",
            "<p>Text Текст</p>",
            {"cyr", "cyr-latin"},
            set(),
            id="range-both",
        ),
        pytest.param(
            "p { font-family: Cyr } code { font-family: monospace }",
            "<p>Text <code>Текст</code></p>",
            {"cyr-latin"},
            set(),
            id="range-only-text-in-the-family",
        ),
        pytest.param(
            "p { font-family: Cyr, Lato }", "<p>中</p>", {"lato"}, set(), id="range-falls-through"
        ),
        pytest.param(
            "p { font-family: Lato } .a { & b { font-family: 'Roboto Slab' } }",
            "<p class=a><b>x</b></p>",
            {"slab-bold"},
            set(),
            id="nesting",
        ),
    ],
)
def test_trace(css: str, body: str, certain: set[str], possible: set[str]) -> None:
    verdicts = trace(css, body)
    assert used(verdicts) == certain
    assert used(verdicts, "possible") == possible


def test_a_sheet_for_print_adds_no_rule_or_face_and_one_for_a_width_only_hints() -> None:
    assert trace("p { font-family: Lato }", "<p>T</p>", media="print") == {}
    hinted = trace("p { font-family: Lato }", "<p>T</p>", media="(min-width: 40em)")
    assert used(hinted, "possible") == {"lato"}


def test_the_reason_names_the_family_weight_and_style() -> None:
    sheet = scan_css(
        FACES + "body { font-family: Lato } a:hover { color: red; font-weight: 700 }",
        document_url("/s.css"),
    ).fonts
    assert sheet is not None
    root = parse_page("<body><p><a href=x>l</a></p></body>")
    uses = trace_fonts(root, [SheetFonts(sheet, None, "s.css")], style_font_declarations)
    assert uses["/f/lato-italic.woff2"].reason == (
        "not hinted: no element of this page sets text in 'lato' at weight 400 italic"
    )
    assert uses["/f/lato-bold.woff2"].reason == "pseudo-class :hover (s.css:11)"


@pytest.mark.parametrize(
    ("html", "css"),
    [
        ('<html class="dark">', ".dark { font-family: Slab }"),
        ('<html id="top">', "#top { font-family: Slab }"),
        ('<html class="dark">', ".dark p { font-family: Slab }"),
        ('<html class="dark">', ".dark > body { font-family: Slab }"),
        ("<html style='font-family: \"Roboto Slab\"'>", ""),
    ],
)
def test_a_class_or_id_of_the_html_element_selects_it(html: str, css: str) -> None:
    # A dark-mode or theme class on <html> is the usual way to switch a site's fonts.
    sheet = scan_css(FACES + css.replace("Slab", '"Roboto Slab"'), document_url("/s.css")).fonts
    assert sheet is not None
    root = parse_page(f"<!doctype html>{html}<body><p><b>Bold</b></p></body></html>")
    uses = trace_fonts(root, [SheetFonts(sheet, None, "s.css")], style_font_declarations)
    assert uses["/f/slab-bold.woff2"].verdict == "used"


def test_a_hidden_html_element_renders_no_text() -> None:
    sheet = scan_css(FACES + "body { font-family: Lato }", document_url("/s.css")).fonts
    assert sheet is not None
    root = parse_page("<!doctype html><html hidden><body><p>Text</p></body></html>")
    uses = trace_fonts(root, [SheetFonts(sheet, None, "s.css")], style_font_declarations)
    assert uses["/f/lato.woff2"].verdict == "unused"


# --- through the resolver ---------------------------------------------------------------

FILES = {
    "site.css": b'@import "fonts.css";\n@import "print.css" print;\nbody { font-family: Lato }\n',
    "fonts.css": FACES.encode(),
    "print.css": b"h1 { font-family: Icons }\n",
    **{
        f"f/{name}.woff2": b"wOF2"
        for name in ("lato", "lato-bold", "lato-italic", "lato-bolditalic")
    },
    **{
        f"f/{name}.woff2": b"wOF2"
        for name in ("slab-light", "slab-bold", "cyr", "cyr-latin", "icons")
    },
}


def page(html: str, *, fonts: str = "used") -> dict[str, tuple[bool, bool, tuple[str, ...]]]:
    resolver = Resolver(
        base_path="/",
        read=FILES.get,
        exists=FILES.__contains__,
        push_destinations=frozenset({"style", "script", "font"}),
        fonts="used" if fonts == "used" else "all",
    )
    url = document_url("/index.html")
    scan = scan_html(html, url, filename="index.html")
    found = resolver.page_assets("index.html", scan, html=lambda: html, url=url).found
    return {
        f.asset.path.removeprefix("/f/"): (f.asset.push, f.asset.hint, f.notes)
        for f in found
        if f.asset.destination == "font"
    }


def test_the_resolver_follows_imports_and_lists_unused_faces_without_a_hint() -> None:
    fonts = page('<link rel=stylesheet href="/site.css"><h1>Title</h1><p>Text <em>x</em></p>')
    pushed = {name for name, (push, _, _) in fonts.items() if push}
    listed = {name for name, (_, hint, _) in fonts.items() if not hint}
    assert pushed == {"lato.woff2", "lato-bold.woff2", "lato-italic.woff2"}
    # print.css sets Icons on h1, for print only: not used on a screen.
    assert "icons.woff2" in listed and "lato-bolditalic.woff2" in listed
    assert listed | pushed == set(fonts)
    assert fonts["icons.woff2"][2][-1] == (
        "not hinted: no element of this page sets text in 'icons' at weight 400 normal"
    )


def test_inline_styles_and_font_preloads() -> None:
    fonts = page(
        "<style>@font-face { font-family: X; src: url(/f/icons.woff2) } p { font-family: X }</style>"
        '<link rel=preload as=font href="/f/cyr.woff2" crossorigin><p>T</p>'
    )
    assert fonts["icons.woff2"][:2] == (True, True)
    assert fonts["cyr.woff2"][:2] == (True, True)  # the page's own preload stands


def test_fonts_all_lists_every_face_as_before() -> None:
    fonts = page('<link rel=stylesheet href="/site.css"><p>Text</p>', fonts="all")
    assert all(push and hint for push, hint, _ in fonts.values())
    assert len(fonts) == 9


# --- the policy key -----------------------------------------------------------------

SITE: dict[str, str | bytes] = {
    "templates/.keep": "",
    "pages/index.html": '<link rel="stylesheet" href="/static/s.css"><p>Text</p>\n',
    "static/s.css": "@font-face { font-family: A; src: url(a.woff2) }\n"
    "@font-face { font-family: B; src: url(b.woff2) }\np { font-family: A }\n",
    "static/a.woff2": b"wOF2a",
    "static/b.woff2": b"wOF2b",
}


def test_push_fonts_in_pushgen_yaml(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", SITE)
    build_site(load_config(site))
    entries = {
        a.path: (a.push, a.hint) for a in load_manifest(site / "push-manifest.yaml").routes["/"]
    }
    assert entries["/static/a.woff2"] == (True, True)
    assert entries["/static/b.woff2"] == (False, False)
    (site / "pushgen.yaml").write_text("push: {fonts: all}\n")
    build_site(load_config(site))
    entries = {
        a.path: (a.push, a.hint) for a in load_manifest(site / "push-manifest.yaml").routes["/"]
    }
    assert entries["/static/b.woff2"] == (True, True)
    (site / "pushgen.yaml").write_text("push: {fonts: some}\n")
    with pytest.raises(ConfigError, match=r"'push\.fonts' must be 'used'"):
        load_config(site)


def test_a_rule_with_fonts_all_hints_what_tracing_listed(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", SITE)
    build_site(load_config(site))
    text = (site / "push-manifest.yaml").read_text()
    rules = "rules:\n  - match: /\n    policy: {fonts: all}\n"
    manifest = parse_manifest(text.replace("rules: []\n", rules))
    decisions = manifest.decisions("/", policy=load_config(site).policy)
    font = next(d for d in decisions if d.asset.path == "/static/b.woff2")
    assert (font.asset.push, font.asset.hint) == (True, True)
    assert any("fonts: all by rule" in r for r in font.reasons)
    assert manifest.decisions("/", policy=Policy())[0].asset.path
    with pytest.raises(ManifestError, match="'fonts' must be 'all'"):
        parse_manifest(text.replace("rules: []\n", rules.replace("all", "most")))


def test_an_incremental_build_after_a_font_rule_changes_equals_a_full_build(
    tmp_path: Path,
) -> None:
    # max_bytes: null makes the build compare the sheet's scan instead of its size.
    site = write_site(tmp_path / "site", {**SITE, "pushgen.yaml": "push: {max_bytes: null}\n"})
    build_site(load_config(site))
    css = site / "static" / "s.css"
    css.write_text(css.read_text().replace("p { font-family: A }", "p { font-family: B }"))
    build_site(load_config(site))
    incremental = (site / "push-manifest.yaml").read_text()
    entries = {a.path: a.hint for a in load_manifest(site / "push-manifest.yaml").routes["/"]}
    assert entries == {"/static/s.css": True, "/static/a.woff2": False, "/static/b.woff2": True}
    build_site(load_config(site), full=True)
    assert (site / "push-manifest.yaml").read_text() == incremental


def test_explain_says_why_a_font_is_listed_or_only_hinted(tmp_path: Path) -> None:
    files = dict(SITE)
    files["static/s.css"] = (
        str(files["static/s.css"])
        + "p:hover { font-family: B }\n"
        + "@font-face { font-family: C; font-style: italic; src: url(c.woff2) }\n"
    )
    files["static/c.woff2"] = b"wOF2c"
    site = write_site(tmp_path / "site", files)
    config = load_config(site)
    build_site(config)
    text = explain_route(load_manifest(site / "push-manifest.yaml"), "/", config).render()
    assert text.splitlines()[0] == (
        "/ (pages/index.html): 4 entries: 2 pushed, 1 hinted only, 1 listed only, 0 removed"
    )
    assert (
        "hint    font   /static/b.woff2\n"
        "     via pages/index.html:1 -> static/s.css:2 -> /static/b.woff2\n"
        "     hint only: the page may use it (not decidable from the files:"
        " pseudo-class :hover (static/s.css:4))\n"
    ) in text
    assert (
        "listed  font   /static/c.woff2\n"
        "     via pages/index.html:1 -> static/s.css:5 -> /static/c.woff2\n"
        "     not hinted: no element of this page sets text in 'c' at weight 400 italic\n"
    ) in text


def test_build_check_traces_fonts_as_the_build_did(tmp_path: Path) -> None:
    # --check writes no page: it must still see each page to trace its fonts.
    site = write_site(tmp_path / "site", SITE)
    assert cli_main(["build", str(site)]) == 0
    assert cli_main(["build", "--check", str(site)]) == 0


def test_a_page_is_traced_as_the_scanner_decodes_it() -> None:
    # A windows-1252 page: its text is what a browser shapes (unicode-range is checked
    # against it), not its bytes read as UTF-8.
    root = parse_page(b"<meta charset=windows-1252><p>caf\xe9 \x80</p>")
    assert root is not None
    assert root.findtext(".//p") == "caf\u00e9 \u20ac"
