"""Custom properties in font tracing (issue 25, item 2): computed as Chromium computes them.

The pure part (pushgen/build/fonts/variables.py): ``var()`` substitution with
fallbacks and nesting, and each element's custom properties (declared, inherited,
``initial``/``inherit``, ``!important``, cycles). Then whole pages: each case says
which face files the page uses for certain and possibly, and the same page, loaded
cold in real Chromium from a plain static server, must fetch exactly the faces
traced as certain (one parametrised browser test). The VitePress header anchor and
Font Awesome's families through ``var()`` were "possible" (hinted, never fetched)
before custom properties were computed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pushgen.build.fonts import SheetFonts, parse_page, trace_fonts
from pushgen.build.fonts.cascade import Hit
from pushgen.build.fonts.variables import Customs, CustomVariants, substitute
from pushgen.model import UNKNOWN, FontDeclarations
from pushgen.scan.css import scan_css
from pushgen.scan.font_rules import style_font_declarations
from pushgen.urls import document_url
from tests.browser_harness import StaticServer, chromium, load_page

REPO = Path(__file__).resolve().parents[2]
FONT = REPO / "site_example" / "static" / "fonts" / "dejavu-sans.woff2"  # Latin, Cyrillic, ★


# --- substitution -------------------------------------------------------------------------


def lookup_in(values: Mapping[str, CustomVariants]) -> Any:
    return lambda name: values.get(name, ((None, ""),))


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        pytest.param("var(--a)", {"--a": (("x", ""),)}, (("x", ""),), id="a-value"),
        pytest.param("var(--a)", {}, ((None, ""),), id="no-value-no-fallback-is-invalid"),
        pytest.param("var(--a, Lato)", {}, (("Lato", ""),), id="fallback"),
        pytest.param("var(--a,)", {}, (("", ""),), id="empty-fallback"),
        pytest.param(
            "var(--a, var(--b, Lato))", {}, (("Lato", ""),), id="nested-fallback-of-nothing"
        ),
        pytest.param(
            "var(--a, var(--b))", {"--b": (("Lato", ""),)}, (("Lato", ""),), id="nested-fallback"
        ),
        pytest.param(
            "var(--a, Lato)", {"--a": (("Icons", ""),)}, (("Icons", ""),), id="value-over-fallback"
        ),
        pytest.param(
            "x, var(--a), serif", {"--a": (("Lato", ""),)}, (("x, Lato, serif", ""),), id="inside"
        ),
        pytest.param(
            "calc(var(--a) + 1)", {"--a": (("2", ""),)}, (("calc(2 + 1)", ""),), id="in-a-function"
        ),
        pytest.param("var(a)", {"a": (("x", ""),)}, ((None, ""),), id="not-a-custom-name"),
        pytest.param("var(--a x)", {"--a": (("x", ""),)}, ((None, ""),), id="junk-after-name"),
        pytest.param(
            "var(--a)",
            {"--a": (("Lato", "a rule under :hover"), ("Icons", ""))},
            (("Lato", "a rule under :hover"), ("Icons", "")),
            id="possibly",
        ),
    ],
)
def test_substitute(
    text: str, values: Mapping[str, CustomVariants], expected: CustomVariants
) -> None:
    assert substitute(text, lookup_in(values)) == expected


def test_too_many_possible_values_are_unknown() -> None:
    many = tuple((f"v{n}", f"r{n}") for n in range(5))
    values = {"--a": many, "--b": many}
    [(text, _)] = substitute("var(--a) var(--b)", lookup_in(values))
    assert text is not None and UNKNOWN in text


# --- an element's custom properties ----------------------------------------------------------


def hit(*custom: tuple[str, str], order: int = 0, important: bool = False, reason: str = "") -> Hit:
    names = frozenset(name for name, _ in custom) if important else frozenset()
    declarations = FontDeclarations(custom=custom, important=names)
    return ((int(important), 0, (0, 1, 0), order), declarations, reason)


def element(
    parent: Customs | None, *hits: Hit, unfollowed: frozenset[str] = frozenset()
) -> Customs:
    return Customs(parent, list(hits), unfollowed)


def value(customs: Customs, name: str) -> CustomVariants:
    return customs.lookup(name)


def test_declared_inherited_and_keywords() -> None:
    root = element(None, hit(("--f", "Lato"), ("--g", "var(--f), serif")))
    child = element(root)
    assert value(child, "--f") == (("Lato", ""),)
    assert value(child, "--g") == (("Lato, serif", ""),)  # computed on the root, inherited
    assert value(element(root, hit(("--f", "initial"))), "--f") == ((None, ""),)
    assert value(element(root, hit(("--f", "inherit"))), "--f") == (("Lato", ""),)
    assert value(element(root, hit(("--f", "unset"))), "--f") == (("Lato", ""),)
    assert value(element(None), "--f") == ((None, ""),)  # the initial value: guaranteed-invalid


def test_a_var_is_substituted_on_the_element_that_declares_it() -> None:
    # --g is computed where it is declared: a child's --f does not change it.
    root = element(None, hit(("--f", "Lato"), ("--g", "var(--f)")))
    child = element(root, hit(("--f", "Icons")))
    assert value(child, "--g") == (("Lato", ""),)
    # Declared again on the child, it takes the child's --f.
    again = element(root, hit(("--f", "Icons"), ("--g", "var(--f)")))
    assert value(again, "--g") == (("Icons", ""),)


def test_the_cascade_of_a_custom_property() -> None:
    later = element(None, hit(("--f", "Lato"), order=0), hit(("--f", "Icons"), order=1))
    assert value(later, "--f") == (("Icons", ""),)
    important = element(
        None, hit(("--f", "Lato"), order=0, important=True), hit(("--f", "Icons"), order=1)
    )
    assert value(important, "--f") == (("Lato", ""),)
    hover = element(None, hit(("--f", "Lato"), order=1, reason="a :hover"), hit(("--f", "Icons")))
    assert value(hover, "--f") == (("Lato", "a :hover"), ("Icons", ""))
    assert value(element(None, hit(("--F", "Lato"))), "--f") == ((None, ""),)  # case-sensitive


def test_cycles_are_guaranteed_invalid_fallbacks_included() -> None:
    cycle = element(
        None, hit(("--a", "var(--b)"), ("--b", "var(--a, Lato)"), ("--c", "var(--a, x)"))
    )
    assert value(cycle, "--a") == ((None, ""),)
    assert value(cycle, "--b") == ((None, ""),)  # in the cycle: its fallback does not save it
    assert value(cycle, "--c") == (("x", ""),)  # outside it: the fallback
    assert value(element(None, hit(("--a", "var(--a)"))), "--a") == ((None, ""),)
    # Evaluated from outside first, the cycle is still found.
    outside = element(None, hit(("--c", "var(--a, x)"), ("--a", "var(--b)"), ("--b", "var(--a)")))
    assert value(outside, "--c") == (("x", ""),)
    assert value(outside, "--b") == ((None, ""),)


def test_a_property_the_tracing_left_out_is_unknown() -> None:
    customs = element(None, unfollowed=frozenset({"--other"}))
    [(text, why)] = value(customs, "--other")
    assert text == UNKNOWN and "--other" in why


# --- whole pages, against Chromium ------------------------------------------------------------

FACES = """
@font-face { font-family: Uni; unicode-range: U+0000-00FF; src: url(/f/latin.woff2) format("woff2"); }
@font-face { font-family: Uni; unicode-range: U+0400-04FF; src: url(/f/cyrillic.woff2) format("woff2"); }
@font-face { font-family: Uni; unicode-range: U+2600-26FF; src: url(/f/symbols.woff2) format("woff2"); }
@font-face { font-family: Icons; src: url(/f/icons.woff2) format("woff2"); }
@font-face { font-family: Brand; src: url(/f/brand.woff2) format("woff2"); }
@font-face { font-family: Sans; font-weight: 400; src: url(/f/sans-400.woff2) format("woff2"); }
@font-face { font-family: Sans; font-weight: 900; src: url(/f/sans-900.woff2) format("woff2"); }
"""

# The VitePress 1.6 default theme's rules for the anchor of a heading (vp-doc.css):
# the "#" is generated through a custom property.
VITEPRESS = """
:root { --vp-header-anchor-symbol: "#"; }
body { font-family: Brand; }
.vp-doc h2 { font-family: Uni; }
.vp-doc .header-anchor { font-family: Uni; }
.vp-doc .header-anchor:before { content: var(--vp-header-anchor-symbol); }
"""

# Font Awesome 7 (as pydata-sphinx-theme 0.16+ ships it): the family and weight of an
# icon come through custom properties, its glyph through --fa.
FONT_AWESOME = """
:root { --fa-family-classic: "Sans"; --fa-font-solid: normal 900 1em/1 var(--fa-family-classic);
        --fa-family-brands: "Brand"; --fa-font-brands: normal 400 1em/1 var(--fa-family-brands); }
.fa, .fa-brands, .fa-regular, .fa-solid, .fab, .far, .fas {
  --_fa-family: var(--fa-family, var(--fa-style-family, "Sans"));
  display: var(--fa-display, inline-block); font-family: var(--_fa-family); font-style: normal;
  font-weight: var(--fa-style, 900); }
:is(.fas, .far, .fab, .fa-solid, .fa-regular, .fa-brands, .fa):before { content: var(--fa); }
.fa-solid, .fas { --fa-style: 900; }
.far { --fa-family: var(--fa-family-classic); --fa-style: 400; }
.fa-regular { --fa-style: 400; }
.fa-brands, .fab { --fa-family: var(--fa-family-brands); --fa-style: 400; }
.fa-star { --fa: "\\2605"; }
.fa-github { --fa: "\\2606"; }
.nav-external:after { content: var(--fa-icon-external, "\\2192"); font: var(--fa-font-solid); }
"""

# (id, css, body, used, possible)
CASES = [
    ("declared-on-root", ":root{--f: Icons} p{font-family: var(--f)}", "<p>x</p>", {"icons"}, set()),
    ("no-value-no-fallback", "body{font-family: Brand} p{font-family: var(--f)}", "<p>x</p>",
     {"brand"}, set()),
    ("fallback", "p{font-family: var(--nope, Icons)}", "<p>x</p>", {"icons"}, set()),
    ("nested-fallback", "p{font-family: var(--a, var(--b, Icons))}", "<p>x</p>", {"icons"}, set()),
    ("nested-var", ":root{--a: Icons; --b: var(--a)} p{font-family: var(--b)}", "<p>x</p>",
     {"icons"}, set()),
    ("inherited-from-an-element", "div{--f: Icons} p{font-family: var(--f, Brand)}",
     "<div><p>x</p></div>", {"icons"}, set()),
    ("not-from-a-sibling", ".x{--f: Icons} p{font-family: var(--f, Brand)}",
     "<div class=x></div><p>y</p>", {"brand"}, set()),
    ("initial", ":root{--f: Icons} p{--f: initial; font-family: var(--f, Brand)}", "<p>x</p>",
     {"brand"}, set()),
    ("inherit", ":root{--f: Icons} div{--f: Brand} p{--f: inherit; font-family: var(--f)}",
     "<div><p>x</p></div>", {"brand"}, set()),
    ("cycle", ":root{--a: var(--b); --b: var(--a)} p{font-family: var(--a, Icons)}", "<p>x</p>",
     {"icons"}, set()),
    ("cycle-with-fallbacks-inside",
     "p{--a: var(--b, Brand); --b: var(--a, Brand); font-family: var(--a, Icons)}", "<p>x</p>",
     {"icons"}, set()),
    ("invalid-at-computed-value-time",
     ":root{--f: 12px} body{font-family: Brand} p{font-family: var(--f)}", "<p>x</p>",
     {"brand"}, set()),
    ("case-sensitive", ":root{--F: Icons} p{font-family: var(--f, Brand)}", "<p>x</p>",
     {"brand"}, set()),
    ("important", ":root{--f: Icons !important; --f: Brand} p{font-family: var(--f)}",
     "<p>x</p>", {"icons"}, set()),
    ("style-attribute", "p{font-family: var(--f, Brand)}", '<p style="--f: Icons">x</p>',
     {"icons"}, set()),
    ("style-attribute-alone", "", '<p style="--f: Icons; font-family: var(--f)">x</p>', {"icons"},
     set()),
    ("style-attribute-naming-a-property-no-font-of-the-sheets-uses", ":root{--x: Icons}",
     '<p style="font-family: var(--x)">x</p>', set(), {"icons", "brand", "latin", "sans-400"}),
    ("registered-with-at-property",
     "@property --f { syntax: '*'; inherits: false; } :root{--f: Icons} p{font-family: var(--f, Brand)}",
     "<p>x</p>", set(), {"icons", "brand", "latin", "sans-400"}),
    ("font-shorthand", ":root{--f: 900 12px Sans} p{font: var(--f)}", "<p>x</p>", {"sans-900"},
     set()),
    ("weight", "p{font-family: Sans; font-weight: var(--w, 900)}", "<p>x</p>", {"sans-900"}, set()),
    ("content-latin", ':root{--s: "#"} p:before{content: var(--s); font-family: Uni}', "<p></p>",
     {"latin"}, set()),
    ("content-cyrillic", ':root{--s: "Ж"} p:before{content: var(--s); font-family: Uni}',
     "<p></p>", {"cyrillic"}, set()),
    ("content-of-nothing", "p:before{content: var(--nope); font-family: Icons}", "<p></p>",
     set(), set()),
    ("content-declared-on-the-pseudo",
     'p:before{--s: "★"; content: var(--s); font-family: Uni}', "<p></p>", {"symbols"}, set()),
    ("hover", "p:hover{--f: Icons} p{font-family: var(--f, Brand)}", "<p>x</p>", {"brand"},
     {"icons"}),
    ("vitepress-header-anchor", VITEPRESS,
     '<div class=vp-doc><h2 id=a>Title<a class=header-anchor href="#a"></a></h2><p>Text</p></div>',
     {"latin", "brand"}, set()),
    ("font-awesome-solid", FONT_AWESOME, '<i class="fa-solid fa-star"></i>', {"sans-900"}, set()),
    ("font-awesome-regular", FONT_AWESOME, '<i class="fa-regular fa-star"></i>', {"sans-400"},
     set()),
    ("font-awesome-brands", FONT_AWESOME, '<i class="fa-brands fa-github"></i>', {"brand"}, set()),
    ("font-awesome-font-shorthand", FONT_AWESOME, '<a class=nav-external href="/">x</a>',
     {"sans-900"}, set()),
]  # fmt: skip


def page(body: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="/site.css"></head>'
        f"<body>{body}</body></html>"
    )


def trace(css: str, body: str) -> dict[str, str]:
    sheet = scan_css(FACES + css, document_url("/site.css")).fonts
    assert sheet is not None
    uses = trace_fonts(
        parse_page(page(body)), [SheetFonts(sheet, None, "site.css")], style_font_declarations
    )
    return {
        path.removeprefix("/f/").removesuffix(".woff2"): use.verdict for path, use in uses.items()
    }


def verdicts(found: dict[str, str], verdict: str) -> set[str]:
    return {name for name, v in found.items() if v == verdict}


@pytest.mark.parametrize(("css", "body", "used", "possible"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_trace(css: str, body: str, used: set[str], possible: set[str]) -> None:
    found = trace(css, body)
    assert verdicts(found, "used") == used
    assert verdicts(found, "possible") == possible


@pytest.fixture(scope="module")
def cases_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    """A folder with one page and one sheet per case, served as it is (no hints)."""
    root = tmp_path_factory.mktemp("font-variables")
    (root / "f").mkdir()
    for name in ("latin", "cyrillic", "symbols", "icons", "brand", "sans-400", "sans-900"):
        shutil.copy(FONT, root / "f" / f"{name}.woff2")
    for name, css, body, _, _ in CASES:
        folder = root / name
        folder.mkdir()
        (folder / "site.css").write_text(FACES + css, encoding="utf-8")
        html = page(body).replace('href="/site.css"', f'href="/{name}/site.css"')
        (folder / "index.html").write_text(html, encoding="utf-8")
    with StaticServer(root) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@pytest.mark.parametrize(("name", "used", "possible"), [(c[0], *c[3:]) for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_chromium_fetches_the_faces_traced_as_used(
    browser: Any, cases_site: StaticServer, name: str, used: set[str], possible: set[str]
) -> None:
    """Every face traced as used is fetched, and nothing else but what is only possible."""
    load = load_page(browser, cases_site.origin, f"/{name}/")
    fetched = {
        path.removeprefix("/f/").removesuffix(".woff2")
        for path in load.requests
        if path.startswith("/f/")
    }
    assert used <= fetched <= used | possible


def test_var_nested_thousands_deep_is_unknown_not_a_traceback() -> None:
    deep = "var(--a, " * 3000 + "Icons" + ")" * 3000
    found = trace(f"p {{ font-family: {deep} }}", "<p>x</p>")
    assert verdicts(found, "used") == set()
    assert "icons" in verdicts(found, "possible")
    chain = " ".join(f"--v{n}: var(--v{n + 1});" for n in range(3000))
    found = trace(f":root {{ {chain} --v3000: Icons }} p {{ font-family: var(--v0) }}", "<p>x</p>")
    assert "icons" in verdicts(found, "possible") | verdicts(found, "used")
