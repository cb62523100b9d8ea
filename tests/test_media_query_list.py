"""A media query list is split at its top-level commas only (Media Queries 4, CSS Syntax 3),
and judged for screens query by query: push_policy.media_query_list, media_matches_screen,
and the build's join_media, which stands on the same split."""

from __future__ import annotations

import pytest

from pushgen.build.entries import join_media
from pushgen.push_policy import media_matches_screen, media_query_list


@pytest.mark.parametrize(
    ("media", "queries"),
    [
        ("", ()),
        (" , ", ()),
        ("screen", ("screen",)),
        ("print, screen", ("print", "screen")),
        ("print,screen ,  speech", ("print", "screen", "speech")),
        ("(min-resolution: 2dppx), print", ("(min-resolution: 2dppx)", "print")),
        # Commas inside a function's arguments, nested blocks, brackets, braces.
        (
            "print and (min-width: max(1px, (2px))), speech",
            ("print and (min-width: max(1px, (2px)))", "speech"),
        ),
        (
            "screen and (x: calc(1px + min(2px, 3px)))",
            ("screen and (x: calc(1px + min(2px, 3px)))",),
        ),
        ("print and [a, b], screen", ("print and [a, b]", "screen")),
        ("print and {a, b}, screen", ("print and {a, b}", "screen")),
        # A closer of another kind does not close the block it is in.
        ("print and (a ], b), screen", ("print and (a ], b)", "screen")),
        ("print and [a ), b], screen", ("print and [a ), b]", "screen")),
        # A stray closer at the top level closes nothing.
        ("print), screen", ("print)", "screen")),
        # Strings, escapes and comments hide their commas.
        ('print and (x: "a, b"), screen', ('print and (x: "a, b")', "screen")),
        ("print and x('a, \\' b'), screen", ("print and x('a, \\' b')", "screen")),
        ("print\\, screen", ("print\\, screen",)),
        ("print /* a, b */, screen", ("print /* a, b */", "screen")),
        # A block left open runs to the end (the tokenizer closes it at EOF).
        ("print and (x: f(a, b), screen", ("print and (x: f(a, b), screen",)),
        # An unclosed string ends at the newline (a bad string), a comment at the end.
        ('print "a, b\n, screen', ('print "a, b', "screen")),
        ("print /* a, screen", ("print /* a, screen",)),
    ],
)
def test_a_media_query_list_splits_at_top_level_commas(
    media: str, queries: tuple[str, ...]
) -> None:
    assert media_query_list(media) == queries


@pytest.mark.parametrize(
    ("media", "screen"),
    [
        ("(min-resolution: 2dppx), print", True),
        ("print and (min-resolution: 2dppx), speech", False),
        # A comma in a function's arguments starts no query of its own: the list is
        # print only (split at every comma, "(2px)))" looked like a screen query).
        ("print and (min-width: max(1px, (2px)))", False),
        ("print and (min-width: max(1px, (2px))), screen", True),
        ("print and (x: f(a, screen))", False),
        ("/* for screens */ screen", True),
        ("print /* not screen */", False),
        ("not all, print", False),
    ],
)
def test_media_for_screens_query_by_query(media: str, screen: bool) -> None:
    assert media_matches_screen(media) is screen


def test_join_media_keeps_a_function_with_a_comma_whole() -> None:
    outer = "screen, print"
    inner = "(min-width: max(10em, 300px))"
    assert join_media(outer, inner) == (
        "screen and (min-width: max(10em, 300px)), print and (min-width: max(10em, 300px))"
    )
