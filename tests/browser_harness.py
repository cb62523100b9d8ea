"""Load every page of a site in headless Chromium and compare what it fetched with the manifest.

Reusable by any test (the real-generator tests here, the precision work of issue
15): a plain static server (:class:`StaticServer`, HTTP/1.1 on 127.0.0.1, no
hints of any kind, so what is fetched is what the page itself asks for), a
browser (:func:`chromium`: Debian's Chromium through Playwright with the flags
the suite uses everywhere), :func:`load_page` (one page, cold: a fresh context,
so an empty cache; one page at a time) recording every request with its
resource type, initiator, render-blocking status and response, and the console;
and :func:`compare`, the page against the manifest's entries for its route.

"Render-blocking" here is what the HTML parser itself fetched (DevTools
initiator ``parser``): stylesheets and scripts named by the page, and fonts named
by those stylesheets. What a script fetches (a search index, a worker) is
recorded but is not something a static scan can be asked to find.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pushgen.manifest import Manifest

__all__ = [
    "ARGS",
    "CHROMIUM",
    "Comparison",
    "Fetched",
    "PageLoad",
    "StaticServer",
    "chromium",
    "compare",
    "load_page",
    "load_site",
]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# The resource types a page cannot render without (DevTools Network.ResourceType).
BLOCKING_TYPES = frozenset({"Stylesheet", "Script", "Font"})


@dataclass(frozen=True, slots=True)
class Fetched:
    """One same-origin request of a page load and its answer."""

    path: str  # path and query, as requested
    resource_type: str  # DevTools: Stylesheet, Script, Font, Image, Fetch, ...
    initiator: str  # DevTools: parser, script, preload, other, ...
    initiator_url: str
    status: int
    render_blocking: str = ""  # Resource Timing renderBlockingStatus, when the browser says


@dataclass(slots=True)
class PageLoad:
    """What loading one page cold made the browser do."""

    route: str
    status: int = 0
    fetched: list[Fetched] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    failed: list[str] = field(default_factory=list)
    other_origins: list[str] = field(default_factory=list)

    @property
    def paths(self) -> set[str]:
        return {f.path for f in self.fetched}

    @property
    def needed(self) -> set[str]:
        """Stylesheets, scripts and fonts the parser (the page or its stylesheets) fetched."""
        return {
            f.path
            for f in self.fetched
            if f.resource_type in BLOCKING_TYPES and f.initiator == "parser"
        }

    @property
    def warnings(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("warning", "error")]


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


@contextlib.contextmanager
def chromium(extra_args: Iterable[str] = ()) -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (skip the test when either is missing)."""
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium")
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def load_page(browser: Any, origin: str, route: str, *, timeout_ms: int = 60_000) -> PageLoad:
    """Open ``origin + route`` in a fresh context (empty cache) and record it until network idle."""
    record = PageLoad(route)
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        requests: dict[str, dict[str, Any]] = {}

        def on_request(params: dict[str, Any]) -> None:
            requests[params["requestId"]] = params

        def on_response(params: dict[str, Any]) -> None:
            url = urlsplit(params["response"]["url"])
            if f"{url.scheme}://{url.netloc}" != origin:
                record.other_origins.append(params["response"]["url"])
                return
            status = int(params["response"]["status"])
            if params["type"] == "Document" and not record.status:
                record.status = status
                return
            sent = requests.get(params["requestId"], {})
            initiator = sent.get("initiator", {})
            record.fetched.append(
                Fetched(
                    path=url.path + (f"?{url.query}" if url.query else ""),
                    resource_type=params["type"],
                    initiator=initiator.get("type", ""),
                    initiator_url=initiator.get("url", ""),
                    status=status,
                )
            )

        cdp.on("Network.requestWillBeSent", on_request)
        cdp.on("Network.responseReceived", on_response)
        cdp.on(
            "Network.loadingFailed",
            lambda p: record.failed.append(f"{p.get('type')}: {p.get('errorText')}"),
        )
        page.on("console", lambda m: record.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: record.console.append(("error", f"uncaught: {e}")))
        page.goto(origin + route, wait_until="networkidle", timeout=timeout_ms)
        blocking = dict(
            page.evaluate(
                "performance.getEntriesByType('resource')"
                ".map(e => [e.name, e.renderBlockingStatus || ''])"
            )
        )
        record.fetched = [
            Fetched(
                f.path,
                f.resource_type,
                f.initiator,
                f.initiator_url,
                f.status,
                blocking.get(origin + f.path, ""),
            )
            for f in record.fetched
        ]
    finally:
        context.close()
    return record


def load_site(browser: Any, origin: str, routes: Iterable[str]) -> list[PageLoad]:
    """:func:`load_page` for each route, one at a time."""
    return [load_page(browser, origin, route) for route in routes]
