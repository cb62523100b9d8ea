"""The one file-extension table: served types, font types, guessed destinations."""

from __future__ import annotations

import pytest

from pushgen.media_types import content_type, destination_for, font_type, unsupported_font


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.js", "text/javascript"),
        ("a.MJS", "text/javascript"),
        ("a.css", "text/css"),
        ("a.woff2", "font/woff2"),
        ("a.ttc", "font/collection"),
        ("a.avif", "image/avif"),
        ("a.png", "image/png"),
        ("a.webmanifest", "application/manifest+json"),
        ("a.mp4", "video/mp4"),  # from the platform's table
        ("a.unknown-ext", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ],
)
def test_content_type(name: str, expected: str) -> None:
    assert content_type(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/f/a.woff2?v=1", "font/woff2"),
        ("/f/a.WOFF", "font/woff"),
        ("a.ttf#x", "font/ttf"),
        ("a.otf", "font/otf"),
        ("a.ttc", "font/collection"),
        ("a.eot", None),
        ("a.svg", None),
        ("a.css", None),
        ("font", None),
    ],
)
def test_font_type(name: str, expected: str | None) -> None:
    assert font_type(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"), [("a.eot", True), ("a.svg#f", True), ("a.svgz", True), ("a.woff2", False)]
)
def test_unsupported_font(name: str, expected: bool) -> None:
    assert unsupported_font(name) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/a.css?v=1", "style"),
        ("/a.mjs", "script"),
        ("/a.eot", "font"),
        ("/a.json", "fetch"),
        ("/a.htm", "document"),
        ("/a.vtt", "track"),
        ("/a.ico", "image"),
        ("/a.ttc", None),
        ("/a.wasm", None),
        ("/a", None),
    ],
)
def test_destination_for(name: str, expected: str | None) -> None:
    assert destination_for(name) == expected
