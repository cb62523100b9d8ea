"""``pushgen init``: a working starter site (package data), or the pushgen.yaml of a Quart
app; never over a file that exists. End to end: init, build, serve, a real client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pushgen.cli import main
from pushgen.config import find_quart_app
from pushgen.init import InitConflict, init_site, starter_files
from pushgen.manifest import load_manifest
from tests.clients import nghttp, run_pushgen

_QUART_APP = """\
from quart import Quart, render_template_string

import pushgen.quart

app = pushgen.quart.init_app(
    Quart(__name__), manifest="push-manifest.yaml", manifest_required=False
)


@app.get("/")
async def index():
    return await render_template_string(
        '<link rel="stylesheet" href="/static/site.css"><h1>hello</h1>'
    )
"""


def _write_app(folder: Path) -> Path:
    folder.mkdir()
    (folder / "app.py").write_text(_QUART_APP)
    (folder / "static").mkdir()
    (folder / "static" / "site.css").write_text("h1 { color: teal }\n")
    return folder


def test_init_then_build_pushes_the_stylesheet_its_font_and_the_module_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "new" / "site"  # made, parents too
    assert main(["init", str(site)]) == 0
    assert "next: cd " in capsys.readouterr().err
    assert (site / "pages" / "index.html").is_file() and (site / "templates").is_dir()
    assert main(["build", str(site)]) == 0
    assert "0 warnings, 0 errors" in capsys.readouterr().err
    entries = load_manifest(site / "push-manifest.yaml").routes["/"]
    assert [(a.path, a.destination, a.push) for a in entries] == [
        ("/static/css/site.css", "style", True),
        ("/static/fonts/dejavu-sans.woff2", "font", True),
        ("/static/js/app.js", "script", True),
        ("/static/js/date.js", "script", True),
    ]
    assert all(a.module for a in entries[2:])


def test_the_starter_site_serves_its_pushes_over_http2(tmp_path: Path, start_server: Any) -> None:
    site = tmp_path / "site"
    init_site(site)
    server = start_server(site, early_hints_delay=0)  # builds it: no output yet
    result = nghttp(server.url)
    assert result.returncode == 0, result.output
    pushed = [frame.header(":path") for frame in result.received("PUSH_PROMISE")]
    assert pushed == [
        "/static/css/site.css",
        "/static/fonts/dejavu-sans.woff2",
        "/static/js/app.js",
        "/static/js/date.js",
    ]


def test_init_never_overwrites_and_names_every_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site"
    (site / "pages").mkdir(parents=True)
    (site / "pages" / "index.html").write_text("mine\n")
    (site / "pushgen.yaml").write_text("context: {}\n")
    assert main(["init", "site"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: site/pages/index.html, site/pushgen.yaml already exist; `pushgen init` never"
        " overwrites a file, so nothing was written in site"
    ), err
    assert (site / "pages" / "index.html").read_text() == "mine\n"
    assert sorted(p.name for p in site.rglob("*")) == ["index.html", "pages", "pushgen.yaml"]
    with pytest.raises(InitConflict) as caught:
        init_site(site)
    assert caught.value.existing == (site / "pages" / "index.html", site / "pushgen.yaml")


def test_init_refuses_a_file_and_a_starter_file_list_that_is_the_package_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f").write_text("x")
    assert main(["init", str(tmp_path / "f")]) == 1
    assert "is a file, not a folder for a site" in capsys.readouterr().err
    assert sorted(starter_files()) == [
        "pages/index.html",
        "pushgen.yaml",
        "static/css/site.css",
        "static/fonts/LICENSE-DejaVu.txt",
        "static/fonts/dejavu-sans.woff2",
        "static/js/app.js",
        "static/js/date.js",
        "templates/base.html",
    ]


def test_init_beside_a_quart_app_records_it_and_build_renders_it(tmp_path: Path) -> None:
    folder = _write_app(tmp_path / "app")
    done = run_pushgen(folder, "init")
    assert done.returncode == 0, done.stderr
    assert "the Quart app app:app" in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["app.py", "pushgen.yaml", "static"]
    assert "app: app:app\n" in (folder / "pushgen.yaml").read_text()
    done = run_pushgen(folder, "build")
    assert done.returncode == 0, done.stderr
    routes = load_manifest(folder / "push-manifest.yaml").routes
    assert [a.path for a in routes["/"]] == ["/static/site.css"]
    assert not (folder / "_site").exists()


def test_init_app_option_and_detection(tmp_path: Path) -> None:
    result = init_site(tmp_path / "x", app="blog:create_app()")
    assert result.kind == "app" and result.written == (tmp_path / "x" / "pushgen.yaml",)
    assert "app: blog:create_app()\n" in (tmp_path / "x" / "pushgen.yaml").read_text()
    cases = {
        "from quart import Quart\napp = Quart(__name__)\n": "app:app",
        "import quart\nweb = quart.Quart(__name__)\n": "app:web",
        "from quart import Quart\ndef create_app():\n    return Quart(__name__)\n": (
            "app:create_app()"
        ),
        "def create_app():\n    return None\n": None,
        "def broken(:\n": None,
    }
    for source, expected in cases.items():
        (tmp_path / "app.py").write_text(source)
        assert find_quart_app(tmp_path) == expected, source
