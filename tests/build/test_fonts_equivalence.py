"""Fast font tracing decides exactly what the straightforward tracing decides.

pushgen/build/fonts/table.py files each selector under the key its subject needs,
matches chains of tags, classes and ids without XPath, skips pages whose rules
name no face's family, and stops walking a page once every face is decided.
tests/build/fonts_reference.py keeps the tracing without any of that (every
rule's XPath run, every element walked); each page here is traced by both and
the verdicts and reasons must be equal: on the bench shapes' builds (the real
Resolver, each page's real sheets) and on seeded random pages and stylesheets
that mix what the fast paths take with what they leave to XPath.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from cssselect import HTMLTranslator, parse
from lxml import etree

import pushgen.build.page_fonts as page_fonts
from pushgen.build import build_site
from pushgen.build.fonts import SheetFonts, parse_page, trace_fonts
from pushgen.build.fonts.selectors import (
    KEY_ONLY,
    Matched,
    PageIndex,
    compile_selectors,
    match_selector,
)
from pushgen.config import load_config
from pushgen.model import FontDeclarations
from pushgen.scan.css import scan_css
from pushgen.scan.font_rules import style_font_declarations
from pushgen.urls import document_url
from tests.build import fonts_reference
from tests.test_bench_smoke import load


@pytest.mark.parametrize(("shape", "pages"), [("default", 40), ("css", 60), ("large", 30)])
def test_bench_shapes_trace_as_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, pages: int
) -> None:
    site = load("shapes").SHAPES[shape](tmp_path / "site", pages)
    traced: list[int] = []

    def both(root: Any, sheets: Any, style: Any) -> Any:
        fast = trace_fonts(root, sheets, style)
        assert fast == fonts_reference.trace_fonts(root, sheets, style)
        traced.append(len(fast))
        return fast

    monkeypatch.setattr(page_fonts, "trace_fonts", both)
    build_site(load_config(site), jobs=1, full=True)
    assert traced and any(traced)  # pages were traced, with faces


# -- seeded random pages and sheets ------------------------------------------------

TAGS = ["div", "p", "span", "a", "em", "strong", "h1", "h2", "code", "pre", "li", "ul",
        "section", "b", "i", "button", "input", "table", "td", "tr", "nav", "main"]  # fmt: skip
CLASSES = ["a", "b", "c", "nav", "card", "x-y", "dark"]
IDS = ["top", "main", "z"]
FAMILIES = ["Lato", "Slab", "Mono", "Icons", "Cyr"]
TEXTS = ["Hello", "Привет", "  ", "ab\xa0cd", "→", "12", "x", "Ωμέγα", ""]


def _compound(rng: random.Random) -> str:
    tag = rng.choice(["", "", "*", *TAGS[:12]])
    parts = [tag]
    for _ in range(rng.randint(0 if tag else 1, 2)):
        kind = rng.random()
        if kind < 0.6:
            parts.append("." + rng.choice(CLASSES))
        elif kind < 0.8:
            parts.append("#" + rng.choice(IDS))
        elif kind < 0.85:
            parts.append(f"[class~={rng.choice(CLASSES)}]")
        elif kind < 0.9:
            parts.append(rng.choice([":first-child", ":not(.a)", ":hover", ":nth-child(2n)"]))
        else:
            parts.append(rng.choice(["::before", ":after", "[hidden]", ":is(.b, .c)"]))
    return "".join(parts)


def _selector(rng: random.Random) -> str:
    text = _compound(rng)
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        text += rng.choice([" ", " > ", ">", " + ", " ~ ", "  "]) + _compound(rng)
    return text


def _declarations(rng: random.Random, *, rich: bool = True) -> str:
    out = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        bang = " !important" if rng.random() < 0.1 else ""
        if kind < 0.4:
            names = rng.sample(
                [*FAMILIES, "Nope", "serif", "monospace", "inherit"], rng.randint(1, 3)
            )
            if rich and rng.random() < 0.05:
                names = ["var(--f)"]
            elif not rich:
                names = [rng.choice([*FAMILIES, "serif"])]
            out.append(f"font-family: {', '.join(names)}{bang}")
        elif kind < 0.6:
            value = rng.choice(["bold", "700", "300", "bolder", "lighter", "normal", "inherit"])
            out.append(f"font-weight: {value}{bang}")
        elif kind < 0.75:
            out.append(f"font-style: {rng.choice(['italic', 'oblique', 'normal'])}{bang}")
        elif kind < 0.85:
            out.append(f"font: {rng.choice(['bold ', 'italic ', ''])}12px {rng.choice(FAMILIES)}")
        elif kind < 0.95 and rich:
            content = rng.choice(['"★"', '"Ж x"', "none", "attr(title)", '""'])
            out.append(f"content: {content}")
        else:
            out.append("display: none")
    return "; ".join(out)


_CUSTOM = ["--f", "--g", "--c", "--w", "--unused"]


def _custom_declarations(rng: random.Random) -> str:
    """Custom properties, and font values through them (issue 25, item 2)."""
    out = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        bang = " !important" if rng.random() < 0.1 else ""
        name = rng.choice(_CUSTOM)
        fallback = rng.choice(["", f", {rng.choice(FAMILIES)}", f", var({rng.choice(_CUSTOM)})"])
        if kind < 0.45:
            value = rng.choice(
                [*FAMILIES, '"Ж"', '"★"', "700", "initial", "inherit", f"var({name}{fallback})"]
            )
            out.append(f"{rng.choice(_CUSTOM)}: {value}{bang}")
        elif kind < 0.75:
            out.append(f"font-family: var({name}{fallback}){bang}")
        elif kind < 0.85:
            out.append(f"font-weight: var({name}, 400)")
        else:
            out.append(f"content: var({name}{fallback})")
    return "; ".join(out)


def _sheet(rng: random.Random, *, rich: bool, custom: bool = False) -> str:
    faces: list[str] = []
    for family in FAMILIES if rich else rng.sample(FAMILIES, rng.randint(1, 2)):
        for _ in range(rng.randint(0, 3) if rich else 1):
            weight = rng.choice(["400", "700", "300", "100 900"])
            style = rng.choice(["normal", "italic"])
            ranges = (
                rng.choice(["", "", "unicode-range: U+0400-04FF;", "unicode-range: U+0000-00FF;"])
                if rich
                else ""
            )
            path = f"/f/{family}-{len(faces)}.woff2"
            faces.append(
                f"@font-face {{ font-family: {family}; font-weight: {weight}; "
                f"font-style: {style}; {ranges} src: url({path}); }}"
            )
    rules = []
    for _ in range(rng.randint(3, 25)):
        selectors = ", ".join(_selector(rng) for _ in range(rng.choice([1, 1, 1, 2, 3])))
        declarations = _declarations(rng, rich=rich)
        if custom and rng.random() < 0.6:
            declarations = _custom_declarations(rng)
        if not rich and ":" in selectors:
            continue
        rule = f"{selectors} {{ {declarations} }}"
        if rich and rng.random() < 0.1:
            rule = f"@media {rng.choice(['print', '(max-width: 600px)', 'screen'])} {{ {rule} }}"
        rules.append(rule)
    return "\n".join([*faces, *rules])


def _element(rng: random.Random, depth: int, *, rich: bool) -> str:
    tag = rng.choice(TAGS)
    attributes = []
    if rng.random() < 0.5:
        classes = rng.sample(CLASSES, rng.randint(1, 2))
        separator = rng.choice([" ", " ", "\t", "\xa0"])
        attributes.append(f'class="{separator.join(classes)}"')
    if rng.random() < 0.15:
        attributes.append(f'id="{rng.choice(IDS)}"')
    if rng.random() < 0.05:
        attributes.append("hidden")
    if rng.random() < 0.08:
        attributes.append(f'style="{_declarations(rng, rich=rich)}"')
    if tag == "input":
        attributes.append(f'type="{rng.choice(["text", "hidden"])}" value="{rng.choice(TEXTS)}"')
        return f"<input {' '.join(attributes)}>{rng.choice(TEXTS)}"
    children = (
        "".join(_element(rng, depth + 1, rich=rich) for _ in range(rng.randint(0, 4)))
        if depth < 5
        else ""
    )
    return f"<{tag} {' '.join(attributes)}>{rng.choice(TEXTS)}{children}</{tag}>{rng.choice(TEXTS)}"


def _page(rng: random.Random, *, rich: bool) -> str:
    html_attributes = rng.choice(["", 'class="dark"', 'class="a b" id="top"'])
    body = "".join(_element(rng, 0, rich=rich) for _ in range(rng.randint(1, 6)))
    return f"<!doctype html><html {html_attributes}><head><title>t</title></head><body>{body}</body></html>"


def test_random_pages_and_sheets_trace_as_the_reference() -> None:
    decided: set[str] = set()
    for seed in range(16):
        # Plain sheets (a face or two a family, no generated content, no var())
        # let the walk stop early; rich ones keep it walking to the end.
        decided.update(_trace_both(random.Random(seed), rich=seed % 2 == 0))
    assert decided == {"used", "possible", "unused"}  # the pages reach every verdict


def test_random_custom_properties_trace_as_the_reference() -> None:
    """The rule table leaves out custom properties no font value needs; the
    reference keeps every one: both decide the same."""
    decided: set[str] = set()
    for seed in range(8):
        decided.update(_trace_both(random.Random(1000 + seed), rich=True, custom=True))
    assert decided == {"used", "possible", "unused"}


def _trace_both(rng: random.Random, *, rich: bool, custom: bool = False) -> set[str]:
    """The verdicts of 25 random pages under random sheets, each traced by both."""
    styles: dict[str, FontDeclarations | None] = {}

    def style(text: str) -> FontDeclarations | None:
        if text not in styles:
            styles[text] = style_font_declarations(text)
        return styles[text]

    sheets = []
    for number in range(3):
        scanned = scan_css(
            _sheet(rng, rich=rich, custom=custom), document_url(f"/s{number}.css")
        ).fonts
        assert scanned is not None
        media = rng.choice([None, None, "print", "screen and (max-width: 40em)"]) if rich else None
        sheets.append(SheetFonts(scanned, media, f"s{number}.css"))
    decided: set[str] = set()
    for _ in range(25):
        page = parse_page(_page(rng, rich=rich))
        chosen = rng.sample(sheets, rng.randint(1, 3))
        fast = trace_fonts(page, chosen, style)
        assert fast == fonts_reference.trace_fonts(page, chosen, style)
        decided.update(use.verdict for use in fast.values())
    return decided


@pytest.mark.parametrize("text", ["p", "P", "h1", ".fa-star", ".-x", ".a_b", "#main", "#-m"])
def test_a_lone_tag_class_or_id_matches_as_its_xpath_would(text: str) -> None:
    """Such a selector skips cssselect (icon sheets hold thousands): same key, same
    specificity, and its key finds the elements cssselect's XPath finds."""
    selector = compile_selectors(text)[0]
    assert selector.xpath == KEY_ONLY and selector.simple
    [parsed] = parse(text)
    assert selector.specificity == parsed.specificity()
    root = parse_page(
        '<!doctype html><html><body><h1 class="fa-star a_b">x</h1><p id=main class="-x">'
        '<span id="-m" class="fa-star">y</span></p><P>z</P></body></html>'
    )
    xpath = etree.XPath(HTMLTranslator().selector_to_xpath(parsed, prefix="descendant-or-self::"))
    assert match_selector(selector, root, PageIndex(root)) == Matched(xpath(root), "")
