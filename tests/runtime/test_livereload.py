"""Live reload under ``pushgen serve --watch`` (runtime/livereload.py; issue 28, item 2).

Real ``pushgen serve`` processes, real headless Chromium and curl: an edit of a
page's source shows in the open page without a navigation by the test; a CSS
edit swaps the stylesheet without a reload; a serve without ``--watch`` injects
nothing; the event stream ends cleanly when the server stops.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pushgen.build.watch import changed_files, output_digests
from pushgen.cli import main
from pushgen.runtime.certs import DevCertificate
from pushgen.runtime.livereload import LIVERELOAD_PATH, SCRIPT, Change
from tests.browser_harness import chromium, pushgen_serve, trust_args
from tests.clients import ServerProcess

BASE = (
    '<!doctype html><html><head><title>Live</title><link rel="stylesheet" '
    "href=\"{{ url_for('static', filename='css/site.css') }}\"></head>"
    "<body>{% block body %}{% endblock %}</body></html>\n"
)
PAGE = '{% extends "base.html" %}{% block body %}<h1>{}</h1>{% endblock %}\n'
# A static HTML file over 256 bytes: the build precompresses it (.br, .gz beside it).
STATIC_HTML = "<!doctype html><p>Long enough to be worth compressing.</p>" * 8 + "\n"
CSS = "h1 {{ color: {} }}\n"
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A built one-page site whose page links one stylesheet."""
    root = tmp_path / "site"
    for name, text in {
        "pushgen.yaml": "context:\n  title: Live\n",
        "templates/base.html": BASE,
        "pages/index.html": PAGE.replace("{}", "First version"),
        "static/css/site.css": CSS.format("rgb(0, 0, 255)"),
        "static/extra.html": STATIC_HTML,
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    assert main(["build", str(root)]) == 0
    return root


@pytest.fixture
def watch_server(site: Path, tmp_path: Path, cache_dir: Path) -> Iterator[ServerProcess]:
    server = pushgen_serve(
        site, tmp_path / "serve.log", {"XDG_CACHE_HOME": str(cache_dir)}, ("--watch",)
    )
    try:
        yield server
    finally:
        server.stop()


def _curl(url: str, *extra: str) -> tuple[int, bytes]:
    """GET ``url`` over HTTP/2 with curl: the status and the body."""
    done = subprocess.run(
        ["curl", "-sk", "--http2", "--max-time", "20", "-w", "\n%{http_code}", *extra, url],
        capture_output=True,
        check=False,
    )
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), body


def _edit_until(path: Path, text: str, shown: Callable[[], bool]) -> None:
    """Write ``text`` to ``path`` until ``shown()`` (bounded: the watcher may not be up yet)."""
    for attempt in range(4):
        path.write_text(text + "\n" * attempt)  # a different content each time: a new build
        if shown():
            return
    raise AssertionError(f"the edit of {path} never showed in the page")


def _waits(page: Any, expression: str) -> Callable[[], bool]:
    def shown() -> bool:
        try:
            page.wait_for_function(expression, timeout=10_000)
        except Exception:  # playwright's TimeoutError: try the edit again
            return False
        return True

    return shown


def test_change_says_whether_only_stylesheets_changed() -> None:
    assert Change(("css/site.css", "css/print.css")).css_only
    assert not Change(("css/site.css", "index.html")).css_only
    assert not Change(()).css_only


def test_changed_files_are_those_whose_content_changed(tmp_path: Path) -> None:
    (tmp_path / "same.css").write_text("a {}")
    (tmp_path / "edited.html").write_text("one")
    (tmp_path / "removed.js").write_text("x")
    before = output_digests(tmp_path)
    (tmp_path / "same.css").unlink()
    (tmp_path / "same.css").write_text("a {}")  # rewritten, same content
    (tmp_path / "edited.html").write_text("two")
    (tmp_path / "removed.js").unlink()
    (tmp_path / "added.txt").write_text("new")
    after = output_digests(tmp_path, before)
    assert changed_files(before, after) == ("added.txt", "edited.html", "removed.js")


def test_open_page_follows_page_and_css_edits(
    site: Path, watch_server: ServerProcess, dev_cert: DevCertificate
) -> None:
    with chromium(trust_args(dev_cert.certfile)) as browser:
        page = browser.new_page()
        navigations: list[str] = []
        page.goto(f"https://localhost:{watch_server.port}/")
        page.wait_for_function("document.querySelector('h1').textContent === 'First version'")
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
        page.evaluate("window.pushgenMarker = 1")

        edited = PAGE.replace("{}", "Second version")
        text = "document.querySelector('h1').textContent === 'Second version'"
        _edit_until(site / "pages" / "index.html", edited, _waits(page, text))
        # The page reloaded itself (the marker is gone); the test navigated nowhere.
        assert page.evaluate("window.pushgenMarker") is None
        assert navigations and all(url.startswith(navigations[0]) for url in navigations)

        page.evaluate("window.pushgenMarker = 2")
        color = "getComputedStyle(document.querySelector('h1')).color === 'rgb(255, 0, 0)'"
        _edit_until(site / "static" / "css" / "site.css", CSS.format("red"), _waits(page, color))
        assert page.evaluate("window.pushgenMarker") == 2  # swapped, not reloaded
        href = page.evaluate("document.querySelector('link[rel=stylesheet]').href")
        assert "pushgen-reload=" in href
    # The files on disk never carry the script.
    assert b"EventSource" not in (site / "_site" / "index.html").read_bytes()
    assert "Traceback" not in watch_server.log()


@needs_curl
def test_watch_serve_injects_only_into_html(site: Path, watch_server: ServerProcess) -> None:
    url = f"https://127.0.0.1:{watch_server.port}/"
    status, body = _curl(url, "--compressed")
    assert status == 200 and body.endswith(SCRIPT)
    assert body[: -len(SCRIPT)] == (site / "_site" / "index.html").read_bytes()
    # An HTML file with a .br sibling goes out uncompressed, with the script.
    assert (site / "_site" / "static" / "extra.html.br").is_file()
    status, body = _curl(url + "static/extra.html", "--compressed")
    assert (status, body) == (200, STATIC_HTML.encode() + SCRIPT)
    status, body = _curl(url + "static/css/site.css")
    assert (status, body) == (200, (site / "static" / "css" / "site.css").read_bytes())


@needs_curl
def test_serve_without_watch_has_no_live_reload(
    site: Path, tmp_path: Path, cache_dir: Path
) -> None:
    server = pushgen_serve(site, tmp_path / "serve.log", {"XDG_CACHE_HOME": str(cache_dir)})
    try:
        url = f"https://127.0.0.1:{server.port}/"
        status, body = _curl(url, "--compressed")
        assert status == 200 and body == (site / "_site" / "index.html").read_bytes()
        assert b"livereload" not in body and b"EventSource" not in body
        assert _curl(url + LIVERELOAD_PATH.lstrip("/"))[0] == 404
    finally:
        server.stop()


@needs_curl
def test_event_stream_ends_cleanly_when_the_server_stops(
    watch_server: ServerProcess, tmp_path: Path
) -> None:
    out = tmp_path / "events.txt"
    with out.open("wb") as sink:
        stream = subprocess.Popen(
            ["curl", "-skN", "--http2", f"https://127.0.0.1:{watch_server.port}{LIVERELOAD_PATH}"],
            stdout=sink,
        )
    try:
        for _ in range(200):  # bounded: until the stream has started
            if b"retry:" in out.read_bytes() or stream.poll() is not None:
                break
            time.sleep(0.05)
        assert b"retry:" in out.read_bytes()
        assert watch_server.stop() == 130
        # The server ended the stream itself (END_STREAM): curl exits 0, not on a reset.
        assert stream.wait(timeout=15) == 0
    finally:
        if stream.poll() is None:
            stream.kill()
            stream.wait()
    assert "pushgen: stopped" in watch_server.log()
