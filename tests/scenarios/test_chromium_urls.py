"""What Chromium requests for hard URLs and module imports, against what pushgen writes.

A small site whose pages name files with characters URL code gets wrong (``[``,
``|``, ``'`` in a query, an empty ``?``, non-ASCII, spaces) and ES modules with
each form of import attributes is built with ``pushgen build`` and served by a
plain HTTP/1.1 server on 127.0.0.1 that records each request target as it arrives
(from the raw request line: ``http.server``'s own ``path`` folds a leading ``//``). Headless Chromium (Debian's, through
Playwright) opens every page. The request paths it sends must equal the manifest's
paths for the route byte for byte (issue 12, items 2 and 4): a hint for a path the
browser spells differently is a second download and a "preloaded but not used"
warning.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.manifest import Manifest, load_manifest
from pushgen.scan.html import scan_html
from pushgen.urls import document_url, url_path_to_relpath
from tests.browser_harness import CHROMIUM
from tests.browser_harness import chromium as open_browser
from tests.sites import write_site

playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]


_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
    ".png": "image/png",
}
# A 1x1 PNG, so an <img> is a real image load.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

HARD = """<!doctype html><html><head><meta charset="utf-8"><title>hard</title>
<link rel="stylesheet" href="static/a[1].css">
<link rel="stylesheet" href="static/it's.css?x='1'">
<link rel="stylesheet" href="static/x.css?">
<link rel="stylesheet" href="static/sp ace.css">
<script src="static/b|c.js"></script>
</head><body><img src="static/caf\u00e9 \u65e5.png" alt=""></body></html>
"""
MODULES = """<!doctype html><html><head><meta charset="utf-8"><title>{name}</title>
<script type="module" src="static/{name}.js"></script></head><body></body></html>
"""
FILES: dict[str, str | bytes] = {
    "pages/hard.html": HARD,
    "static/a[1].css": "body { color: black }\n",
    "static/it's.css": "p { color: black }\n",
    "static/x.css": "i { color: black }\n",
    "static/sp ace.css": "b { color: black }\n",
    "static/b|c.js": "window.bc = 1;\n",
    "static/caf\u00e9 \u65e5.png": _PNG,
    # import attributes: `with` is the standard form; `assert` is the old one, a
    # SyntaxError in current Chromium, so the module and its imports never load.
    "pages/with.html": MODULES.format(name="with"),
    "static/with.js": 'import d from "./d.json" with { type: "json" };\n'
    'import s from "./s.css" with { type: "css" };\nwindow.d = [d, s];\n',
    "static/d.json": '{"a": 1}\n',
    "static/s.css": "u { color: black }\n",
    "pages/assert.html": MODULES.format(name="assert"),
    "static/assert.js": 'import e from "./e.json" assert { type: "json" };\nwindow.e = e;\n',
    "static/e.json": '{"e": 1}\n',
    # "/.//w.js" is "//w.js" to the URL Standard and to Chromium: no file of the site.
    "pages/dots.html": MODULES.format(name="dots"),
    "static/dots.js": 'import "/.//static/w.js";\n',
    "static/w.js": "window.w = 1;\n",
}


@dataclass
class Recorder:
    root: Path
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            target = self.requestline.split(" ")[1]
            with recorder.lock:
                recorder.paths.append(target)
            if target == "/favicon.ico":  # asked for by every page: not an error
                self.send_response(204)
                self.end_headers()
                return
            rel = url_path_to_relpath(target)
            file = None if rel is None else recorder.root / (rel or "index.html")
            if file is None or not file.is_file():
                self.send_error(404)
                return
            body = file.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", _TYPES.get(file.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@dataclass
class Served:
    manifest: Manifest
    base: str
    recorder: Recorder


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("hard-urls")
    site = write_site(root / "site", FILES)
    out = root / "out"
    manifest = root / "push-manifest.yaml"
    assert main(["build", str(site), "-o", str(out), "-m", str(manifest)]) == 0
    recorder = Recorder(out)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(load_manifest(manifest), f"http://127.0.0.1:{server.server_port}", recorder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's Chromium with the flags every test uses (tests/browser_harness.py)."""
    with open_browser() as browser:
        yield browser


def requested(served: Served, chromium: object, route: str) -> tuple[list[str], list[str]]:
    """The subresource paths Chromium requests for ``route``, and its console errors."""
    context = chromium.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    with served.recorder.lock:
        served.recorder.paths.clear()
    try:
        page.goto(served.base + route, wait_until="networkidle", timeout=60_000)
    finally:
        context.close()
    with served.recorder.lock:
        paths = [p for p in served.recorder.paths if p not in (route, "/favicon.ico")]
    return paths, errors


def manifest_paths(served: Served, route: str) -> list[str]:
    return [asset.path for asset in served.manifest.routes[route]]


def test_chromium_requests_the_manifest_paths_byte_for_byte(
    served: Served, chromium: object
) -> None:
    paths, errors = requested(served, chromium, "/hard.html")
    assert not errors
    assert sorted(paths) == sorted(manifest_paths(served, "/hard.html"))
    # The names of the brief, spelled as Chromium sends them.
    assert {
        "/static/a[1].css",
        "/static/b%7Cc.js",  # Chromium encodes '|' in a path; the URL Standard does not
        "/static/it's.css?x=%271%27",
        "/static/x.css?",
        "/static/sp%20ace.css",
        "/static/caf%C3%A9%20%E6%97%A5.png",
    } == set(paths)


def test_chromium_follows_import_attributes_written_with(served: Served, chromium: object) -> None:
    paths, errors = requested(served, chromium, "/with.html")
    assert not errors
    assert sorted(paths) == ["/static/d.json", "/static/s.css", "/static/with.js"]
    assert sorted(manifest_paths(served, "/with.html")) == sorted(paths)


def test_chromium_rejects_import_assertions_and_pushgen_does_not_follow_them(
    served: Served, chromium: object
) -> None:
    paths, errors = requested(served, chromium, "/assert.html")
    # The module itself is fetched, fails to parse, and its import never is.
    assert paths == ["/static/assert.js"]
    assert any("SyntaxError" in e or "Unexpected identifier" in e for e in errors), errors
    assert manifest_paths(served, "/assert.html") == ["/static/assert.js"]


def test_chromium_requests_an_empty_segment_after_the_root_as_is(
    served: Served, chromium: object
) -> None:
    paths, errors = requested(served, chromium, "/dots.html")
    assert sorted(paths) == ["//static/w.js", "/static/dots.js"]
    assert errors  # the 404 of //static/w.js
    # pushgen neither hints "//static/w.js" (a Link <//static/w.js> names a host)
    # nor "/static/w.js" (which Chromium does not request).
    assert manifest_paths(served, "/dots.html") == ["/static/dots.js"]


# Every printable ASCII character but the URL's own delimiters and alphanumerics,
# plus non-ASCII, in a path and in a query, and dot segments next to empty ones.
_CHARS = [chr(c) for c in range(0x20, 0x7F) if not chr(c).isalnum() and chr(c) not in "#?/.%"]
_REFS = [f"/p{i}/a{c}b?q{c}r" for i, c in enumerate([*_CHARS, "\u00e9", "\u65e5"])] + [
    "/a/.//d1.png", "/a/b/..//d2.png", "/a/%2e/d3.png", "/a/%2E%2e/d4.png", "d5.png?",
    "/d6.png?#f", "/d7.png?a=%zz", "/%zz/d8.png", "/d9.png?a=%41", "/d%41.png",
]  # fmt: skip


def test_pushgen_resolves_every_character_as_chromium_requests_it(
    served: Served, chromium: object
) -> None:
    page = '<!doctype html><meta charset="utf-8"><body>' + "".join(
        f'<img src="{escape(ref)}">' for ref in _REFS
    )
    (served.recorder.root / "chars.html").write_text(page, encoding="utf-8")
    paths, _ = requested(served, chromium, "/chars.html")  # 404s: only the paths count
    scan = scan_html(page.encode(), document_url("/chars.html"), filename="chars.html")
    assert sorted(r.path for r in scan.references) == sorted(paths)
    assert len(paths) == len(_REFS)
