"""What the build does with what rendering finds: undefined variables as located warnings in
serial, parallel and incremental builds (errors under ``--strict``), plain pages copied byte
for byte and scanned, and page names the build must refuse (a clash with ``static/``, a
backslash or a control character)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.cli import main
from pushgen.config import load_config
from pushgen.errors import BuildError, ConfigError, Diagnostic
from tests.sites import write_site

pytestmark = pytest.mark.timeout(180)

LAYOUT = (
    '<!doctype html><link rel="stylesheet" href="/static/css/site.css">\n'
    "<title>{{ title }}</title>\n"
    "{% block body %}{% endblock %}\n"
)


def undefined_warnings(diagnostics: list[Diagnostic]) -> list[str]:
    return [str(d) for d in diagnostics if "undefined" in d.message]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(
        tmp_path / "site",
        {
            "templates/base.html": LAYOUT,
            "pages/index.html": '{% extends "base.html" %}{% block body %}\n'
            "<h1>{{ heading }}</h1>{% endblock %}\n",
            "pages/about.html": '{% set title = "About" %}{% extends "base.html" %}\n',
            "static/css/site.css": "body { color: black }\n",
        },
    )


def test_undefined_variables_are_located_warnings_and_the_build_goes_on(site: Path) -> None:
    result = build_site(load_config(site), jobs=1)
    assert undefined_warnings(result.diagnostics) == [
        "templates/base.html:2: warning: 'title' is undefined, printed as empty text: define it"
        " (in pushgen.yaml's context:, or with {% set %}), or write title | default('') where"
        " it may be missing (in 1 page: pages/index.html)",
        "pages/index.html:2: warning: 'heading' is undefined, printed as empty text: define it"
        " (in pushgen.yaml's context:, or with {% set %}), or write heading | default('') where"
        " it may be missing",
    ]
    assert (site / "_site" / "about.html").read_text().count("<title>About</title>") == 1


def test_undefined_variables_are_errors_under_strict(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(site), "--strict"]) == 1
    err = capsys.readouterr().err
    assert "pages/index.html:2: error: 'heading' is undefined" in err
    assert "Traceback" not in err
    assert not (site / "_site").exists()
    (site / "pushgen.yaml").write_text("context: {title: T, heading: H}\n")
    assert main(["build", str(site), "--strict"]) == 0


def test_undefined_variables_are_reported_by_parallel_builds(site: Path) -> None:
    for i in range(210):  # enough pages for -j2 to start two workers
        (site / "pages" / f"p{i:03d}.html").write_text(
            f'{{% set title = "{i}" %}}{{% extends "base.html" %}}\n'
            f"{{% block body %}}\n\n{{{{ missing_{i % 3} }}}}{{% endblock %}}\n"
        )
    result = build_site(load_config(site), jobs=2)
    warnings = undefined_warnings(result.diagnostics)
    assert [w.split(" is undefined")[0] for w in warnings] == [
        "templates/base.html:2: warning: 'title'",
        "pages/index.html:2: warning: 'heading'",
        "pages/p000.html:4: warning: 'missing_0'",
        "pages/p001.html:4: warning: 'missing_1'",
        *(f"pages/p{i:03d}.html:4: warning: 'missing_{i % 3}'" for i in range(2, 210)),
    ]


def test_undefined_variables_are_reported_again_by_incremental_builds(site: Path) -> None:
    first = build_site(load_config(site), jobs=1)
    (site / "pages" / "about.html").write_text('{% set title = "Us" %}{% extends "base.html" %}\n')
    second = build_site(load_config(site), jobs=1)
    assert second.rendered == 1  # index.html came from the saved state
    assert undefined_warnings(second.diagnostics) == undefined_warnings(first.diagnostics)
    assert len(undefined_warnings(first.diagnostics)) == 2
    with pytest.raises(BuildError) as info:
        build_site(load_config(site), jobs=1, strict=True)
    assert "pages/index.html:2: error: 'heading' is undefined" in str(info.value)


# --- plain pages ------------------------------------------------------------------

SPHINX_LIKE = (
    b'<!doctype html><meta charset="utf-8">\n'
    b'<link rel="stylesheet" href="/static/css/site.css">\r\n'
    b"<p>Print it with <code>{{ version }}</code>, loop with <code>{% for x in xs %}</code>,\n"
    b"and comment with <code>{# this #}</code>; a stray <code>{% endblock</code> too.</p>\n"
)


@pytest.mark.parametrize("marker", ["[guide/]", "[guide]", "['guide/*.html']", "['**/t*.html']"])
def test_a_plain_page_is_copied_byte_for_byte_and_scanned(site: Path, marker: str) -> None:
    write_site(
        site,
        {"pushgen.yaml": f"plain: {marker}\n", "pages/guide/templates.html": SPHINX_LIKE},
    )
    result = build_site(load_config(site), jobs=1)
    assert (site / "_site" / "guide" / "templates.html").read_bytes() == SPHINX_LIKE
    assert [a.path for a in result.manifest.routes["/guide/templates.html"]] == [
        "/static/css/site.css"
    ]
    assert not [d for d in result.diagnostics if d.file == "pages/guide/templates.html"]


def test_without_plain_the_same_page_is_a_template(site: Path) -> None:
    write_site(site, {"pages/guide/templates.html": SPHINX_LIKE})
    with pytest.raises(BuildError) as info:
        build_site(load_config(site), jobs=1)
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.file, diagnostic.line) == ("pages/guide/templates.html", 4)


def test_marking_a_page_plain_rebuilds_it(site: Path) -> None:
    write_site(site, {"pages/v.html": "<code>{{ version }}</code>\n"})
    build_site(load_config(site), jobs=1)
    assert (site / "_site" / "v.html").read_text() == "<code></code>\n"
    (site / "pushgen.yaml").write_text("plain: [v.html]\n")
    build_site(load_config(site), jobs=1)
    assert (site / "_site" / "v.html").read_text() == "<code>{{ version }}</code>\n"


@pytest.mark.parametrize(
    ("yaml", "line", "column", "message"),
    [
        ("plain: docs/\n", 1, 8, "'plain' must be a list of page globs"),
        ("plain:\n  - docs/\n  - 3\n", 3, 5, "each 'plain' item must be a page path"),
        ("plain: ['/']\n", 1, 9, "each 'plain' item must be a page path"),
        ("plian: [docs/]\n", 1, 1, "did you mean 'plain'?"),
    ],
)
def test_a_bad_plain_setting_is_a_located_config_error(
    site: Path, yaml: str, line: int, column: int, message: str
) -> None:
    (site / "pushgen.yaml").write_text(yaml)
    with pytest.raises(ConfigError) as info:
        load_config(site)
    assert (info.value.line, info.value.column) == (line, column)
    assert message in str(info.value)


# --- page names the build refuses -------------------------------------------------


@pytest.mark.parametrize(
    ("page", "static", "message"),
    [
        (
            "pages/static/css/x.html",
            "static/css/x.html",
            "pages/static/css/x.html: error: this page and static/css/x.html would both be"
            " written to static/css/x.html in the output: rename or move one of them",
        ),
        (
            "pages/static/css/site.css/x.html",
            "static/css/site.css",
            "pages/static/css/site.css/x.html: error: this page needs the folder"
            " static/css/site.css in the output, where the file static/css/site.css goes:"
            " rename or move one of them",
        ),
        (
            "pages/static/css.html",
            "static/css.html/x.css",
            "pages/static/css.html: error: this page and static/css.html would both be"
            " written to static/css.html in the output: rename or move one of them",
        ),
    ],
)
def test_a_page_written_over_a_static_file_is_a_located_error(
    site: Path, page: str, static: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    build_site(load_config(site), jobs=1)
    before = (site / "_site" / "index.html").read_bytes()
    write_site(site, {page: "<p>page</p>\n", static: "x\n"})
    assert main(["build", str(site)]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert (site / "_site" / "index.html").read_bytes() == before


def test_a_page_under_pages_static_that_clashes_with_nothing_builds(site: Path) -> None:
    write_site(site, {"pages/static/docs.html": "<p>doc</p>\n"})
    result = build_site(load_config(site), jobs=1)
    assert "/static/docs.html" in result.manifest.routes


@pytest.mark.parametrize(
    ("name", "shown", "what"),
    [
        ("a\nb.html", "pages/a\\nb.html", "the control character '\\n'"),
        ("a\\b.html", "pages/a\\\\b.html", "a backslash"),
        ("tab\t.html", "pages/tab\\t.html", "the control character '\\t'"),
        ("d\x7fel.html", "pages/d\\x7fel.html", "the control character '\\x7f'"),
        ("c1\x85.html", "pages/c1\\x85.html", "the control character '\\x85'"),
        ("dir\x01/index.html", "pages/dir\\x01/index.html", "the control character '\\x01'"),
    ],
)
def test_a_page_name_no_url_can_reach_is_a_located_error(
    site: Path, name: str, shown: str, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        write_site(site, {f"pages/{name}": "<p>x</p>\n"})
    except OSError:
        pytest.skip("this file system cannot hold that name")
    assert main(["build", str(site)]) == 1
    err = capsys.readouterr().err
    assert f"{shown}: error: the page's name holds {what}, which no URL can reach" in err
    assert "rename the file" in err
    assert "Traceback" not in err
    assert not (site / "_site").exists()
    os.unlink(site / "pages" / name)
    assert main(["build", str(site)]) == 0


def test_a_page_name_that_is_not_utf8_is_a_located_error(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = os.fsencode(site / "pages") + b"/caf\xe9.html"
    try:
        with open(name, "wb") as file:
            file.write(b"<p>x</p>")
    except OSError:
        pytest.skip("this file system cannot hold that name")
    assert main(["build", str(site)]) == 1
    err = capsys.readouterr().err
    assert "pages/caf\\xe9.html: error: the page's name is not UTF-8" in err
    assert "Traceback" not in err


def test_a_page_with_the_plain_marker_is_copied_byte_for_byte(site: Path) -> None:
    write_site(site, {"pages/v.html": "<code>{{ version }}</code>\n"})
    build_site(load_config(site), jobs=1)
    marked = b"<!-- pushgen: plain -->\n" + SPHINX_LIKE
    (site / "pages" / "v.html").write_bytes(marked)
    result = build_site(load_config(site), jobs=1)  # incremental: the page changed
    assert (site / "_site" / "v.html").read_bytes() == marked
    assert [a.path for a in result.manifest.routes["/v.html"]] == ["/static/css/site.css"]


def test_every_control_character_and_the_backslash_are_refused_in_one_report(
    tmp_path: Path,
) -> None:
    # NUL and "/" cannot be in a file name; every other C0 control, DEL and C1 control.
    bad = [chr(c) for c in (*range(1, 0x20), *range(0x7F, 0xA0))] + ["\\"]
    files: dict[str, str | bytes] = {f"pages/a{c}b.html": "x" for c in bad}
    files["pages/fine.html"] = "x"
    try:
        site = write_site(tmp_path, files)
    except OSError:
        pytest.skip("this file system cannot hold such names")
    with pytest.raises(BuildError) as info:
        build_site(load_config(site), jobs=1)
    diagnostics = info.value.diagnostics
    assert len(diagnostics) == len(bad) == 65
    assert all(d.severity == "error" and "rename the file" in d.message for d in diagnostics)
    assert all(str(d).isprintable() for d in diagnostics)  # shown escaped, one line each
