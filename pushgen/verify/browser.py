"""Headless Chromium for ``pushgen verify``, the test suite and the benchmarks: one owner.

Everything that opens Chromium comes here: the flags (:data:`ARGS`), finding the
binary (:func:`find_chromium`: ``$PUSHGEN_CHROMIUM``, Debian's ``chromium`` on
the PATH, else the one Playwright downloaded), trust in a development
certificate (:func:`trust_args`), the launch (:func:`open_chromium`) and the
recorder (:func:`load_page`: one page, cold, in a fresh context, so an empty
cache; one page at a time) keeping every request with its resource type,
initiator, protocol, bytes, whether a 103 served it, the Resource Timing
entries, and the console.

Playwright is imported only when a browser is opened, so that ``import
pushgen.verify`` works without it; when it or Chromium is missing,
:class:`VerifyUnavailable` says what to install.

"Needed" here is what the HTML parser itself fetched (DevTools initiator
``parser``): stylesheets and scripts named by the page, and fonts named by those
stylesheets. What a script fetches (a search index, a worker) is recorded but is
not something a static scan can be asked to find.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import PushgenError
from ..runtime.devca import spki_hash

__all__ = [
    "ARGS",
    "BLOCKING_TYPES",
    "CHROMIUM_ENV",
    "INSTALL_HINT",
    "UNUSED_PRELOAD",
    "Fetched",
    "PageLoad",
    "VerifyUnavailable",
    "browser_version",
    "find_chromium",
    "load_page",
    "load_site",
    "open_chromium",
    "playwright_errors",
    "trust_args",
]

# The flags every verify run, test and benchmark launches Chromium with: no sandbox
# (root in a container), no GPU, none of the background traffic a profile makes,
# and no QUIC (a check of HTTP/2 must not wander off to HTTP/3 through Alt-Svc).
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
# How long after the load event Chromium waits before that warning, and a margin.
UNUSED_PRELOAD_AFTER_MS = 3300
# The environment variable naming the Chromium binary to use.
CHROMIUM_ENV = "PUSHGEN_CHROMIUM"
INSTALL_HINT = (
    "install Chromium (Debian: apt-get install chromium; or Playwright's:"
    " pip install 'pushgen[verify]' && python -m playwright install chromium),"
    f" or set {CHROMIUM_ENV} to the path of a Chromium binary"
)


class VerifyUnavailable(PushgenError):
    """Playwright or Chromium is missing: ``pushgen verify`` cannot open a browser.

    ``missing`` is what is missing (``"playwright"`` or ``"chromium"``), the
    message says what to install.
    """

    def __init__(self, missing: str, message: str) -> None:
        self.missing = missing
        super().__init__(message)


def _import_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise VerifyUnavailable(
            "playwright",
            "pushgen verify drives Chromium through Playwright, which is not installed:"
            " pip install 'pushgen[verify]'",
        ) from None
    return sync_playwright


def playwright_errors() -> type[Exception]:
    """Playwright's error class (a page that would not load); :class:`VerifyUnavailable` without it."""
    _import_playwright()
    from playwright.sync_api import Error

    return Error


def find_chromium(environ: Mapping[str, str] | None = None) -> Path | None:
    """The Chromium binary to launch: ``$PUSHGEN_CHROMIUM``, else ``chromium`` on the PATH.

    None means "none on this system: try the one Playwright downloaded"
    (:func:`open_chromium` does). A ``$PUSHGEN_CHROMIUM`` naming no file is a
    :class:`VerifyUnavailable`, not a silent fallback.
    """
    env = os.environ if environ is None else environ
    named = env.get(CHROMIUM_ENV)
    if named:
        if not os.access(named, os.X_OK) or not Path(named).is_file():
            raise VerifyUnavailable(
                "chromium", f"{CHROMIUM_ENV}={named}: no executable file there; {INSTALL_HINT}"
            )
        return Path(named)
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name, path=env.get("PATH", os.defpath))
        if found:
            return Path(found)
    return None


def trust_args(certfile: str | os.PathLike[str]) -> tuple[str, ...]:
    """The flag that makes Chromium trust ``certfile`` by its key.

    Chromium ignores Early Hints on a connection whose certificate it does not
    trust; ``--ignore-certificate-errors-spki-list`` is what a trusted certificate
    looks like to it, unlike ``--ignore-certificate-errors`` (a clicked-through
    warning).
    """
    return (f"--ignore-certificate-errors-spki-list={spki_hash(certfile)}",)


@contextlib.contextmanager
def open_chromium(
    extra_args: Iterable[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    executable: str | os.PathLike[str] | None = None,
) -> Iterator[Any]:
    """Headless Chromium through Playwright, launched with :data:`ARGS` and ``extra_args``.

    ``executable`` defaults to :func:`find_chromium`, then Playwright's own
    Chromium. Raises :class:`VerifyUnavailable` when Playwright or every
    Chromium is missing.
    """
    sync_playwright = _import_playwright()
    binary = Path(executable) if executable is not None else find_chromium()
    error = playwright_errors()

    with sync_playwright() as driver:
        try:
            browser = driver.chromium.launch(
                executable_path=os.fspath(binary) if binary is not None else None,
                headless=True,
                args=[*ARGS, *extra_args],
                env=dict(env) if env is not None else None,
            )
        except error as exc:
            if binary is None and "Executable doesn't exist" in str(exc):
                raise VerifyUnavailable(
                    "chromium",
                    f"no Chromium found (not on the PATH, none from Playwright): {INSTALL_HINT}",
                ) from None
            raise VerifyUnavailable(
                "chromium", f"Chromium {binary or '(Playwright)'} did not start: {exc}"
            ) from None
        try:
            yield browser
        finally:
            browser.close()


def browser_version(browser: Any) -> str:
    """``Chromium 131.0.6778.85``: the name and version of an open browser."""
    return f"Chromium {browser.version}"


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


@dataclass(frozen=True, slots=True)
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


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class _Recorder:
    """The DevTools events of one page load, as they arrive."""

    origin: str
    route: str
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered: dict[str, Fetched] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    console: list[tuple[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    other_origins: list[str] = field(default_factory=list)
    early_hint_links: list[str] = field(default_factory=list)
    tls: str = ""

    def on_request(self, params: dict[str, Any]) -> None:
        self.sent[params["requestId"]] = params
        if _origin(params["request"]["url"]) == self.origin:
            self.requests[_path(params["request"]["url"])] += 1

    def on_response(self, params: dict[str, Any]) -> None:
        response = params["response"]
        if _origin(response["url"]) != self.origin:
            self.other_origins.append(response["url"])
            return
        initiator = self.sent.get(params["requestId"], {}).get("initiator", {})
        if params["type"] == "Document" and not self.tls:
            self.tls = response.get("securityDetails", {}).get("protocol", "")
        self.answered[params["requestId"]] = Fetched(
            path=_path(response["url"]),
            resource_type=params["type"],
            initiator=initiator.get("type", ""),
            initiator_url=initiator.get("url", ""),
            status=int(response["status"]),
            protocol=response.get("protocol", ""),
            from_early_hints=bool(response.get("fromEarlyHints")),
        )

    def on_hints(self, params: dict[str, Any]) -> None:
        for value in params["headers"].get("link", "").split("\n"):
            self.early_hint_links.extend(re.findall(r"<([^>]*)>", value))

    def on_failed(self, params: dict[str, Any]) -> None:
        self.failed.append(f"{params.get('type')}: {params.get('errorText')}")

    def page_load(self, timing: list[list[Any]]) -> PageLoad:
        """The load, with each response's Resource Timing (blocking status, body size)."""
        blocking = {_path(name): status for name, _kind, status, _size in timing}
        sizes = {_path(name): int(size) for name, _kind, _status, size in timing}
        document: Fetched | None = None
        fetched: list[Fetched] = []
        for answer in self.answered.values():
            if answer.resource_type == "Document" and document is None:
                document = answer
                continue
            fetched.append(
                dataclasses.replace(
                    answer,
                    render_blocking=blocking.get(answer.path, ""),
                    encoded_bytes=sizes.get(answer.path, 0),
                )
            )
        return PageLoad(
            route=self.route,
            status=document.status if document is not None else 0,
            document=document,
            tls=self.tls,
            fetched=fetched,
            requests=self.requests,
            console=self.console,
            failed=self.failed,
            other_origins=self.other_origins,
            early_hint_links=self.early_hint_links,
            initiator_types={_path(name): kind for name, kind, _status, _size in timing},
        )


_TIMING = (
    "performance.getEntriesByType('resource')"
    ".map(e => [e.name, e.initiatorType, e.renderBlockingStatus || '', e.encodedBodySize])"
)
_SINCE_LOAD = (
    "(() => { const n = performance.getEntriesByType('navigation')[0];"
    " return n && n.loadEventEnd ? performance.now() - n.loadEventEnd : 0; })()"
)


def load_page(
    browser: Any,
    origin: str,
    route: str,
    *,
    timeout_ms: int = 60_000,
    linger_ms: int = 0,
    after_load_ms: int = 0,
    headers: Mapping[str, str] | None = None,
) -> PageLoad:
    """Open ``origin + route`` in a fresh context (empty cache) and record it until network idle.

    ``linger_ms`` keeps the page open that much longer; ``after_load_ms`` keeps
    it open until that long after its load event. Chromium reports an unused
    preload 3 s after the load event (:data:`UNUSED_PRELOAD_AFTER_MS`), so a
    check of that waits past it. ``headers`` are sent with every request.
    """
    record = _Recorder(origin, route)
    context = browser.new_context(extra_http_headers=dict(headers) if headers else None)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", record.on_request)
        cdp.on("Network.responseReceived", record.on_response)
        cdp.on("Network.responseReceivedEarlyHints", record.on_hints)
        cdp.on("Network.loadingFailed", record.on_failed)
        page.on("console", lambda m: record.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: record.console.append(("error", f"uncaught: {e}")))
        page.goto(origin + route, wait_until="networkidle", timeout=timeout_ms)
        if linger_ms:
            page.wait_for_timeout(linger_ms)
        if after_load_ms:
            since = float(page.evaluate(_SINCE_LOAD))
            if since < after_load_ms:
                page.wait_for_timeout(after_load_ms - since)
        timing = page.evaluate(_TIMING)
    finally:
        context.close()
    return record.page_load(timing)


def load_site(browser: Any, origin: str, routes: Iterable[str]) -> list[PageLoad]:
    """:func:`load_page` for each route, one at a time."""
    return [load_page(browser, origin, route) for route in routes]
