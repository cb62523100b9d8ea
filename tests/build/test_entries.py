"""What one reference adds to a page (pushgen/build/entries.py), without a Resolver around it.

:func:`make_asset` is the one place an asset's attributes are made from a
reference, and :func:`make_entry` adds what the output decides; both are pure, so
each case here is a real page's reference (scan/html.py) in, an entry out.
"""

from __future__ import annotations

import pytest

from pushgen.build.entries import join_media, make_asset, make_entry
from pushgen.model import Reference
from pushgen.push_policy import media_matches_screen
from pushgen.scan.html import scan_html
from pushgen.urls import document_url

PUSHED = frozenset({"style", "script", "font"})


def reference(html: str) -> Reference:
    """The first reference of a page made of ``html``."""
    scan = scan_html(html, document_url("/index.html"), filename="index.html")
    return scan.references[0]


@pytest.mark.parametrize(
    ("html", "push", "hint", "notes"),
    [
        ('<link rel="stylesheet" href="/a.css">', True, True, ()),
        (
            '<link rel="stylesheet" href="/p.css" media="print">',
            False,
            True,
            ("hint only: stylesheet for media 'print', which screens do not use",),
        ),
        (
            '<script defer src="/a.js"></script>',
            False,
            True,
            ("hint only: defer script: the first render does not wait for it",),
        ),
        (
            '<img src="/a.png">',
            False,
            False,
            ("not hinted: an image other than the page's likely LCP image",),
        ),
        (
            '<link rel="icon" href="/favicon.ico">',
            False,
            False,
            ("not hinted: an icon, fetched by the browser's own favicon request",),
        ),
    ],
)
def test_make_asset_decides_push_and_hint_with_the_reason(
    html: str, push: bool, hint: bool, notes: tuple[str, ...]
) -> None:
    made = make_asset(reference(html), PUSHED, hint_script_fetches=False)
    assert (made.asset.push, made.asset.hint, made.notes) == (push, hint, notes)


def test_a_font_is_typed_and_fetched_in_cors_mode() -> None:
    made = make_asset(reference('<link rel="preload" as="font" href="/f.woff2">'), PUSHED, False)
    assert (made.asset.destination, made.asset.type, made.asset.crossorigin) == (
        "font",
        "font/woff2",
        "anonymous",
    )


def test_an_attribute_over_two_lines_is_written_on_one() -> None:
    html = '<link rel="stylesheet" href="/a.css" media="screen and\n  (min-width: 40em)">'
    made = make_asset(reference(html), PUSHED, False)
    assert made.asset.media == "screen and (min-width: 40em)"


def test_make_entry_warns_for_what_the_output_lacks_or_the_site_does_not_hold() -> None:
    ref = reference('<link rel="stylesheet" href="/css/a.css">')
    missing = make_entry(
        ref,
        base_path="/",
        exists=lambda _: False,
        push_destinations=PUSHED,
        hint_script_fetches=False,
    )
    assert (missing.asset, missing.warning) == (
        None,
        "stylesheet /css/a.css is not in the output (missing file css/a.css)",
    )
    outside = make_entry(
        ref,
        base_path="/docs/",
        exists=lambda _: True,
        push_destinations=PUSHED,
        hint_script_fetches=False,
    )
    assert (outside.relpath, outside.warning) == (
        None,
        "/css/a.css is outside the site (base path /docs/)",
    )
    present = make_entry(
        ref,
        base_path="/",
        exists=lambda _: True,
        push_destinations=PUSHED,
        hint_script_fetches=False,
    )
    assert present.asset is not None and present.asset.push and present.relpath == "css/a.css"


def test_join_media_of_an_import() -> None:
    # No medium is both a screen and a printer: the sheet applies nowhere (not pushed).
    assert join_media("screen", "print") == "not all"
    assert not media_matches_screen(join_media("screen", "print"))
    assert join_media(None, "print") == "print"
    assert join_media("screen", None) == "screen"


@pytest.mark.parametrize(
    ("outer", "inner", "joined"),
    [
        ("screen", "(min-width: 40em)", "screen and (min-width: 40em)"),
        ("(min-width: 40em)", "screen", "screen and (min-width: 40em)"),  # the type first
        # A list: each query of the importer's AND-ed with the imported one's (the
        # importer's media was dropped when either list had a comma).
        (
            "screen, print",
            "(min-width: 40em)",
            "screen and (min-width: 40em), print and (min-width: 40em)",
        ),
        (
            "screen and (color)",
            "(min-width: 40em), print",
            "screen and (color) and (min-width: 40em)",
        ),
        ("all", "(orientation: landscape)", "(orientation: landscape)"),
        ("only screen", "screen and (hover)", "only screen and (hover)"),
        ("screen", "(a) or (b)", "screen and ((a) or (b))"),
        # `not` negates its whole query: the other query stands for the pair.
        ("not print", "(min-width: 40em)", "(min-width: 40em)"),
    ],
)
def test_join_media_ands_media_query_lists(outer: str, inner: str, joined: str) -> None:
    assert join_media(outer, inner) == joined
