"""A Quart app's pages and files through its test client, within bounds (``build --app``).

The crawl renders what Frozen-Flask would freeze (see pushgen/sources/quart_app.py) on a
private event loop, with no server and no network: redirects are followed within
the app, links of rendered pages queued, and each request is bounded in time
(``request_timeout``) and size (``max_body``: the body is taken in the chunks the
app sends and abandoned past the bound, so memory stays bounded). What goes wrong
becomes a warning naming the URL, the rule and the view's ``file:line``.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import sysconfig
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import lxml.html
from quart import Quart
from quart.testing.connections import TestHTTPConnection

from ..config import DEFAULT_MAX_BODY, DEFAULT_REQUEST_TIMEOUT
from ..errors import Diagnostic, PushgenError
from ..fsutil import display_path
from ..progress import Progress
from ..runtime.quart import URL_GENERATORS_KEY
from ..urls import LOCAL_ORIGIN

__all__ = ["AppAsset", "Crawl", "RenderedPage", "RuleMatch", "Where", "user_frame"]

_MAX_REDIRECTS = 10
_HOST = urlsplit(LOCAL_ORIGIN).netloc


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


@dataclass(frozen=True, slots=True)
class Where:
    """A place in the user's code; an empty file and line 0 when it is not known."""

    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The app's GET rule that answers a URL path, and its view's endpoint."""

    endpoint: str
    rule: str


@dataclass(frozen=True, slots=True)
class AppAsset:
    """A file as the app serves it: the status and, for a 200, the bytes."""

    status: int
    data: bytes

    @property
    def found(self) -> bool:
        return self.status == 200


def user_frame(tb: TracebackType | None, root: Path) -> Where:
    """The innermost frame of ``tb`` in a file under ``root`` (the user's code), else nowhere.

    Installed code is never the user's, even under ``root``: a project's own ``.venv``
    holds pushgen, the framework and the standard library's copies, and a checkout of
    pushgen run from its own folder holds pushgen. A frame there would name the line
    that imported the app, not what the user must fix.
    """
    mine = [
        frame
        for frame in traceback.extract_tb(tb)
        if frame.filename
        and not frame.filename.startswith("<")
        and _is_users(Path(frame.filename).resolve(), root)
    ]
    if not mine:
        return Where()
    return Where(display_path(mine[-1].filename), mine[-1].lineno or 0)


def _is_users(file: Path, root: Path) -> bool:
    """Whether ``file`` is the user's code: under ``root`` and not installed code."""
    return file.is_relative_to(root) and not any(
        file.is_relative_to(place) for place in _installed_code()
    )


def _installed_code() -> tuple[Path, ...]:
    """Folders of code nobody edits for their app: pushgen's package and the interpreter's."""
    places = {Path(__file__).resolve().parents[1], Path(sys.prefix), Path(sys.base_prefix)}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(name)
        if path:
            places.add(Path(path))
    return tuple(place.resolve() for place in places)


@dataclass(frozen=True, slots=True)
class RenderedPage:
    url: str
    rule: str  # the app's rule that answered it
    html: bytes


class Crawl:
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
        self.assets: dict[str, AppAsset] = {}

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.test_app.shutdown())
        finally:
            self.loop.close()

    # -- where things are ---------------------------------------------------

    def view_location(self, endpoint: str) -> Where:
        function = self.app.view_functions.get(endpoint)
        return _source_of(function) if function is not None else Where()

    def warn(self, endpoint: str, message: str, line: int = 0, file: str = "") -> None:
        view = self.view_location(endpoint)
        self.diagnostics.append(
            Diagnostic(file or view.file or "app", line or view.line, 0, message)
        )

    def match(self, path: str) -> RuleMatch | None:
        """The GET rule answering ``path``, None when none does."""
        try:
            rule, _ = self.adapter.match(path, method="GET", return_rule=True)
        except Exception:  # NotFound, MethodNotAllowed, RequestRedirect
            return None
        return RuleMatch(rule.endpoint, rule.rule)

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
        where = user_frame(exc.__traceback__, self.root)
        return _Failure(f"the view raised {type(exc).__name__}: {exc}", where.file, where.line)

    def body(self, response: Any) -> bytes:
        data: bytes = self.loop.run_until_complete(response.get_data(as_text=False))
        return data

    def asset(self, relpath: str) -> AppAsset:
        """An asset as the app serves it, by output path."""
        if relpath not in self.assets:
            path = "/" + quote(os.fsencode(relpath), safe="/")
            try:
                response = self.get(path)
                status = response.status_code
                data = self.body(response) if status == 200 else b""
            except Exception as raised:
                status, data = 500, b""
                if isinstance(_leaf(raised), _NoAnswer | _BodyOverLimit):
                    matched = self.match(path) or RuleMatch("", "")
                    endpoint = matched.endpoint
                    what = f" (rule {matched.rule}, view {endpoint})" if endpoint else ""
                    self.warn(endpoint, f"GET {path}{what}: {self.failure(raised).message}")
            self.assets[relpath] = AppAsset(status, data)
        return self.assets[relpath]

    def exists(self, relpath: str) -> bool:
        return self.asset(relpath).found

    def read(self, relpath: str) -> bytes | None:
        asset = self.asset(relpath)
        return asset.data if asset.found else None

    def size_of(self, path: str) -> int | None:
        asset = self.asset(path.split("?", 1)[0].lstrip("/"))
        return len(asset.data) if asset.found else None

    def crawl(self, urls: list[str], progress: Progress) -> list[RenderedPage]:
        """Render ``urls``, then the links of rendered pages a GET rule answers, up to ``max_pages``."""
        queue = deque(dict.fromkeys(urls))
        queued = set(queue)
        rendered: list[RenderedPage] = []
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

    def render(self, url: str) -> RenderedPage | None:
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
        endpoint, rule = matched.endpoint, matched.rule
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
                return RenderedPage(current, rule, data)
            final = self.match(current)
            return RenderedPage(current, final.rule if final else rule, data)

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
            source = _source_of(function)
            try:
                for item in self._items(function):
                    url = self._url(endpoint, item, source)
                    if url is not None:
                        urls.append(url)
            except Exception as exc:
                raised = user_frame(exc.__traceback__, self.root)
                self.diagnostics.append(
                    Diagnostic(
                        raised.file or source.file,
                        raised.line or source.line,
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

    def _url(self, endpoint: str, item: Any, source: Where) -> str | None:
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
        self.diagnostics.append(Diagnostic(source.file, source.line, 0, message))
        return None


def _source_of(function: Callable[..., Any]) -> Where:
    """Where ``function`` (a view, a URL generator) is defined."""
    function = inspect.unwrap(function)
    try:
        return Where(
            display_path(inspect.getsourcefile(function) or ""), function.__code__.co_firstlineno
        )
    except (TypeError, AttributeError):
        return Where()


def _links(page: RenderedPage) -> list[str]:
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
