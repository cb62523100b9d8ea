"""The image a page's markup names as its likely Largest Contentful Paint (pushgen.scan.lcp)."""

from __future__ import annotations

import pytest

from pushgen.scan.html import html_tree
from pushgen.scan.lcp import likely_lcp


def _lcp(body: str) -> str | None:
    root = html_tree(f"<!doctype html><html><body>{body}</body></html>".encode())
    found = likely_lcp(root)
    return None if found is None else found.get("id")


@pytest.mark.parametrize(
    ("srcset", "large"),
    [
        ("a.png 1x, a@2x.png 2x", False),  # density descriptors: no width to go by
        ("/www/wide.png 1x, /www/wide@2x.png 2x", False),  # a "w" in the URLs only
        ("a.png 300w, b.png 800w", True),
        ("a.png 300w, b.png 599w", False),
        ("b.png 800W", False),  # the descriptor's letter is a lowercase w
        ("", False),
    ],
)
def test_a_srcset_makes_an_image_large_only_by_a_wide_candidate(srcset: str, large: bool) -> None:
    body = f'<img id="small" src="s.png"><img id="hero" src="h.png" srcset="{srcset}">'
    assert _lcp(body) == ("hero" if large else None)


def test_fetchpriority_high_wins_and_lazy_or_low_never_does() -> None:
    wide = 'srcset="a.png 1200w"'
    assert (
        _lcp(f'<img id="lazy" loading="lazy" {wide}><img id="low" fetchpriority=low {wide}>')
        is None
    )
    assert _lcp(f'<img id="first" {wide}><img id="marked" fetchpriority=" HIGH ">') == "marked"
    assert _lcp(
        '<img id="sized" width="400" height="200"><img id="later" srcset="a.png 900w">'
    ) == ("sized")
