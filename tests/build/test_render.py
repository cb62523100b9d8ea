"""Rendering pages: plain HTML pages skip Jinja2 and come out as Jinja2 would render them;
undefined variables that a page prints are located warnings; pages marked plain are copied."""

from __future__ import annotations

import tempfile
from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgen.build.render import PLAIN_MARKER, Rendered, Renderer, RenderError, discover_pages
from pushgen.config import load_config
from pushgen.errors import PushgenError
from tests.sites import write_site

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
        return Renderer(config, pages).render(pages[0]).data


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
    rendered = {page.source: renderer.render(page).data for page in pages}
    assert rendered == {"a.html": b"<p>plain\n", "b.html": b"<p>plain\nx"}


# --- undefined variables ----------------------------------------------------------


def render_site(
    tmp_path: Path, files: dict[str, str | bytes], source: str = "index.html"
) -> Rendered:
    site = write_site(tmp_path, files)
    config = load_config(site)
    pages = discover_pages(config)
    return Renderer(config, pages).render(next(p for p in pages if p.source == source))


def where(rendered: Rendered) -> list[tuple[str, int, str]]:
    return [(d.file, d.line, d.severity) for d in rendered.diagnostics]


@pytest.mark.parametrize(
    "text",
    [
        "{{ x or 'd' }}",
        "{% if x is defined %}{{ x }}{% endif %}",
        "{{ x | default('d') }}",
        "{{ x | default }}",
        "{% if x %}{{ x }}{% endif %}",
        "{{ x if x is defined else 'd' }}",
        "{% if x is undefined %}none{% endif %}",
        "{% for i in x | default([]) %}{{ i }}{% endfor %}",
        "{{ page.route }}{{ site }}{{ url_for('index') }}",
    ],
)
def test_tested_or_defaulted_undefined_variables_stay_silent(tmp_path: Path, text: str) -> None:
    assert render_site(tmp_path, {"pages/index.html": text}).diagnostics == ()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a\n<p>{{ titel }}</p>\n", 2, "'titel' is undefined, printed as empty text"),
        ("a\n\n{% for i in items %}{{ i }}{% endfor %}\n", 3, "'items' is undefined, looped over"),
        ("{{ page.nope }}\n", 1, "has no attribute 'nope', printed as empty text"),
        ("\n{{ x | upper }}\n", 2, "'x' is undefined"),
        ("\n{{ 'a' ~ x }}\n", 2, "'x' is undefined"),
        ("\n{{ x | join(',') }}\n", 2, "'x' is undefined, looped over"),
    ],
)
def test_an_undefined_variable_printed_or_looped_over_is_a_located_warning(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    rendered = render_site(tmp_path, {"pages/index.html": text})
    [diagnostic] = rendered.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.severity) == (
        "pages/index.html",
        line,
        "warning",
    )
    assert fragment in diagnostic.message
    assert "default(" in diagnostic.message  # says what to do


def test_undefined_variables_are_located_in_the_layout_partial_or_macro_using_them(
    tmp_path: Path,
) -> None:
    rendered = render_site(
        tmp_path,
        {
            "pages/index.html": '{% extends "base.html" %}\n{% block b %}\n{{ one }}{{ one }}\n'
            "{% endblock %}\n",
            "templates/base.html": '<title>{{ title }}</title>\n{% import "m.html" as m %}\n'
            "{% block b %}{% endblock %}\n{{ m.f() }}{% include 'part.html' %}\n",
            "templates/m.html": "{% macro f() %}\n\n<b>{{ inner }}</b>{% endmacro %}\n",
            "templates/part.html": "\n\n\n{% for x in xs %}{% endfor %}\n",
        },
    )
    assert where(rendered) == [
        ("templates/base.html", 1, "warning"),
        ("pages/index.html", 3, "warning"),  # printed twice on that line: said once
        ("templates/m.html", 3, "warning"),
        ("templates/part.html", 4, "warning"),
    ]
    assert rendered.data.startswith(b"<title></title>")  # rendered as Jinja2 does


def test_each_render_returns_only_its_own_diagnostics(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {"pages/a.html": "{{ nope }}", "pages/b.html": "fine {{ 'x' }}", "pages/c.html": "plain"},
    )
    config = load_config(site)
    pages = discover_pages(config)
    renderer = Renderer(config, pages)
    results = [renderer.render(page) for page in pages + pages]
    assert [len(r.diagnostics) for r in results] == [1, 0, 0, 1, 0, 0]


def test_render_errors_are_pushgen_errors() -> None:
    assert issubclass(RenderError, PushgenError)


# --- plain pages ------------------------------------------------------------------


def test_a_page_marked_plain_is_its_own_bytes(tmp_path: Path) -> None:
    text = b"<code>{{ version }}</code>\r\n{% if %}{# x\xff\r"
    rendered = render_site(
        tmp_path,
        {"pushgen.yaml": "plain: [guide/]\n", "pages/guide/index.html": text},
        "guide/index.html",
    )
    assert rendered == Rendered(text)


@pytest.mark.parametrize(
    ("patterns", "plain"),
    [
        ("[docs/]", {"docs/a.html", "docs/deep/b.html"}),
        ("[docs]", {"docs/a.html", "docs/deep/b.html"}),
        ("[docs/*]", {"docs/a.html"}),
        ("['docs/**']", {"docs/a.html", "docs/deep/b.html"}),
        ("['*.html']", {"index.html"}),
        ("['**/b.html', /index.html]", {"docs/deep/b.html", "index.html"}),
        ("[]", set()),
    ],
)
def test_plain_globs_select_pages(tmp_path: Path, patterns: str, plain: set[str]) -> None:
    site = write_site(
        tmp_path,
        {
            "pushgen.yaml": f"plain: {patterns}\n",
            "pages/index.html": "",
            "pages/docs/a.html": "",
            "pages/docs/deep/b.html": "",
        },
    )
    assert {p.source for p in discover_pages(load_config(site)) if p.plain} == plain


@pytest.mark.parametrize(
    "text",
    [
        b"<!-- pushgen: plain -->\n<code>{{ version }}</code>{% endfor %}\r\n",
        b'<!doctype html><meta charset="windows-1252"><!-- pushgen: plain -->{{ \xe9 }}',
        b"<!-- pushgen: plain -->plain text, no Jinja2 markers\r\n",
    ],
)
def test_a_page_with_the_plain_marker_is_its_own_bytes(tmp_path: Path, text: bytes) -> None:
    assert PLAIN_MARKER in text
    assert render_site(tmp_path, {"pages/index.html": text}) == Rendered(text)


def test_the_plain_marker_only_counts_in_a_page_and_near_its_top(tmp_path: Path) -> None:
    rendered = render_site(
        tmp_path,
        {
            "pages/index.html": '{% extends "base.html" %}{% block b %}{{ 1 + 1 }}{% endblock %}',
            "pages/late.html": " " * 1024 + "<!-- pushgen: plain -->{{ 1 + 1 }}",
            "templates/base.html": "<!-- pushgen: plain -->{% block b %}{% endblock %}",
        },
    )
    assert rendered.data == b"<!-- pushgen: plain -->2"
    late = render_site(tmp_path, {}, "late.html")
    assert late.data.endswith(b"<!-- pushgen: plain -->2")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_a_plain_page_is_its_own_bytes_whatever_they_are(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(Path(tmp), {"pushgen.yaml": "plain: [a.html]\n", "pages/a.html": data})
        config = load_config(site)
        pages = discover_pages(config)
        assert Renderer(config, pages).render(pages[0]) == Rendered(data)


def test_two_undefined_names_on_one_line_are_both_reported_once(tmp_path: Path) -> None:
    text = "\n{% for i in range(1000) %}{{ a }}{{ b }}{% endfor %}{% for x in a %}{% endfor %}\n"
    rendered = render_site(tmp_path, {"pages/index.html": text})
    assert [d.message.split(",")[:2] for d in rendered.diagnostics] == [
        ["'a' is undefined", " printed as empty text: define it (in pushgen.yaml's context:"],
        ["'b' is undefined", " printed as empty text: define it (in pushgen.yaml's context:"],
        [
            "'a' is undefined",
            " looped over as an empty list: define it (in pushgen.yaml's context:",
        ],
    ]
    assert {d.line for d in rendered.diagnostics} == {2}
