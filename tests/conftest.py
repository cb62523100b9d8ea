"""Shared fixtures: a tiny built site with a hand-written manifest, a dev certificate, servers.

``built_site`` is a fresh copy per test (tests may edit it); ``shared_site`` and
``server`` are made once per session for the end-to-end tests that only read.
The :class:`Site` value carries what a test expects: the files by URL path, and
per route the pushed paths and the ``Link`` values, written out by hand here so
the tests do not compute expectations with the code under test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pushgen.runtime.certs import DevCertificate, dev_certificate
from tests.clients import ServerProcess, start_serve

MANIFEST = """\
version: 1
routes:
  /:
    - {path: /static/css/site.css, as: style}
    - {path: /static/fonts/body.woff2, as: font, type: font/woff2, crossorigin: anonymous}
    - {path: /static/js/app.js, as: script, module: true}
    - {path: /static/css/print.css, as: style, media: print, push: false}
    - {path: /static/img/hero.png, as: image, push: false}
    - {path: /static/js/analytics.js, as: script, hint: false}
  /docs/:
    - {path: /static/css/site.css, as: style}
    - {path: "/static/img/caf%C3%A9.svg", as: image}
  /about.html:
    - {path: /static/css/site.css, as: style, push: false}
"""

PUSHED = {
    "/": [
        "/static/css/site.css",
        "/static/fonts/body.woff2",
        "/static/js/app.js",
        "/static/js/analytics.js",
    ],
    "/docs/": ["/static/css/site.css", "/static/img/caf%C3%A9.svg"],
    "/about.html": [],
}

LINKS = {
    "/": [
        "</static/css/site.css>; rel=preload; as=style",
        '</static/fonts/body.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin',
        "</static/js/app.js>; rel=modulepreload",
        '</static/css/print.css>; rel=preload; as=style; media="print"',
        "</static/img/hero.png>; rel=preload; as=image",
    ],
    "/docs/": [
        "</static/css/site.css>; rel=preload; as=style",
        "</static/img/caf%C3%A9.svg>; rel=preload; as=image",
    ],
    "/about.html": ["</static/css/site.css>; rel=preload; as=style"],
}

# Files of the built output, by path relative to it. The font is larger than
# HTTP/2's initial 64 KiB flow-control window, so pushing it takes WINDOW_UPDATEs.
OUTPUT_FILES: dict[str, bytes] = {
    "index.html": b'<!doctype html><title>Home</title><link rel=stylesheet href="/static/css/site.css">'
    b"<h1>Home</h1>\n",
    "docs/index.html": b"<!doctype html><title>Docs</title><h1>Docs</h1>\n",
    "about.html": b"<!doctype html><title>About</title><h1>About</h1>\n",
    "404.html": b"<!doctype html><title>Not here</title><h1>No such page</h1>\n",
    "static/css/site.css": b"body { font-family: Body, sans-serif; }\n",
    "static/css/print.css": b"@media print { nav { display: none } }\n",
    "static/js/app.js": b"import './lib.js';\nexport const ready = true;\n",
    "static/js/analytics.js": b"console.log('hi');\n",
    "static/fonts/body.woff2": b"wOF2" + bytes(range(256)) * 400,
    "static/img/hero.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048,
    "static/img/café.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>\n',
    "static/data.webp": b"RIFF\x00\x00\x00\x00WEBP",
    ".secret": b"dotfile-secret\n",
    "static/.hidden/x.css": b"hidden {}\n",
}

SOURCE_FILES: dict[str, bytes] = {
    "pushgen.yaml": b"# test site\ncontext: {site_name: Test, secret_marker: SOURCE-ONLY}\n",
    "templates/base.html": b"<html>{{ site_name }} SOURCE-ONLY</html>\n",
    "pages/index.html": b"{% extends 'base.html' %}\n",
}


@dataclass
class Site:
    """A site folder with a built output and a manifest, plus what tests expect of it."""

    root: Path
    output: Path
    manifest: Path
    pushed: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in PUSHED.items()}
    )
    links: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in LINKS.items()}
    )

    def file(self, url_path: str) -> bytes:
        """The bytes the output holds for a (percent-encoded) URL path."""
        from urllib.parse import unquote

        return (self.output / unquote(url_path).lstrip("/")).read_bytes()

    def link_header(self, route: str) -> str:
        return ", ".join(self.links[route])


def make_site(root: Path) -> Site:
    """Write the test site under ``root``; the output is newer than the sources."""
    root.mkdir(parents=True, exist_ok=True)
    output = root / "_site"
    past = time.time() - 600
    for rel, data in SOURCE_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for folder in (root / "templates", root / "pages", root / "pushgen.yaml"):
        os.utime(folder, (past, past))
    for path in (root / "templates" / "base.html", root / "pages" / "index.html"):
        os.utime(path, (past, past))
    for rel, data in OUTPUT_FILES.items():
        path = output / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # A link inside the output that leads out of it, and one that stays inside.
    (output / "static" / "leak.txt").symlink_to(root / "pushgen.yaml")
    (output / "static" / "alias.css").symlink_to(output / "static" / "css" / "site.css")
    manifest = root / "push-manifest.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    return Site(root=root, output=output, manifest=manifest)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio only: Quart and Hypercorn's asyncio worker are what ships."""
    return "asyncio"


@pytest.fixture
def built_site(tmp_path: Path) -> Site:
    """A fresh test site for one test."""
    return make_site(tmp_path / "site")


@pytest.fixture(scope="session")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The test site, made once per session; tests must not change it."""
    return make_site(tmp_path_factory.mktemp("shared") / "site")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG cache folder for the session, so the user's own cache is never touched."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(scope="session")
def dev_cert(cache_dir: Path) -> DevCertificate:
    """The development certificate in the session's cache folder."""
    return dev_certificate(cache_dir / "pushgen")


@pytest.fixture(scope="session")
def server(
    shared_site: Site, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """``pushgen.commands.serve_site.serve`` on the shared site, in a subprocess on 127.0.0.1 and a free port.

    No certificate is given, so it makes (or reuses) the development certificate
    in the session's cache folder. ``early_hints_delay=0`` sends a 103 before
    every page, so that the tests see the whole sequence (pushes, 103, 200), as
    ``pushgen serve`` does by default.
    """
    log = tmp_path_factory.mktemp("server") / "server.log"
    process = start_serve(
        shared_site.root,
        log,
        env={"XDG_CACHE_HOME": str(cache_dir)},
        build_if_stale=False,
        early_hints_delay=0,
    )
    yield process
    process.stop()


@pytest.fixture
def start_server(tmp_path: Path, cache_dir: Path) -> Iterator[object]:
    """A factory for servers private to one test; all are stopped at its end."""
    started: list[ServerProcess] = []

    def start(site: Path, **kwargs: Any) -> ServerProcess:
        env = {"XDG_CACHE_HOME": str(cache_dir), **kwargs.pop("env", {})}
        log = tmp_path / f"server-{len(started)}.log"
        process = start_serve(site, log, env=env, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
