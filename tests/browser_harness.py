"""Headless Chromium for the test suite and the benchmarks: one owner of the browser.

Everything that opens Chromium imports it from here (tests/scenarios/ and
bench/): the flags (:data:`ARGS`), the binary (:data:`CHROMIUM`), the launch
(:func:`chromium` for a test, which skips when Chromium or Playwright is missing;
:func:`open_chromium` for a benchmark), trust in the development certificate
(:func:`trust_args`), ``pushgen serve`` started for a browser
(:func:`pushgen_serve`) and the recorder (:func:`load_page`: one page, cold: a
fresh context, so an empty cache; one page at a time) keeping every request with
its resource type, initiator, protocol, bytes, whether a 103 served it, the
Resource Timing entries, and the console.

A plain static server (:class:`StaticServer`, HTTP/1.1 on 127.0.0.1, no hints of
any kind, so what is fetched is what the page itself asks for) and
:func:`compare` (the page against the manifest's entries for its route) measure
precision (issue 15).

"Render-blocking" here is what the HTML parser itself fetched (DevTools
initiator ``parser``): stylesheets and scripts named by the page, and fonts named
by those stylesheets. What a script fetches (a search index, a worker) is
recorded but is not something a static scan can be asked to find.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pushgen.manifest import Manifest
from pushgen.runtime.devca import spki_hash
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

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags every test and benchmark launches Chromium with: no sandbox (root in a
# container), no GPU, none of the background traffic a profile makes, and no QUIC
# (a test of HTTP/2 must not wander off to HTTP/3 through Alt-Svc).
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)
# The resource types a page cannot render without (DevTools Network.ResourceType).
BLOCKING_TYPES = frozenset({"Stylesheet", "Script", "Font"})
# Chromium's console warning for a preload the page did not use within 3 s of its
# load event (third_party/blink/renderer/core/loader/preload_helper.cc).
UNUSED_PRELOAD = "preloaded using link preload but not used"


def trust_args(certfile: Path) -> tuple[str, ...]:
    """The flag that makes Chromium trust ``certfile`` by its key.

    Chromium ignores Early Hints on a connection whose certificate it does not
    trust; ``--ignore-certificate-errors-spki-list`` is what a trusted certificate
    looks like to it, unlike ``--ignore-certificate-errors`` (a clicked-through
    warning).
    """
    return (f"--ignore-certificate-errors-spki-list={spki_hash(certfile)}",)


@contextlib.contextmanager
def open_chromium(
    extra_args: Iterable[str] = (), *, env: Mapping[str, str] | None = None
) -> Iterator[Any]:
    """Debian's headless Chromium through Playwright, launched with :data:`ARGS`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*ARGS, *extra_args],
            env=dict(env) if env is not None else None,
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium(
    extra_args: Iterable[str] = (), *, env: Mapping[str, str] | None = None
) -> Iterator[Any]:
    """:func:`open_chromium` in a test: skip the test when Chromium or Playwright is missing."""
    import pytest

    pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium")
    with open_chromium(extra_args, env=env) as browser:
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
class Fetched:
    """One same-origin response of a page load."""

    path: str  # path and query, as requested
    resource_type: str  # DevTools: Document, Stylesheet, Script, Font, Image, Fetch, ...
    initiator: str  # DevTools: parser, script, preload, other, ...
    initiator_url: str
    status: int
    render_blocking: str = ""  # Resource Timing renderBlockingStatus, when the browser says
    protocol: str = ""  # h2, http/1.1, ...
    from_early_hints: bool = False  # served by a preload a 103 started (DevTools)
    # The body as sent (compressed), Resource Timing encodedBodySize: DevTools'
    # encodedDataLength says 0 for a response a 103's preload served.
    encoded_bytes: int = 0


@dataclass(slots=True)
class PageLoad:
    """What loading one page cold made the browser do."""

    route: str
    status: int = 0
    document: Fetched | None = None
    tls: str = ""  # the page's TLS version, "TLS 1.3" (DevTools securityDetails)
    fetched: list[Fetched] = field(default_factory=list)  # subresources, same origin
    requests: Counter[str] = field(default_factory=Counter)  # requests sent per path, same origin
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    failed: list[str] = field(default_factory=list)
    other_origins: list[str] = field(default_factory=list)
    early_hint_links: list[str] = field(default_factory=list)  # the URLs a 103's Link named
    initiator_types: dict[str, str] = field(default_factory=dict)  # Resource Timing, per path

    @property
    def paths(self) -> set[str]:
        return {f.path for f in self.fetched}

    @property
    def via_early_hints(self) -> set[str]:
        return {f.path for f in self.fetched if f.from_early_hints}

    @property
    def needed(self) -> set[str]:
        """Stylesheets, scripts and fonts the parser (the page or its stylesheets) fetched."""
        return {
            f.path
            for f in self.fetched
            if f.resource_type in BLOCKING_TYPES and f.initiator == "parser"
        }

    @property
    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]

    @property
    def warnings(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("warning", "error")]

    @property
    def unused_preloads(self) -> list[str]:
        return [text for text in self.warnings if UNUSED_PRELOAD in text]

    @property
    def duplicates(self) -> dict[str, int]:
        """Paths requested more than once (a preload the page did not take, say)."""
        return {path: n for path, n in self.requests.items() if n > 1}

    @property
    def bytes(self) -> int:
        return sum(f.encoded_bytes for f in self.fetched)


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


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def load_page(
    browser: Any, origin: str, route: str, *, timeout_ms: int = 60_000, linger_ms: int = 0
) -> PageLoad:
    """Open ``origin + route`` in a fresh context (empty cache) and record it until network idle.

    ``linger_ms`` keeps the page open that much longer: Chromium reports an unused
    preload 3 s after the load event, so a test of that lingers past it.
    """
    record = PageLoad(route)
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        sent: dict[str, dict[str, Any]] = {}
        answered: dict[str, Fetched] = {}

        def on_request(params: dict[str, Any]) -> None:
            sent[params["requestId"]] = params
            if _origin(params["request"]["url"]) == origin:
                record.requests[_path(params["request"]["url"])] += 1

        def on_response(params: dict[str, Any]) -> None:
            response = params["response"]
            if _origin(response["url"]) != origin:
                record.other_origins.append(response["url"])
                return
            initiator = sent.get(params["requestId"], {}).get("initiator", {})
            if params["type"] == "Document" and not record.tls:
                record.tls = response.get("securityDetails", {}).get("protocol", "")
            answered[params["requestId"]] = Fetched(
                path=_path(response["url"]),
                resource_type=params["type"],
                initiator=initiator.get("type", ""),
                initiator_url=initiator.get("url", ""),
                status=int(response["status"]),
                protocol=response.get("protocol", ""),
                from_early_hints=bool(response.get("fromEarlyHints")),
            )

        def on_hints(params: dict[str, Any]) -> None:
            for value in params["headers"].get("link", "").split("\n"):
                record.early_hint_links.extend(re.findall(r"<([^>]*)>", value))

        cdp.on("Network.requestWillBeSent", on_request)
        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.responseReceivedEarlyHints", on_hints)
        cdp.on(
            "Network.loadingFailed",
            lambda p: record.failed.append(f"{p.get('type')}: {p.get('errorText')}"),
        )
        page.on("console", lambda m: record.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: record.console.append(("error", f"uncaught: {e}")))
        page.goto(origin + route, wait_until="networkidle", timeout=timeout_ms)
        if linger_ms:
            page.wait_for_timeout(linger_ms)
        timing = page.evaluate(
            "performance.getEntriesByType('resource')"
            ".map(e => [e.name, e.initiatorType, e.renderBlockingStatus || '', e.encodedBodySize])"
        )
        blocking = {_path(name): status for name, _kind, status, _size in timing}
        sizes = {_path(name): int(size) for name, _kind, _status, size in timing}
        record.initiator_types = {_path(name): kind for name, kind, _status, _size in timing}
        for fetched in answered.values():
            if fetched.resource_type == "Document" and record.document is None:
                record.document = fetched
                record.status = fetched.status
            else:
                record.fetched.append(
                    dataclasses.replace(
                        fetched,
                        render_blocking=blocking.get(fetched.path, ""),
                        encoded_bytes=sizes.get(fetched.path, 0),
                    )
                )
    finally:
        context.close()
    return record


def load_site(browser: Any, origin: str, routes: Iterable[str]) -> list[PageLoad]:
    """:func:`load_page` for each route, one at a time."""
    return [load_page(browser, origin, route) for route in routes]


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
