"""Warnings at the template line that wrote them: a layout's mistake is reported once, at
``templates/FILE:LINE``, with the pages it affects, in serial, parallel and incremental
builds and in ``pushgen explain``; a page's own mistake at its source line; a line no
template line wrote says it is a line of the output."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from pushgen.build import build_site
from pushgen.build.render import Renderer, discover_pages
from pushgen.build.template_lines import record_render
from pushgen.cli import main
from pushgen.config import load_config
from tests.sites import write_site

pytestmark = pytest.mark.timeout(180)

# The typo is on line 10 of the layout; the rendered pages have it on line 16.
LAYOUT = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>{% block title %}Site{% endblock %}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
</head>
<body>
{% block body %}{% endblock %}
<link rel="stylesheet" href="{{ url_for('static', filename='css/prnt.css') }}">
</body>
</html>
"""

PAGE = """{% extends "base.html" %}
{% block body %}
<p>NAME</p>
<p>a</p>
<p>b</p>
<p>c</p>
<p>d</p>
{% endblock %}
"""

NAMES = ("404", "about", "blog", "contact", "faq", "index")
MISSING = "stylesheet /static/css/prnt.css is not in the output (missing file static/css/prnt.css)"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    files: dict[str, str | bytes] = {
        "templates/base.html": LAYOUT,
        "static/css/site.css": "body { color: black }\n",
    }
    files.update({f"pages/{name}.html": PAGE.replace("NAME", name) for name in NAMES})
    return write_site(tmp_path / "site", files)


LAYOUT_WARNING = (
    f"templates/base.html:10: warning: {MISSING} (in 6 pages: pages/404.html,"
    " pages/about.html, pages/blog.html, ...)"
)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_layout_typo_is_one_warning_at_the_layout_line(site: Path, jobs: int) -> None:
    result = build_site(load_config(site), jobs=jobs)
    assert [str(d) for d in result.diagnostics] == [LAYOUT_WARNING]
    assert "1 warning," in result.summary()


def test_an_incremental_rebuild_reports_it_the_same_way(site: Path) -> None:
    build_site(load_config(site), jobs=1)
    (site / "pages/about.html").write_text(PAGE.replace("NAME", "About us"))
    again = build_site(load_config(site), jobs=1)
    assert again.rendered == 1
    assert [str(d) for d in again.diagnostics] == [LAYOUT_WARNING]


def test_the_cli_prints_it_once(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(site), "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert LAYOUT_WARNING in err
    assert "6 routes, 1 warning, 0 errors" in err


def test_a_pages_own_reference_is_at_its_source_line(tmp_path: Path) -> None:
    site = write_site(
        tmp_path / "site",
        {
            "templates/base.html": LAYOUT.replace("prnt.css", "site.css"),
            "pages/index.html": PAGE.replace("<p>c</p>", '<img src="/static/nope.png">'),
            "static/css/site.css": "body { color: black }\n",
        },
    )
    result = build_site(load_config(site), jobs=1)
    # Line 6 of the page's file (line 14 of its output).
    assert [(d.file, d.line) for d in result.diagnostics] == [("pages/index.html", 6)]
    assert "in 1 page" not in str(result.diagnostics[0])


def test_a_line_no_template_line_wrote_says_it_is_the_outputs(tmp_path: Path) -> None:
    site = write_site(
        tmp_path / "site",
        {
            "pushgen.yaml": "context:\n  extra: \"<p>\\n<img src='/static/nope.png'>\"\n",
            "pages/index.html": "<!doctype html>\n<title>x</title>\n{{ extra | safe }}\n",
        },
    )
    result = build_site(load_config(site), jobs=1)
    assert [str(d) for d in result.diagnostics] == [
        "pages/index.html: warning: image /static/nope.png is not in the output (missing file"
        " static/nope.png) (in the output of pages/index.html at line 4)"
    ]


def test_explain_shows_the_layout_line_in_the_chain_and_the_warning(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(site), "-j", "1"]) == 0
    capsys.readouterr()
    assert main(["explain", "/about.html", "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert "via templates/base.html:6 -> /static/css/site.css" in out
    assert f"! templates/base.html:10: warning: {MISSING}" in out
    assert "pages/about.html:" not in out


def test_record_render_maps_blocks_includes_and_text(tmp_path: Path) -> None:
    site = write_site(
        tmp_path / "site",
        {
            "templates/base.html": "<a>\n{% block b %}{% endblock %}\n<z>\n"
            '{% include "part.html" %}\n<end>\n',
            "templates/part.html": "\n\n<part1>\n<part2>\n",
            "pages/index.html": '{% extends "base.html" %}{% block b %}<b1>\n<b2>{% endblock %}\n',
        },
    )
    config = load_config(site)
    pages = discover_pages(config)
    renderer = Renderer(config, pages)
    origins = renderer.origins(pages[0])
    assert origins is not None
    assert origins.text == renderer.render(pages[0]).data.decode()
    lines = origins.text.split("\n")
    where = {
        lines[n - 1]: (renderer.display(origin.file), origin.line)
        for n in range(1, len(lines))
        if (origin := origins.origin(n)) is not None and lines[n - 1]
    }
    assert where == {
        "<a>": ("templates/base.html", 1),
        "<b1>": ("pages/index.html", 1),
        "<b2>": ("pages/index.html", 2),
        "<z>": ("templates/base.html", 3),
        "<part1>": ("templates/part.html", 3),
        "<part2>": ("templates/part.html", 4),
        "<end>": ("templates/base.html", 5),
    }


def test_record_render_renders_what_render_does() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"t": "{% for i in n %}{{ i }}\n{% endfor %}"})
    )
    template = env.get_template("t")
    assert record_render(template, {"n": [1, 2]}).text == template.render(n=[1, 2])


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_scanner_warning_in_a_layout_is_placed_by_the_renderer_that_rendered_it(
    tmp_path: Path, jobs: int
) -> None:
    layout = LAYOUT.replace(
        "</head>",
        '<link rel="preload" as="font" href="/static/f.woff2" type="font/woff2">\n</head>',
    ).replace("prnt.css", "site.css")
    files: dict[str, str | bytes] = {
        "templates/base.html": layout,
        "static/css/site.css": "body { color: black }\n",
        "static/f.woff2": b"wOF2",
    }
    files.update({f"pages/{name}.html": PAGE.replace("NAME", name) for name in NAMES})
    site = write_site(tmp_path / "site", files)
    result = build_site(load_config(site), jobs=jobs)
    assert [(d.file, d.line) for d in result.diagnostics] == [("templates/base.html", 7)]
    assert result.diagnostics[0].message.startswith(
        "<link rel=preload as=font> without crossorigin"
    )
    assert result.diagnostics[0].message.endswith(
        "(in 6 pages: pages/404.html, pages/about.html, pages/blog.html, ...)"
    )
