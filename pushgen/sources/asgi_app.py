"""Any ASGI app (Starlette, FastAPI, ...) as the source: its pages rendered through httpx.

``pushgen build --app MODULE:APP`` on an app that is not Quart (which has its own
source, pushgen/sources/quart_app.py) renders it in memory through httpx's
``ASGITransport``: no server, no network. The pages are found in the app's own
router (pushgen/sources/asgi_routes.py: Starlette's and FastAPI's ``app.routes``,
Django's URLconf):

1. every route answering GET without parameters;
2. for routes with parameters (``/blog/{slug}``), the URLs listed in pushgen.yaml
   (``urls:``), as for a Quart app.

An app without a router pushgen can read (a bare ASGI callable) renders ``/``
and ``urls:``. A route with parameters becomes a rule in Quart syntax
(``/blog/<slug>``, ``/item/<int:id>``), folded as a Quart app's rules are
(:func:`pushgen.sources.quart_app.rule_routes`). Assets are requested from the
app too, so what is scanned is what is served. A view that raises, answers an
error, a redirect or no HTML, takes longer than ``request_timeout`` or sends more
than ``max_body`` bytes is a warning naming the URL and the view's ``file:line``.

httpx is imported here only: pushgen's runtime never imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic
from ..manifest.writer import SourceKind
from ..model import Asset
from ..progress import Progress, phase
from .asgi_routes import AsgiRoute, asgi_routes
from .protocol import ManifestTarget, PageScan, scan_rendered
from .quart_app import rule_routes
from .quart_client import AppAsset, user_frame

__all__ = ["AsgiAppSource", "AsgiClient", "check_asgi", "started_client"]

_BASE = "http://localhost"
_REDIRECTS = (301, 302, 303, 307, 308)


def check_asgi(app: object, what: str) -> Callable[..., Any]:
    """``app`` if it is an ASGI app (an ``async`` callable); a located :class:`BuildError` if not."""
    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004 (its coroutine-ness is asked)
    if call is None or not inspect.iscoroutinefunction(inspect.unwrap(call)):
        message = (
            f"names an object of type {type(app).__name__}, not a Quart app nor any ASGI app"
            " (an async callable: Starlette, FastAPI, Django's get_asgi_application())"
        )
        raise BuildError([Diagnostic(what, 0, 0, message, "error")])
    return app  # type: ignore[return-value]


class _Failed(Exception):
    """A request given up: its message is the warning's."""


class _Lifespan:
    """The ASGI lifespan protocol, which httpx's transport does not run: an app's startup
    (a database pool, pushgen's manifest watcher) before its pages, its shutdown after.

    https://asgi.readthedocs.io/en/latest/specs/lifespan.html: an app that raises
    (Django's handler) or returns at once does not support it, which is fine.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[Any] | None = None

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        with contextlib.suppress(Exception):  # raising: no lifespan support
            await self.app(scope, self.inbox.get, self.outbox.put)
        await self.outbox.put({"type": "lifespan.unsupported"})

    async def _step(self, event: str) -> str | None:
        """Send ``lifespan.EVENT``; why it failed (the app's message), None when it did not."""
        await self.inbox.put({"type": f"lifespan.{event}"})
        answer = await self.outbox.get()
        if answer["type"] == f"lifespan.{event}.failed":
            self.task = None  # the app is done with its lifespan: nothing to shut down
            # Starlette sends the whole traceback: its last line says what failed.
            lines = str(answer.get("message") or "failed").strip().splitlines()
            return lines[-1] if lines else "failed"
        if answer["type"] == "lifespan.unsupported":
            self.task = None
        return None

    async def startup(self) -> str | None:
        self.task = asyncio.get_running_loop().create_task(self._run())
        return await self._step("startup")

    async def shutdown(self) -> str | None:
        return await self._step("shutdown") if self.task is not None else None


@dataclass(frozen=True, slots=True)
class _Answer:
    """An app's whole answer to a GET."""

    status: int
    content_type: str
    location: str
    body: bytes


class AsgiClient:
    """An ASGI app behind httpx's ``ASGITransport``, on a private event loop, with bounds."""

    def __init__(self, app: Callable[..., Any], *, request_timeout: float, max_body: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=_BASE)
        self.request_timeout, self.max_body = request_timeout, max_body
        self.assets: dict[str, AppAsset] = {}
        self.lifespan = _Lifespan(app)
        self.startup_failure = self.loop.run_until_complete(self._bounded(self.lifespan.startup()))

    async def _bounded(self, step: Any) -> str | None:
        try:
            async with asyncio.timeout(self.request_timeout):
                result: str | None = await step
                return result
        except TimeoutError:
            return f"no answer in {self.request_timeout:g} s"

    def close(self) -> None:
        """Shut the app down (lifespan), then end what it left running: a task left
        pending when the loop closes is a warning on stderr."""
        try:
            self.loop.run_until_complete(self._bounded(self.lifespan.shutdown()))
            self.loop.run_until_complete(self.client.aclose())
            left = asyncio.all_tasks(self.loop)
            for task in left:
                task.cancel()
            if left:
                self.loop.run_until_complete(asyncio.wait(left, timeout=self.request_timeout))
        finally:
            self.loop.close()

    def get(self, path: str) -> _Answer:
        """The answer to GET ``path``; raises :class:`_Failed` past the bounds, and what the
        app raised."""
        return self.loop.run_until_complete(self._get(path))

    async def _get(self, path: str) -> _Answer:
        deadline = asyncio.timeout(self.request_timeout)
        try:
            async with deadline, self.client.stream("GET", path) as response:
                body = bytearray()
                # Read in the chunks the app sends, abandoned past the bound (memory stays bounded).
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > self.max_body:
                        raise _Failed(
                            f"sent more than {self.max_body} bytes; skipped, the rest unread. "
                            "If the page is that big, raise max_body in pushgen.yaml or --max-body"
                        )
        except TimeoutError:
            if not deadline.expired():
                raise
            raise _Failed(
                f"no full answer in {self.request_timeout:g} s (it never answers, or streams "
                "forever); skipped. If it is only slow, raise request_timeout in pushgen.yaml "
                "or --request-timeout"
            ) from None
        headers = response.headers
        return _Answer(
            response.status_code,
            headers.get("content-type", "").split(";")[0].strip(),
            headers.get("location", ""),
            bytes(body),
        )

    def asset(self, relpath: str) -> AppAsset:
        """An asset as the app serves it, by output path (a failed request: not found)."""
        if relpath not in self.assets:
            try:
                answer = self.get("/" + quote(os.fsencode(relpath), safe="/"))
                self.assets[relpath] = AppAsset(answer.status, answer.body)
            except Exception:
                self.assets[relpath] = AppAsset(500, b"")
        return self.assets[relpath]

    def read(self, relpath: str) -> bytes | None:
        """An asset's bytes by output path, None when the app does not serve it."""
        asset = self.asset(relpath)
        return asset.data if asset.found else None

    def exists(self, relpath: str) -> bool:
        return self.asset(relpath).found

    def size_of(self, path: str) -> int | None:
        """An asset's size by URL path (its query left out), None when it is not served."""
        asset = self.asset(path.split("?", 1)[0].lstrip("/"))
        return len(asset.data) if asset.found else None


def started_client(app: Callable[..., Any], config: SiteConfig) -> AsgiClient:
    """``app`` behind a client with ``config``'s bounds, its lifespan started; a
    :class:`BuildError` when its startup fails (the client closed)."""
    client = AsgiClient(app, request_timeout=config.request_timeout, max_body=config.max_body)
    failed = client.startup_failure
    if failed is not None:
        client.close()
        message = f"--app: the app's lifespan startup failed: {failed}"
        raise BuildError([Diagnostic("app", 0, 0, message, "error")])
    return client


@dataclass(frozen=True, slots=True)
class _Page:
    """A rendered page: the route's rule that answered it, its HTML."""

    rule: str
    html: bytes


class AsgiAppSource:
    """A loaded ASGI app as a source: its pages rendered, and its assets requested,
    through httpx's ASGITransport (see the module docs)."""

    resolve_phase = "resolve"
    resolve_unit = "page"
    forks = False  # one event loop serves every request

    def __init__(self, app: Callable[..., Any], config: SiteConfig, *, command: str) -> None:
        self._app, self._config, self._command = app, config, command
        self._client: AsgiClient | None = None
        self._diagnostics: list[Diagnostic] = []
        self._rendered: dict[str, _Page] = {}
        self._routes: list[AsgiRoute] = []

    @property
    def client(self) -> AsgiClient:
        assert self._client is not None, "the app's pages are rendered by open()"
        return self._client

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self._diagnostics

    def open(self, progress: Progress) -> Sequence[str]:
        """Render the router's pages and ``urls:`` (phase ``render``); their URLs."""
        config = self._config
        self._client = started_client(self._app, config)
        routes = asgi_routes(self._app)
        self._routes = routes or []
        plain = [r.rule for r in self._routes if "<" not in r.rule]
        urls = ["/"] if routes is None else plain
        with phase(progress, "render"):
            for url in dict.fromkeys([*urls, *config.urls]):
                self._render(url)
                progress.advance("render", len(self._rendered))
        return list(self._rendered)

    def _route(self, url: str) -> AsgiRoute | None:
        return next((r for r in self._routes if r.pattern.match(url)), None)

    def _render(self, url: str) -> None:
        """Render ``url`` into the pages, or warn why not (at its view's ``file:line``)."""
        route = self._route(url) or AsgiRoute(url, re.compile(""), "app")
        where = f"GET {url}" + (f" (route {route.rule})" if route.rule != url else "")
        file, line = route.file or "app", route.line
        try:
            answer = self.client.get(url)
        except _Failed as failed:
            self._warn(file, line, f"{where}: {failed}")
            return
        except Exception as exc:
            raised = user_frame(exc.__traceback__, self._config.root)
            message = f"{where}: the view raised {type(exc).__name__}: {exc}"
            self._warn(raised.file or file, raised.line or line, message)
            return
        if answer.status in _REDIRECTS:
            self._warn(file, line, f"{where}: redirects to {answer.location}; skipped")
        elif answer.status != 200:
            self._warn(file, line, f"{where}: answered {answer.status}; skipped")
        elif answer.content_type != "text/html":
            kind = answer.content_type or "no type"
            self._warn(file, line, f"{where}: answered {kind}, not HTML; skipped")
        else:
            self._rendered[url] = _Page(route.rule, answer.body)

    def _warn(self, file: str, line: int, message: str) -> None:
        self._diagnostics.append(Diagnostic(file, line, 0, message))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def scan_page(self, key: str) -> PageScan:
        return scan_rendered(key, self._rendered[key].html, self._config.html_limits)

    def read(self, relpath: str) -> bytes | None:
        return self.client.read(relpath)

    def exists(self, relpath: str) -> bool:
        return self.client.exists(relpath)

    def size_of(self, path: str) -> int | None:
        return self.client.size_of(path)

    def known(self) -> set[str]:
        return {rel for rel, asset in self.client.assets.items() if asset.found}

    def fold(self, routes: dict[str, tuple[Asset, ...]]) -> dict[str, tuple[Asset, ...]]:
        """Each route with parameters folded into its rule (see :func:`rule_routes`)."""
        return rule_routes([(url, page.rule) for url, page in self._rendered.items()], routes)

    def target(self) -> ManifestTarget:
        # As a Quart app's: a plain `pushgen build` with `app:` renders this same app.
        accepts: tuple[SourceKind, ...] = ("build", "app") if self._config.app else ("app",)
        return ManifestTarget(self._config.manifest, self._command, accepts)
