"""Headless Chromium in the test suite: a thin wrapper of the product's browser module.

The browser itself (its flags :data:`ARGS`, finding the binary, the launch
:func:`open_chromium`, trust in the development certificate :func:`trust_args`,
the recorder :func:`load_page` and its :class:`PageLoad`) is
:mod:`pushgen.verify.browser`, the one owner the suite, the benchmarks and
``pushgen verify`` share. What stays here is test-side: :func:`chromium` (skips
the test when Playwright or Chromium is missing), ``pushgen serve`` started for a
browser (:func:`pushgen_serve`, :func:`load_served`), a plain static server
(:class:`StaticServer`, HTTP/1.1 on 127.0.0.1, no hints of any kind, so what is
fetched is what the page itself asks for) and :func:`compare` (the page against
the manifest's entries for its route), the suite's own measure of precision
(issue 15) that ``pushgen verify`` is checked against.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pushgen.manifest import Manifest
from pushgen.verify.browser import (
    ARGS,
    UNUSED_PRELOAD,
    Fetched,
    PageLoad,
    VerifyUnavailable,
    find_chromium,
    load_page,
    load_site,
    open_chromium,
    trust_args,
)
from tests.clients import REPO, ServerProcess, wait_for_port

__all__ = [
    "ARGS",
    "CHROMIUM",
    "UNUSED_PRELOAD",
    "Comparison",
    "Fetched",
    "PageLoad",
    "StaticServer",
    "chromium",
    "compare",
    "load_page",
    "load_served",
    "load_site",
    "open_chromium",
    "pushgen_serve",
    "trust_args",
]


def _chromium() -> str:
    try:
        found = find_chromium()
    except VerifyUnavailable:
        found = None
    return str(found) if found is not None else "/usr/bin/chromium"


# The binary the tests launch (pushgen.verify.browser.find_chromium).
CHROMIUM = _chromium()


@contextlib.contextmanager
def chromium(
    extra_args: Iterable[str] = (), *, env: Mapping[str, str] | None = None
) -> Iterator[Any]:
    """:func:`open_chromium` in a test: skip the test when Chromium or Playwright is missing."""
    import pytest

    pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium")
    with open_chromium(extra_args, env=env, executable=CHROMIUM) as browser:
        yield browser


_URL = re.compile(r"serving at (https://[^\s]+?:(\d+)/)")


def pushgen_serve(
    site: Path, log: Path, env: Mapping[str, str], args: tuple[str, ...] = ()
) -> ServerProcess:
    """``python -m pushgen serve SITE --port 0 --no-build ARGS``; wait for the URL it prints."""
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    full_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pushgen", "serve", str(site), "--port", "0", "--no-build", *args],
            stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=log.parent,
        )  # fmt: skip
    server = ServerProcess(process, log, host="localhost")
    deadline = time.monotonic() + 30
    while not (match := _URL.search(server.log())):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"pushgen serve did not start:\n{server.log()}")
        time.sleep(0.05)
    server.port = int(match.group(2))
    wait_for_port("127.0.0.1", server.port)
    return server


@dataclass(frozen=True, slots=True)
class Comparison:
    """A page load against its route's manifest entries."""

    route: str
    unlisted: frozenset[str]  # needed, not in the manifest
    pushed_unused: frozenset[str]  # pushed by the manifest, never fetched
    hinted_unused: frozenset[str]  # hinted (not pushed), never fetched
    preload_warnings: tuple[str, ...]  # "preloaded ... but not used"

    def report(self) -> str:
        return (
            f"{self.route}: unlisted {sorted(self.unlisted) or 'none'}; "
            f"pushed unused {len(self.pushed_unused)}; hinted unused {len(self.hinted_unused)}; "
            f"preload warnings {len(self.preload_warnings)}"
        )


def compare(load: PageLoad, manifest: Manifest) -> Comparison:
    """Compare ``load`` with what ``manifest`` gives its route (rules applied)."""
    entries = manifest.assets(load.route)
    listed = {a.path for a in entries}
    fetched = load.paths
    return Comparison(
        route=load.route,
        unlisted=frozenset(load.needed - listed),
        pushed_unused=frozenset(a.path for a in entries if a.push and a.path not in fetched),
        hinted_unused=frozenset(
            a.path for a in entries if a.hint and not a.push and a.path not in fetched
        ),
        preload_warnings=tuple(t for t in load.warnings if "preload" in t),
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer:
    """A plain static file server for ``folder`` on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=os.fspath(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StaticServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=30)


def load_served(
    browser: Any,
    site: Path,
    routes: Iterable[str],
    *,
    log: Path,
    env: Mapping[str, str],
    args: tuple[str, ...] = (),
    linger_ms: int = 0,
) -> list[PageLoad]:
    """Serve ``site`` with ``pushgen serve ARGS`` (a 103 before every page) and load each route.

    One visit first, not returned: a fresh server's first page is slower (TLS,
    a cold process), and the loads compared should not differ by that.
    """
    server = pushgen_serve(site, log, env, (*args, "--early-hints-delay", "0"))
    try:
        origin = f"https://localhost:{server.port}"
        routes = list(routes)
        load_page(browser, origin, routes[0])
        return [load_page(browser, origin, route, linger_ms=linger_ms) for route in routes]
    finally:
        server.stop()
