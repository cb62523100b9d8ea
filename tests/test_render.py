"""Rendering pages: plain HTML pages skip Jinja2 and come out as Jinja2 would render them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgen.config import load_config
from pushgen.render import Renderer, discover_pages

from .sites import write_site

# Text a plain page may hold: markup, line ends of every kind, braces and percent
# signs that are not Jinja2's delimiters, non-ASCII.
_PLAIN = st.text(alphabet="<>/ab {}%#\r\n\t=é", max_size=60).filter(
    lambda t: not any(marker in t for marker in ("{{", "{%", "{#"))
)


def render_page(text: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(Path(tmp), {"pages/index.html": text.encode("utf-8")})
        config = load_config(site)
        pages = discover_pages(config)
        return Renderer(config, pages).render(pages[0])


@settings(max_examples=150, deadline=None)
@given(_PLAIN)
def test_a_plain_page_renders_as_jinja2_renders_it(text: str) -> None:
    environment = jinja2.Environment(keep_trailing_newline=True, autoescape=True)
    expected = environment.from_string(text).render().encode("utf-8")
    assert render_page(text) == expected


def test_a_page_with_jinja2_syntax_is_rendered_as_a_template() -> None:
    assert render_page("<p>{{ 1 + 1 }}</p>\r\n{# gone #}") == b"<p>2</p>\n"


def test_a_plain_page_and_a_template_of_the_same_name_in_one_renderer(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {
            "pages/a.html": "<p>plain\r\n",
            "pages/b.html": '{% include "a.html" %}{{ "x" }}',
        },
    )
    config = load_config(site)
    pages = discover_pages(config)
    renderer = Renderer(config, pages)
    rendered = {page.source: renderer.render(page) for page in pages}
    assert rendered == {"a.html": b"<p>plain\n", "b.html": b"<p>plain\nx"}
