"""``pushgen init``: a working starter site (package data), or the pushgen.yaml of a Quart
app; never over a file that exists. End to end: init, build, serve, a real client."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from pushgen.cli import main
from pushgen.config import find_quart_app
from pushgen.init import STARTER_GITIGNORE, InitConflict, init_site, starter_files
from pushgen.manifest import load_manifest
from tests.clients import REPO, nghttp, run_pushgen

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


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def _past_the_tick_of(path: Path, probe: Path) -> None:
    """Wait until a file written now has a later mtime than ``path``'s ctime (at most
    a few seconds: the file system's clock ticks every few milliseconds)."""
    changed = path.stat().st_ctime_ns
    for _ in range(5000):
        probe.write_bytes(b"")
        if probe.stat().st_mtime_ns > changed:
            return
        time.sleep(0.001)


def test_the_starters_gitignore_ignores_exactly_what_pushgen_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    ignore = site / ".gitignore"
    assert ignore.read_text(encoding="utf-8") == STARTER_GITIGNORE
    _git(site, "init", "-q", ".")
    # Every file pushgen writes: two builds (the second keeps a spare output), a shard's
    # build (its output, state and partial manifest), the compiled manifest, and a
    # build with fingerprint: true (the fingerprinted files beside the output).
    assert main(["build", str(site), "-q"]) == 0
    page = site / "pages" / "index.html"
    page.write_text(page.read_text(encoding="utf-8") + "<p>more</p>\n", encoding="utf-8")
    assert main(["build", str(site), "-q"]) == 0
    assert main(["build", str(site), "--shard", "1/2", "-q"]) == 0
    assert main(["check", str(site / "push-manifest.yaml"), "--compile"]) == 0
    config = site / "pushgen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "fingerprint: true\n", "utf-8")
    # Edits older than the build's start: one made in the same clock tick is "racy"
    # (pushgen/build/nochange.py) and that build, rightly, saves no quick file. The
    # mtime is set back; the ctime cannot be (utime sets it to now), so wait, a bounded
    # number of ticks, until the file system's clock has passed it.
    earlier = time.time_ns() - 10 * 10**9
    for edited in (config, page):
        os.utime(edited, ns=(earlier, earlier))
    _past_the_tick_of(page, tmp_path / "probe")
    assert main(["build", str(site), "-q"]) == 0
    capsys.readouterr()
    status = _git(site, "status", "--porcelain", "--ignored").splitlines()
    # Not ignored: the sources, and the manifest and its schema (committed: docs/ci.md).
    assert sorted(line for line in status if line.startswith("??")) == [
        "?? .gitignore",
        "?? pages/",
        "?? push-manifest.schema.json",
        "?? push-manifest.yaml",
        "?? pushgen.yaml",
        "?? static/",
        "?? templates/",
    ]
    ignored = sorted(line.removeprefix("!! ") for line in status if line.startswith("!!"))
    spare = [name for name in ignored if name.startswith("._site.spare-")]
    assert len(spare) == 1 and ignored == sorted([
        "._site.fingerprint/", "._site.lock", "._site.shard-1-of-2.lock",
        "._site.shard-1-of-2.state", "._site.shard-1-of-2.state.d/", *spare,
        "._site.state", "._site.state.d/", "._site.state.quick", ".push-manifest.yaml.pgc",
        "_site.shard-1-of-2/",
        "_site/", "push-manifest.shard-1-of-2.yaml",
    ])  # fmt: skip
    # Every line of it ignores something pushgen wrote; the staging folder lives only
    # while a build runs, under the name build/output.py gives it.
    paths = [name.rstrip("/") for name in ignored] + [f"._site.staging-{os.getpid()}"]
    matched = _git(site, "check-ignore", "-v", "--no-index", *paths)
    used = {line.split("\t")[0].split(":", 2)[2] for line in matched.splitlines()}
    patterns = [
        line for line in STARTER_GITIGNORE.splitlines() if line and not line.startswith("#")
    ]
    assert sorted(used) == sorted(patterns)
    # README.md lists the same lines, for a .gitignore init kept.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "```gitignore\n" + "\n".join(patterns) + "\n```\n" in readme


def test_init_keeps_a_gitignore_that_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / ".gitignore").write_text("mine/\n", encoding="utf-8")
    assert main(["init", "site"]) == 0
    err = capsys.readouterr().err
    assert (site / ".gitignore").read_text(encoding="utf-8") == "mine/\n"
    kept = site / ".gitignore"
    assert f"  kept {kept} as it is: pushgen init never overwrites a file" in err
    assert f"wrote {kept}" not in err and f"wrote {site / 'pages' / 'index.html'}" in err
    assert (site / "pages" / "index.html").is_file()
    # A conflict elsewhere still writes nothing, not even beside the kept .gitignore.
    other = tmp_path / "other"
    (other / "pages").mkdir(parents=True)
    (other / "pages" / "index.html").write_text("mine\n", encoding="utf-8")
    with pytest.raises(InitConflict) as caught:
        init_site(other)
    assert caught.value.existing == (other / "pages" / "index.html",)
    assert not (other / ".gitignore").exists()
