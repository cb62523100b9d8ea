"""Every message once, at the right place, in words: a layout's syntax error is one error
with the pages it stops, a mistyped ``url_for`` endpoint or push destination gets a
did-you-mean, counts agree with their nouns, and a command that needs a manifest nobody
wrote yet says which command writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.cli import main
from tests.output import problem_lines
from tests.sites import write_site

pytestmark = pytest.mark.timeout(180)

LAYOUT = """<!doctype html>
<html>
<head>{% if %}
<title>x</title>
</head>
<body>{% block body %}{% endblock %}</body>
</html>
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI; standard error without its phase lines (tests/output.py)."""
    code = main(argv)
    out, err = capsys.readouterr()
    problems = problem_lines(err)
    return code, out, "\n".join(problems) + "\n" if problems else ""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_syntax_error_in_a_layout_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], jobs: str
) -> None:
    pages = {
        f"pages/{n}.html": '{% extends "base.html" %}{% block body %}x{% endblock %}\n'
        for n in ("a", "b", "c", "d")
    }
    site = write_site(tmp_path / "site", {"templates/base.html": LAYOUT, **pages})
    code, _, err = run(["build", str(site), "-j", jobs], capsys)
    assert code == 1
    assert err.splitlines() == [
        "templates/base.html:3: error: Expected an expression, got 'end of statement block'"
        " (in 4 pages: pages/a.html, pages/b.html, pages/c.html, ...)",
        "build failed: 1 error; previous output left as it was",
    ]


def test_a_mistyped_endpoint_gets_a_did_you_mean_and_no_exception_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(
        tmp_path / "site",
        {
            "pages/blog/first.html": "<p>first</p>\n",
            "pages/index.html": "<p>\n<a href=\"{{ url_for('blog.frist') }}\">first</a>\n",
        },
    )
    code, _, err = run(["build", str(site)], capsys)
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(
        "pages/index.html:2: error: url_for: no page or endpoint named 'blog.frist';"
        " did you mean 'blog.first'?"
    )
    assert "Error" not in err
    assert err.splitlines()[-1] == "build failed: 1 error; previous output left as it was"


@pytest.mark.parametrize(
    ("yaml", "where"),
    [
        ("push:\n  destinations: [style, fnt]\n", "2:25"),
        ("push:\n  destinations:\n    - style\n    - fnt\n", "4:7"),
    ],
)
def test_a_mistyped_push_destination_gets_a_did_you_mean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml: str, where: str
) -> None:
    site = write_site(tmp_path / "site", {"pushgen.yaml": yaml, "pages/index.html": "<p>x</p>\n"})
    code, _, err = run(["build", str(site)], capsys)
    assert code == 1
    assert err == (
        f"error: {site}/pushgen.yaml:{where}: 'fnt' is not a Fetch destination;"
        " did you mean 'font'?\n"
    )


@pytest.mark.parametrize(
    "argv",
    [["explain", "/"], ["check"], ["export", "-f", "json"]],
    ids=["explain", "check", "export"],
)
def test_a_site_without_a_manifest_yet_names_pushgen_build(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    write_site(tmp_path, {"pages/index.html": "<p>x</p>\n"})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 1
    assert (out, err) == (
        "",
        "error: no manifest at push-manifest.yaml yet: `pushgen build` writes it\n",
    )


def test_an_app_without_a_manifest_yet_names_build_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_site(tmp_path, {"pushgen.yaml": "app: app:app\n"})
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["explain", "/", "-m", "m.yaml"], capsys)
    assert code == 1
    assert (
        err
        == "error: no manifest at m.yaml yet: `pushgen build --app app:app -m m.yaml` writes it\n"
    )


def test_a_folder_without_a_manifest_yet_names_pushgen_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_site(tmp_path, {"html/index.html": "<p>x</p>\n"})
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["serve", "html", "--folder", "-m", "m.yaml", "--port", "0"], capsys)
    assert code == 1
    assert err == "error: no manifest at m.yaml yet: `pushgen scan html -m m.yaml` writes it\n"
    code, _, err = run(["explain", "/", "-m", "m.yaml"], capsys)
    assert code == 1
    assert err == (
        "error: no manifest at m.yaml yet: it is written by `pushgen build -m m.yaml` for a site"
        " with pages/, `pushgen scan DIR -m m.yaml` for a folder another generator built,"
        " `pushgen build --app MODULE:APP -m m.yaml` for a Quart app\n"
    )
