"""``pushgen verify``: serve the output, load every route in headless Chromium, judge each.

One server on 127.0.0.1 (a free port), in a thread of this process: Hypercorn
over HTTP/2 + TLS with the development certificate, which Chromium is told to
trust by its key (:func:`~pushgen.verify.browser.trust_args`; it ignores a 103
on a connection it does not trust), and the pushgen extension sending the 103
at once (``early_hints_delay`` 0). What is served is one of three sources:

* a pushgen site (``pushgen serve``'s app: its built output and manifest);
* ``--folder DIR``, a folder another generator built (``pushgen serve --folder``);
* ``--app MODULE:APP``, a Quart app or any other ASGI app (Starlette, FastAPI,
  Django), with pushgen's extension or middleware added when the app has none
  (:mod:`pushgen.verify.apps`).

Each route is loaded cold (a fresh browser context) twice, one load at a time:
with the manifest's hints, kept open past Chromium's unused-preload warning; and
with none (the request carries ``x-pushgen-verify: no-hints``, and the server
then sends no 103, no push and no ``Link`` header: what the page itself asks
for). One visit before them warms the server and the browser up and is not
counted. :func:`~pushgen.verify.compare.compare_route` judges the two loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..config import SiteConfig
from ..errors import PushgenError
from ..fsutil import display_path
from ..manifest import Manifest, load_manifest
from ..push_policy import Decision
from ..runtime.middleware import EARLY_HINT, PUSH, ASGIApp, Receive, Scope, Send
from ..runtime.server import listen
from ..site_files import file_size
from .browser import (
    UNUSED_PRELOAD_AFTER_MS,
    browser_version,
    find_chromium,
    load_page,
    open_chromium,
    playwright_errors,
    trust_args,
)
from .compare import RouteVerdict, compare_route
from .result import VerifyResult

__all__ = [
    "NO_HINTS",
    "Served",
    "Source",
    "VerifyError",
    "select_routes",
    "serve_for_browser",
    "verify",
]

# The request header that asks the verify server for a page without hints.
NO_HINTS = {"x-pushgen-verify": "no-hints"}
_NO_HINTS = (b"x-pushgen-verify", b"no-hints")


class VerifyError(PushgenError):
    """``pushgen verify`` cannot go on: no route to load, a page Chromium could not open."""


@dataclass(frozen=True, slots=True)
class Source:
    """What to serve: a pushgen ``site``, a built ``folder`` or an ``app`` (Quart or any ASGI)."""

    kind: Literal["site", "folder", "app"]
    path: Path  # the site, the folder, or the folder the app is imported from
    manifest: Path | None = None  # -m; the site's own (pushgen.yaml) when None
    base_path: str = "/"  # --folder only
    app: str = ""  # MODULE:APP, --app only


@dataclass(frozen=True, slots=True)
class _Prepared:
    app: Any  # the ASGI app, hints on
    manifest: Manifest
    manifest_path: Path
    config: SiteConfig | None  # gives the push policy and file sizes, when there is one


def _prepare(source: Source) -> _Prepared:
    """The app to serve and the manifest it serves, for ``source``."""
    if source.kind == "site":
        from ..config import load_config
        from ..runtime.factory import create_app

        config = load_config(source.path, manifest=source.manifest)
        app = create_app(
            config.root, output=config.output, manifest=config.manifest,
            push=True, early_hints=True, link_headers=True, early_hints_delay=0.0, environ={},
        )  # fmt: skip
        return _Prepared(app, load_manifest(display_path(config.manifest)), config.manifest, config)
    if source.kind == "folder":
        from ..runtime.factory import DEFAULT_STATIC_MAX_AGE, config_app
        from ..sources.folder import folder_config

        if source.manifest is None:
            raise VerifyError("--folder needs the manifest: -m MANIFEST (from `pushgen scan`)")
        config = folder_config(source.path, source.manifest, base_path=source.base_path)
        if not config.output.is_dir():
            raise VerifyError(f"no folder at {config.output}")
        app = config_app(config, static_max_age=DEFAULT_STATIC_MAX_AGE, early_hints_delay=0.0)
        return _Prepared(app, load_manifest(display_path(config.manifest)), config.manifest, config)
    return _prepare_app(source)


def _prepare_app(source: Source) -> _Prepared:
    from .apps import served_app

    served = served_app(source.path, source.app, source.manifest)
    return _Prepared(
        served.app, load_manifest(display_path(served.manifest)), served.manifest, None
    )


def _hints_switch(app: ASGIApp) -> ASGIApp:
    """``app``, except that a request carrying :data:`NO_HINTS` gets no 103, push or Link header."""

    async def switched(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _NO_HINTS not in scope.get("headers", ()):
            await app(scope, receive, send)
            return
        extensions = {
            k: v for k, v in (scope.get("extensions") or {}).items() if k not in (EARLY_HINT, PUSH)
        }

        async def plain(message: Any) -> None:
            if message["type"] in (EARLY_HINT, PUSH):
                return
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", ()) if n.lower() != b"link"]
                message = {**message, "headers": headers}
            await send(message)

        await app({**scope, "extensions": extensions}, receive, plain)

    return switched


@dataclass(frozen=True, slots=True)
class Served:
    """A verify server running: where Chromium finds it and what it serves."""

    origin: str  # https://localhost:PORT
    certfile: Path
    manifest: Manifest
    manifest_path: Path
    config: SiteConfig | None

    def decisions(self, route: str) -> list[Decision]:
        """The route's entries as the server sends them (rules and the site's policy applied)."""
        config = self.config
        if config is None:
            return self.manifest.decisions(route)
        return self.manifest.decisions(
            route,
            policy=config.policy,
            size_of=lambda path: file_size(config.output, path, base_path=config.base_path),
        )


@contextlib.contextmanager
def serve_for_browser(source: Source) -> Iterator[Served]:
    """Serve ``source`` on 127.0.0.1 (a free port) in a thread while the block runs."""
    from hypercorn.asyncio import serve as hypercorn_serve

    from ..runtime.certs import dev_certificate

    prepared = _prepare(source)
    cert = dev_certificate()
    listening = listen(
        host="127.0.0.1", port=0, certfile=cert.certfile, keyfile=cert.keyfile, access_log=False
    )
    listening.config.loglevel = "WARNING"  # no "Running on ...": the report is the output
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(
                hypercorn_serve(
                    _hints_switch(prepared.app),  # type: ignore[arg-type]
                    listening.config,
                    shutdown_trigger=stop.wait,
                )
            )
            _end_left_tasks(loop)
        except BaseException as exc:  # reported by the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="pushgen-verify-server", daemon=True)
    thread.start()
    try:
        yield Served(
            f"https://localhost:{listening.port}",
            cert.certfile,
            prepared.manifest,
            prepared.manifest_path,
            prepared.config,
        )
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()
    if failed:
        raise VerifyError(f"the verify server stopped: {failed[0]!r}")


def _end_left_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the app left running (a manifest watcher an app without lifespan
    support never stops): a task still pending when the loop closes is a warning."""
    left = asyncio.all_tasks(loop)
    for task in left:
        task.cancel()
    if left:
        loop.run_until_complete(asyncio.wait(left, timeout=10))


def select_routes(
    manifest: Manifest, pattern: str | None = None, limit: int | None = None
) -> list[str]:
    """The manifest's routes a browser can open (no rule pattern), sorted, matching ``pattern``.

    ``pattern`` is a glob over the route (``/docs/*``); ``limit`` keeps the first that many.
    """
    routes = sorted(r for r in manifest.routes if "<" not in r and "*" not in r)
    if pattern is not None:
        routes = [r for r in routes if fnmatch.fnmatchcase(r, pattern)]
    return routes[:limit] if limit is not None else routes


def verify(
    source: Source,
    *,
    routes: str | None = None,
    limit: int | None = None,
    progress: Callable[[RouteVerdict], None] | None = None,
) -> VerifyResult:
    """Load each route of ``source`` in headless Chromium and judge it against the manifest.

    ``routes`` (a glob) and ``limit`` pick the routes; ``progress`` sees each
    verdict as it is made. Raises :class:`VerifyError` when no route is left or
    a page cannot be opened, :class:`~pushgen.verify.browser.VerifyUnavailable`
    when Playwright or Chromium is missing.
    """
    playwright_error = playwright_errors()
    find_chromium()  # a PUSHGEN_CHROMIUM naming nothing fails before the server starts
    with serve_for_browser(source) as served:
        chosen = select_routes(served.manifest, routes, limit)
        if not chosen:
            known = counted_routes(served.manifest)
            raise VerifyError(
                f"{served.manifest_path}: no route to verify"
                + (f" matches {routes!r} ({known})" if routes else f" ({known})")
            )
        verdicts: list[RouteVerdict] = []
        with open_chromium(trust_args(served.certfile)) as browser:
            version = browser_version(browser)
            for route in chosen:
                try:
                    if not verdicts:  # a warm-up visit first, not counted
                        load_page(browser, served.origin, route)
                    hinted = load_page(
                        browser, served.origin, route, after_load_ms=UNUSED_PRELOAD_AFTER_MS
                    )
                    plain = load_page(browser, served.origin, route, headers=NO_HINTS)
                except playwright_error as exc:
                    raise VerifyError(f"{route}: Chromium could not load it: {exc}") from None
                verdict = compare_route(hinted, plain, served.decisions(route))
                if progress is not None:
                    progress(verdict)
                verdicts.append(verdict)
    return VerifyResult(display_path(served.manifest_path), version, tuple(verdicts))


def counted_routes(manifest: Manifest) -> str:
    """``6 routes in the manifest``."""
    n = len(manifest.routes)
    return f"{n} route{'s' if n != 1 else ''} in the manifest"
