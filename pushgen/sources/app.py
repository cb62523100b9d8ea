"""A Quart app as the source: its pages rendered by the app itself, through its test client.

``pushgen build --app MODULE:APP`` (or ``MODULE:factory()``, or ``app:`` in
pushgen.yaml), run in the folder the app lives in, renders what Frozen-Flask
would freeze, with no server and no network:

1. every GET rule without arguments;
2. for rules with arguments, the URLs listed in pushgen.yaml (``urls:``) and those
   yielded by generators registered with :func:`pushgen.quart.url_generator`;
3. links (``<a href>``) in rendered pages that match a GET rule of the app, up to
   ``max_pages`` pages in all.

Assets are requested from the app too (its static folder, blueprints' static
folders, any route), so what is scanned is what is served. Each page goes through
the build's engine (see pushgen/build/from_source.py). For every rule with arguments, the
manifest gets a route in Quart syntax (``/blog/<slug>``) holding the entries that
every rendered URL of the rule needs (their intersection, in page order): the
runtime matches it for URLs the build never saw
(:meth:`pushgen.manifest.Manifest.generated`). A rendered URL that needs more
keeps an exact route.

Bad input never stops the rest: an app that cannot be imported is one located
error; a view that raises or answers an error, a redirect (and its loops), an
answer that is not HTML, a generator that raises are each a warning naming the
URL, the rule and the view's ``file:line`` (errors under ``--strict``). So is a
view that takes longer than ``request_timeout`` seconds to answer in full (one
that never answers or streams forever), or whose body passes ``max_body`` bytes:
the body is taken in the chunks the app sends and abandoned past the bound, so
memory stays bounded (issue 22 item 6c).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import os
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import lxml.html
from quart import Quart
from quart.testing.connections import TestHTTPConnection

from ..config import DEFAULT_MAX_BODY, DEFAULT_REQUEST_TIMEOUT, SiteConfig
from ..errors import BuildError, Diagnostic, PushgenError, RoutePatternError
from ..fsutil import display_path
from ..manifest.rules import RoutePattern
from ..manifest.writer import SourceKind
from ..model import Asset
from ..progress import Progress, phase
from ..runtime.quart import URL_GENERATORS_KEY
from ..scan.html import scan_html
from ..urls import LOCAL_ORIGIN, document_url
from .protocol import ManifestTarget, PageScan

__all__ = [
    "DEFAULT_MAX_PAGES",
    "AppPages",
    "AppSource",
    "AppSpec",
    "app_pages",
    "load_app",
    "rule_routes",
    "runtime_quiet",
]

# Pages rendered at most (rules, urls:, generators and links together).
DEFAULT_MAX_PAGES = 10_000
_MAX_REDIRECTS = 10
_HOST = urlsplit(LOCAL_ORIGIN).netloc


@dataclass(frozen=True, slots=True)
class AppSpec:
    """``MODULE:APP`` or ``MODULE:factory()``."""

    module: str
    attribute: str
    call: bool

    @classmethod
    def parse(cls, text: str) -> AppSpec:
        module, _, attribute = text.partition(":")
        attribute = attribute or "app"
        call = attribute.endswith("()")
        attribute = attribute.removesuffix("()")
        if (
            not all(part.isidentifier() for part in module.split("."))
            or not attribute.isidentifier()
        ):
            raise PushgenError(
                f"--app {text!r}: write MODULE:APP or MODULE:factory(), e.g. blog:app"
            )
        return cls(module, attribute, call)

    def __str__(self) -> str:
        return f"{self.module}:{self.attribute}{'()' if self.call else ''}"


def _leaf(exc: BaseException) -> BaseException:
    """The one error inside ``exc``: Quart 0.23 (Python 3.13) runs a request in a
    TaskGroup, which wraps what the view raised in an ExceptionGroup."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class _BodyOverLimit(PushgenError):
    """The app sent more than ``limit`` bytes of one body (a `build --app` bound)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body passed {limit:,} bytes (max_body)")
        self.limit = limit


class _NoAnswer(PushgenError):
    """The app had not answered in full after ``seconds`` (a `build --app` bound)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no whole answer within {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why a request to the app failed, and where (the view's line when it raised)."""

    message: str
    file: str = ""
    line: int = 0


class _BoundedConnection(TestHTTPConnection):
    """Quart's test connection, taking a body in the app's chunks up to ``max_body`` bytes.

    The test client keeps every chunk until the view returns: a 300 MB body was
    1.29 GB of memory. Past the bound, sending raises in the app, which ends it.
    """

    max_body = DEFAULT_MAX_BODY

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = 0

    async def _asgi_send(self, message: Any) -> None:
        if message["type"] == "http.response.body":
            self.received += len(message.get("body", b""))
            if self.received > self.max_body:
                raise _BodyOverLimit(self.max_body)
            # A view that streams without awaiting anything would never let the
            # request's timeout fire: each chunk gives the loop a turn.
            await asyncio.sleep(0)
        await super()._asgi_send(message)


def _bounded(max_body: int) -> type[_BoundedConnection]:
    return type("BoundedConnection", (_BoundedConnection,), {"max_body": max_body})


def _where(tb: TracebackType | None, root: Path) -> tuple[str, int]:
    """The innermost frame of ``tb`` in a file under ``root`` (the user's code), else the innermost."""
    mine = [
        frame
        for frame in traceback.extract_tb(tb)
        if frame.filename
        and not frame.filename.startswith("<")
        and Path(frame.filename).resolve().is_relative_to(root)
    ]
    if not mine:
        return "", 0
    return display_path(mine[-1].filename), mine[-1].lineno or 0


def load_app(spec: AppSpec, root: Path) -> Quart:
    """Import the app ``spec`` names from ``root``; raise :class:`BuildError` with where it failed."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    what = f"--app {spec}"
    try:
        module = importlib.import_module(spec.module)
        target = getattr(module, spec.attribute)
        app = target() if spec.call else target
    except SyntaxError as exc:
        raise BuildError(
            [
                Diagnostic(
                    display_path(exc.filename or spec.module),
                    exc.lineno or 0,
                    exc.offset or 0,
                    f"{what}: cannot import: {exc.msg}",
                    "error",
                )
            ]
        ) from None
    except Exception as exc:
        file, line = _where(exc.__traceback__, root)
        message = f"{what}: cannot load the app: {type(exc).__name__}: {exc}"
        if isinstance(exc, ModuleNotFoundError) and exc.name == spec.module:
            message += f" (run pushgen where the app lives; looked in {root})"
        raise BuildError([Diagnostic(file or what, line, 0, message, "error")]) from None
    if not isinstance(app, Quart):
        raise BuildError(
            [Diagnostic(what, 0, 0, f"{what} is a {type(app).__name__}, not a Quart app", "error")]
        )
    return app


@dataclass(frozen=True, slots=True)
class _Page:
    url: str
    rule: str  # the app's rule that answered it
    html: bytes


class _Crawl:
    """The app, its test client on a private event loop, and what rendering found."""

    def __init__(
        self,
        app: Quart,
        root: Path,
        max_pages: int,
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.app = app
        self.root = root
        self.max_pages = max_pages
        self.request_timeout = request_timeout
        self.diagnostics: list[Diagnostic] = []
        self.loop = asyncio.new_event_loop()
        # An exception in a view reaches us (with its traceback) rather than
        # Quart's error log.
        app.config["PROPAGATE_EXCEPTIONS"] = True
        self.test_app = app.test_app()
        self.loop.run_until_complete(self.test_app.startup())
        self.client = self.test_app.test_client()
        self.client.http_connection_class = _bounded(max_body)
        self.adapter = app.url_map.bind(_HOST)
        self.assets: dict[str, tuple[int, bytes]] = {}

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.test_app.shutdown())
        finally:
            self.loop.close()

    # -- where things are ---------------------------------------------------

    def view_location(self, endpoint: str) -> tuple[str, int]:
        function = self.app.view_functions.get(endpoint)
        if function is None:
            return "", 0
        function = inspect.unwrap(function)
        try:
            return display_path(
                inspect.getsourcefile(function) or ""
            ), function.__code__.co_firstlineno
        except (TypeError, AttributeError):
            return "", 0

    def warn(self, endpoint: str, message: str, line: int = 0, file: str = "") -> None:
        view_file, view_line = self.view_location(endpoint)
        self.diagnostics.append(
            Diagnostic(file or view_file or "app", line or view_line, 0, message)
        )

    def match(self, path: str) -> tuple[str, str] | None:
        """(endpoint, rule) of the GET rule answering ``path``, None when none does."""
        try:
            rule, _ = self.adapter.match(path, method="GET", return_rule=True)
        except Exception:  # NotFound, MethodNotAllowed, RequestRedirect
            return None
        return rule.endpoint, rule.rule

    # -- requests -----------------------------------------------------------

    def get(self, path: str) -> Any:
        """The app's whole response to GET ``path``; raises past the timeout or the body bound."""
        before = asyncio.all_tasks(self.loop)
        try:
            return self.loop.run_until_complete(self._get(path))
        except Exception:
            self._end_tasks_since(before)
            raise

    async def _get(self, path: str) -> Any:
        deadline = asyncio.timeout(self.request_timeout)
        try:
            async with deadline:
                return await self.client.get(path)
        except TimeoutError:
            if deadline.expired():  # ours, not a TimeoutError the view raised
                raise _NoAnswer(self.request_timeout) from None
            raise

    def _end_tasks_since(self, before: set[asyncio.Task[Any]]) -> None:
        """Cancel the tasks a failed request left: Quart's ASGI connection runs the view in
        tasks of its own, which go on when the request is cancelled (a view that never
        answers would wait on, and warn when the loop closes)."""
        left = asyncio.all_tasks(self.loop) - before
        for task in left:
            task.cancel()
        if left:
            self.loop.run_until_complete(asyncio.wait(left, timeout=self.request_timeout))

    def failure(self, raised: BaseException) -> _Failure:
        """What went wrong in a request that raised, for a warning."""
        exc = _leaf(raised)
        if isinstance(exc, _NoAnswer):
            return _Failure(
                f"{exc} (it never answers, or streams forever); skipped. If it is only slow, "
                "raise request_timeout in pushgen.yaml or --request-timeout"
            )
        if isinstance(exc, _BodyOverLimit):
            return _Failure(
                f"{exc}; skipped, the rest unread. If the page is that big, raise max_body "
                "in pushgen.yaml or --max-body"
            )
        file, line = _where(exc.__traceback__, self.root)
        return _Failure(f"the view raised {type(exc).__name__}: {exc}", file, line)

    def body(self, response: Any) -> bytes:
        data: bytes = self.loop.run_until_complete(response.get_data(as_text=False))
        return data

    def asset(self, relpath: str) -> tuple[int, bytes]:
        """An asset as the app serves it (status, bytes), by output path."""
        if relpath not in self.assets:
            path = "/" + quote(os.fsencode(relpath), safe="/")
            try:
                response = self.get(path)
                status = response.status_code
                data = self.body(response) if status == 200 else b""
            except Exception as raised:
                status, data = 500, b""
                if isinstance(_leaf(raised), _NoAnswer | _BodyOverLimit):
                    endpoint, rule = self.match(path) or ("", "")
                    what = f" (rule {rule}, view {endpoint})" if endpoint else ""
                    self.warn(endpoint, f"GET {path}{what}: {self.failure(raised).message}")
            self.assets[relpath] = (status, data)
        return self.assets[relpath]

    def exists(self, relpath: str) -> bool:
        return self.asset(relpath)[0] == 200

    def read(self, relpath: str) -> bytes | None:
        status, data = self.asset(relpath)
        return data if status == 200 else None

    def size_of(self, path: str) -> int | None:
        status, data = self.asset(path.split("?", 1)[0].lstrip("/"))
        return len(data) if status == 200 else None

    def crawl(self, urls: list[str], progress: Progress) -> list[_Page]:
        """Render ``urls``, then the links of rendered pages a GET rule answers, up to ``max_pages``."""
        queue = deque(dict.fromkeys(urls))
        queued = set(queue)
        rendered: list[_Page] = []
        done: set[str] = set()  # a redirect's target may be queued too
        while queue and len(rendered) < self.max_pages:
            page = self.render(queue.popleft())
            if page is None or page.url in done:
                continue
            done.add(page.url)
            rendered.append(page)
            progress.advance("render", len(rendered))
            for link in _links(page):
                if link not in queued and self.match(link) is not None:
                    queued.add(link)
                    queue.append(link)
        if queue:
            self.diagnostics.append(
                Diagnostic(
                    "app", 0, 0, f"stopped at {self.max_pages} pages; {len(queue)} URLs left"
                )
            )
        return rendered

    def render(self, url: str) -> _Page | None:
        """The page at ``url``, following redirects within the app; None (and a warning) otherwise.

        Every problem is reported once, at the view of ``url`` (the one a user
        listed, generated or linked).
        """
        matched = self.match(url)
        if matched is None:
            self.diagnostics.append(
                Diagnostic("app", 0, 0, f"GET {url}: no GET rule of the app answers it")
            )
            return None
        endpoint, rule = matched
        where = f"GET {url} (rule {rule}, view {endpoint})"
        chain = [url]
        while True:
            current = chain[-1]
            try:
                response = self.get(current)
                data = self.body(response)
            except Exception as raised:
                failure = self.failure(raised)
                hop = f" (redirected to {current})" if len(chain) > 1 else ""
                self.warn(endpoint, f"{where}{hop}: {failure.message}", failure.line, failure.file)
                return None
            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location", "")
                target = urlsplit(urljoin(f"http://{_HOST}{current}", location))
                nxt = target.path + (f"?{target.query}" if target.query else "")
                if target.netloc not in ("", _HOST):
                    self.warn(endpoint, f"{where}: redirects to {location}, another site; skipped")
                    return None
                if nxt in chain or len(chain) > _MAX_REDIRECTS:
                    shown = " -> ".join([*chain, nxt])
                    self.warn(endpoint, f"{where}: redirect loop {shown}; skipped")
                    return None
                chain.append(nxt)
                continue
            hops = " -> ".join(chain)
            if len(chain) > 1:
                self.warn(endpoint, f"{where}: redirects {hops}; the last is rendered")
            if status != 200:
                self.warn(endpoint, f"{where}: answered {status}; skipped")
                return None
            mimetype = response.mimetype or ""
            if mimetype != "text/html":
                self.warn(endpoint, f"{where}: answered {mimetype or 'no type'}, not HTML; skipped")
                return None
            if len(chain) == 1:  # not redirected: the rule matched above answered
                return _Page(current, rule, data)
            final = self.match(current)
            return _Page(current, final[1] if final else rule, data)

    # -- which URLs ---------------------------------------------------------

    def rule_urls(self) -> list[str]:
        """Every GET rule without arguments (static files are not pages)."""
        urls = []
        for rule in self.app.url_map.iter_rules():
            if "GET" in (rule.methods or ()) and not rule.arguments:
                urls.append(rule.rule)
        return urls

    def generated_urls(self) -> list[str]:
        """What the registered generators yield, as URL paths."""
        urls: list[str] = []
        for endpoint, function in self.app.extensions.get(URL_GENERATORS_KEY, []):
            file, line = _source_of(function)
            try:
                for item in self._items(function):
                    url = self._url(endpoint, item, file, line)
                    if url is not None:
                        urls.append(url)
            except Exception as exc:
                file2, line2 = _where(exc.__traceback__, self.root)
                self.diagnostics.append(
                    Diagnostic(
                        file2 or file,
                        line2 or line,
                        0,
                        f"URL generator {function.__name__} raised {type(exc).__name__}: {exc};"
                        " the URLs it yielded before are rendered",
                    )
                )
        return urls

    def _items(self, function: Callable[[], Any]) -> Iterator[Any]:
        result = function()
        if inspect.isawaitable(result):
            result = self.loop.run_until_complete(result)
        if inspect.isasyncgen(result):

            async def collect() -> list[Any]:
                return [item async for item in result]

            yield from self.loop.run_until_complete(collect())
        else:
            yield from result

    def _url(self, endpoint: str, item: Any, file: str, line: int) -> str | None:
        if isinstance(item, str):
            return item
        if isinstance(item, tuple) and len(item) == 2:
            endpoint, item = item
        if isinstance(item, dict):
            try:
                url: str = self.adapter.build(endpoint, item, method="GET")
                return url
            except Exception as exc:
                message = (
                    f"URL generator yielded {item!r} for {endpoint}, which builds no URL: {exc}"
                )
        else:
            message = f"URL generator yielded {item!r}: yield a URL path, a dict of values or (endpoint, values)"
        self.diagnostics.append(Diagnostic(file, line, 0, message))
        return None


def _source_of(function: Callable[..., Any]) -> tuple[str, int]:
    function = inspect.unwrap(function)
    try:
        return display_path(inspect.getsourcefile(function) or ""), function.__code__.co_firstlineno
    except (TypeError, AttributeError):
        return "", 0


def _links(page: _Page) -> list[str]:
    """Same-origin ``<a href>`` URL paths of a rendered page."""
    try:
        root = lxml.html.fromstring(page.html)
    except Exception:
        return []
    out = []
    base = f"http://{_HOST}{page.url}"
    for element in root.iter("a"):
        href = element.get("href")
        if not href:
            continue
        target = urlsplit(urljoin(base, href.strip()))
        if target.scheme in ("http", "https") and target.netloc == _HOST:
            out.append(target.path or "/")
    return out


def _is_runtime_rule(rule: str) -> bool:
    """Whether pushgen's runtime matches URLs by ``rule`` (a Quart rule with variables)."""
    try:
        return RoutePattern.parse(rule).kind == "rule"
    except RoutePatternError:
        return False  # a converter pushgen's runtime cannot match: exact routes only


def rule_routes(
    pages: list[tuple[str, str]], routes: dict[str, tuple[Asset, ...]]
) -> dict[str, tuple[Asset, ...]]:
    """Routes with each rule with arguments folded: its rendered URLs' common entries under the rule.

    ``pages`` are (url, rule) pairs; ``routes`` every rendered URL's entries. A
    URL whose entries are exactly its rule's is left to the rule route.
    """
    by_rule: dict[str, list[str]] = {}
    # Each rule once: parsing compiles it with werkzeug (about 1.4 ms), and a rule
    # has as many rendered URLs as its generator yields (0.28 s of a 0.78 s build
    # of 200 pages went to parsing the same rule again).
    foldable: dict[str, bool] = {}
    for url, rule in pages:
        if "<" in rule and url in routes:
            if rule not in foldable:
                foldable[rule] = _is_runtime_rule(rule)
            if foldable[rule]:
                by_rule.setdefault(rule, []).append(url)
    out = dict(routes)
    for rule, urls in by_rule.items():
        first = routes[urls[0]]
        common = tuple(a for a in first if all(a in routes[u] for u in urls[1:]))
        out[rule] = common
        for url in urls:
            if routes[url] == common:
                del out[url]
    return out


@dataclass(frozen=True, slots=True)
class AppPages:
    """A loaded app's pages and assets, through its test client (see :func:`app_pages`)."""

    render: Callable[[str], bytes | None]  # a URL's HTML, None when it is not a page
    read: Callable[[str], bytes | None]  # an asset by output path
    exists: Callable[[str], bool]
    size_of: Callable[[str], int | None]  # an asset's size by URL path
    diagnostics: list[Diagnostic]  # why a URL was not a page


@contextlib.contextmanager
def app_pages(config: SiteConfig, app: str | None = None) -> Iterator[AppPages]:
    """The app ``app`` (default ``config.app``) loaded as the build loads it, to render
    single URLs (``pushgen explain``). Raises :class:`BuildError` as an app build does."""
    text = app or config.app
    if not text:
        raise PushgenError("no app: give --app MODULE:APP or `app:` in pushgen.yaml")
    with runtime_quiet():
        crawl = _Crawl(load_app(AppSpec.parse(text), config.root), config.root, 1)
        try:

            def render(url: str) -> bytes | None:
                page = crawl.render(url)
                return page.html if page is not None else None

            yield AppPages(render, crawl.read, crawl.exists, crawl.size_of, crawl.diagnostics)
        finally:
            crawl.close()


@contextlib.contextmanager
def runtime_quiet() -> Iterator[None]:
    """Silence the app's pushgen extension (the "pushgen" logger) while the build renders it.

    It says what it makes of the manifest as it loads and serves ("no manifest
    yet; serving without hints"): news to a server, not to the build that is about
    to write that manifest and reports its problems itself.
    """
    logger = logging.getLogger("pushgen")
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


# The sources whose routes an app build may replace (pushgen/manifest/writer.py).
_APP: tuple[SourceKind, ...] = ("app",)
_APP_OR_BUILD: tuple[SourceKind, ...] = ("build", "app")


class AppSource:
    """A loaded Quart app as a source: its pages rendered, and its assets requested,
    through its test client on a private event loop (see the module docs)."""

    resolve_phase = "resolve"
    forks = False  # one event loop and one test client serve every request

    def __init__(self, app: Quart, config: SiteConfig, *, max_pages: int, command: str) -> None:
        self._app, self._config, self._max_pages = app, config, max_pages
        self._command = command
        self._crawl: _Crawl | None = None
        self._rendered: dict[str, _Page] = {}

    @property
    def crawl(self) -> _Crawl:
        assert self._crawl is not None, "the app's pages are rendered by open()"
        return self._crawl

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.crawl.diagnostics

    def open(self, progress: Progress) -> Sequence[str]:
        """Start the app and render its pages (phase ``render``); their URLs."""
        config = self._config
        self._crawl = crawl = _Crawl(
            self._app,
            config.root,
            self._max_pages,
            request_timeout=config.request_timeout,
            max_body=config.max_body,
        )
        with phase(progress, "render"):
            urls = [*crawl.rule_urls(), *config.urls, *crawl.generated_urls()]
            self._rendered = {page.url: page for page in crawl.crawl(urls, progress)}
        return list(self._rendered)

    def close(self) -> None:
        if self._crawl is not None:
            self._crawl.close()

    def scan_page(self, key: str) -> PageScan:
        html = self._rendered[key].html
        display = f"GET {key}"
        scan = scan_html(html, document_url(key), filename=display, limits=self._config.html_limits)
        return PageScan(key, display, scan, lambda: html)

    def read(self, relpath: str) -> bytes | None:
        return self.crawl.read(relpath)

    def exists(self, relpath: str) -> bool:
        return self.crawl.exists(relpath)

    def size_of(self, path: str) -> int | None:
        return self.crawl.size_of(path)

    def known(self) -> set[str]:
        return {rel for rel, (status, _) in self.crawl.assets.items() if status == 200}

    def fold(self, routes: dict[str, tuple[Asset, ...]]) -> dict[str, tuple[Asset, ...]]:
        """Each rule with arguments folded into its route (see :func:`rule_routes`)."""
        return rule_routes([(p.url, p.rule) for p in self._rendered.values()], routes)

    def target(self) -> ManifestTarget:
        # A plain `pushgen build` where pushgen.yaml names the app renders this same app.
        accepts = _APP_OR_BUILD if self._config.app else _APP
        return ManifestTarget(self._config.manifest, self._command, accepts)
