"""The Quart extension: push a route's assets, send 103 Early Hints, add ``Link`` headers.

One call sets it up, in the style of quart-cors::

    from quart import Quart
    import pushgen.quart

    app = Quart(__name__)
    pushgen.quart.init_app(app, manifest="push-manifest.yaml")

Each option is resolved from the keyword argument, then ``app.config["PUSHGEN_*"]``,
then the default:

========================  ================================  ====================================
keyword                   ``app.config`` key                default
========================  ================================  ====================================
``manifest``              ``PUSHGEN_MANIFEST``              ``push-manifest.yaml`` (*)
``push``                  ``PUSHGEN_PUSH``                  ``True``
``early_hints``           ``PUSHGEN_EARLY_HINTS``           ``True``
``early_hints_delay``     ``PUSHGEN_EARLY_HINTS_DELAY``     ``0.0`` s (the 103 at once)
``link_headers``          ``PUSHGEN_LINK_HEADERS``          ``True``
``max_pushes``            ``PUSHGEN_MAX_PUSHES``            ``10`` per request
``max_link_bytes``        ``PUSHGEN_MAX_LINK_BYTES``        ``8192`` bytes of Link values
``max_pushes_in_flight``  ``PUSHGEN_MAX_PUSHES_IN_FLIGHT``  ``32`` per connection
``base_path``             ``PUSHGEN_BASE_PATH``             ``/``
``pretty_urls``           ``PUSHGEN_PRETTY_URLS``           ``False``
``reload_interval``       ``PUSHGEN_RELOAD_INTERVAL``       ``1.0`` s (0 stops watching)
``manifest_required``     ``PUSHGEN_MANIFEST_REQUIRED``     ``True``
``push_digest``           ``PUSHGEN_PUSH_DIGEST``           ``True`` (a cookie of pushed assets)
========================  ================================  ====================================

(*) a relative manifest path is relative to ``app.root_path``, like other Quart paths.

``early_hints_delay`` holds the 103 back until a request has gone that many
seconds without the app starting its response, and sends none if the response
starts sooner (see :mod:`pushgen.runtime.middleware` for why: a 103 that leaves with its
200 costs the server and gains the client nothing). ``pushgen serve`` sets 2 ms
(:data:`pushgen.runtime.factory.DEFAULT_EARLY_HINTS_DELAY`).

The manifest is loaded and validated here, once, into a
:class:`~pushgen.runtime.headers.RouteTable`; a request costs a dictionary lookup. While
the app serves, a background task polls the file and swaps in a new table when it
changes; a broken file is logged (``file:line:col``) on the ``pushgen`` logger and
the last good table stays in service.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from quart import Quart, request
from quart.typing import ResponseTypes

from ..errors import Diagnostic, ManifestError, PushgenError
from ..links import normalise_base_path
from ..manifest import parse_manifest
from ..manifest.loader import manifest_text
from ..push_policy import NO_POLICY, Policy
from ..site_files import file_size, find_file
from .headers import RouteTable, build_route_table
from .middleware import ASGIApp, EarlyHintsMiddleware
from .options import SETTINGS, Options, check_keywords, keyword_signature, read_by, resolve

__all__ = [
    "DEFAULT_EARLY_HINTS_DELAY",
    "DEFAULT_MANIFEST",
    "DEFAULT_MAX_PUSHES",
    "DEFAULT_RELOAD_INTERVAL",
    "EXTENSION_KEY",
    "MAX_MANIFEST_BYTES",
    "URL_GENERATORS_KEY",
    "Options",
    "PushgenState",
    "init_app",
    "url_generator",
]

log = logging.getLogger("pushgen")
_VERSION_TTL = 1.0
_VERSION_CACHE_SIZE = 4096
_T = TypeVar("_T")

EXTENSION_KEY = "pushgen"
DEFAULT_MANIFEST: str = str(SETTINGS["manifest"].default)
DEFAULT_MAX_PUSHES: int = SETTINGS["max_pushes"].default
DEFAULT_RELOAD_INTERVAL: float = SETTINGS["reload_interval"].default
# A Quart app's views may think (a database, an API) before they answer, and a
# 103 sent while they do lets the browser fetch the page's assets meanwhile; so
# the extension sends it at once, as it always has. An app whose views answer at
# once can set a few milliseconds and save the 103 (pushgen.app does, for files).
DEFAULT_EARLY_HINTS_DELAY: float = SETTINGS["early_hints_delay"].default


class PushgenState:
    """The extension's state for one app, kept in ``app.extensions["pushgen"]``.

    ``table`` is the route table in service; it is replaced as a whole (never
    mutated), so a request always sees one consistent manifest. ``generation``
    counts successful loads.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.table = RouteTable()
        self.generation = 0
        self._signature: tuple[int, int, int] | None = None
        self._task: asyncio.Task[None] | None = None
        self._versions: dict[str, tuple[float, str]] = {}

    def version(self, path: str) -> str:
        """The version of the pushed file at URL ``path`` (its stat), for the push digest.

        Looked up at most once a second per path (the paths come from the
        manifest, so the cache is bounded by it), so a rebuilt asset is pushed
        again within a second, and a page request does no file system work.
        """
        now = time.monotonic()
        cached = self._versions.get(path)
        if cached is not None and now - cached[0] < _VERSION_TTL:
            return cached[1]
        text = ""
        output = self.options.output
        found = (
            None if output is None else find_file(output, path, base_path=self.options.base_path)
        )
        if found is not None and found.kind == "file":
            try:
                st = os.stat(found.path)
            except OSError:
                pass  # gone since the lookup: unversioned, like a path outside the output
            else:
                text = f"{st.st_mtime_ns}-{st.st_size}"
        if len(self._versions) >= _VERSION_CACHE_SIZE:
            self._versions.clear()
        self._versions[path] = (now, text)
        return text

    def _stat(self) -> tuple[int, int, int] | None:
        # inode catches an atomic replace; size and mtime catch an in-place edit.
        try:
            st = os.stat(self.options.manifest)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _size_of(self, path: str) -> int | None:
        output = self.options.output
        if output is None:
            return None
        return file_size(output, path, base_path=self.options.base_path)

    def _load(self) -> RouteTable:
        filename = str(self.options.manifest)
        manifest = parse_manifest(_read_manifest(filename), filename)
        return build_route_table(
            manifest,
            base_path=self.options.base_path,
            pretty_urls=self.options.pretty_urls,
            max_pushes=self.options.max_pushes,
            max_link_bytes=self.options.max_link_bytes,
            filename=str(self.options.manifest),
            size_of=self._size_of,
            policy=self.options.policy,
        )

    def _install(self, table: RouteTable, signature: tuple[int, int, int] | None) -> None:
        for diagnostic in table.diagnostics:
            log.warning("%s", diagnostic)
        self.table = table
        self._signature = signature
        self.generation += 1

    def load(self) -> None:
        """Load the manifest now; raise :class:`ManifestError` when it cannot be used.

        A missing file is not an error when ``manifest_required`` is off: the
        table stays empty until the file appears.
        """
        signature = self._stat()
        if signature is None and not self.options.manifest_required:
            log.warning(
                "pushgen: no manifest at %s yet; serving without hints", self.options.manifest
            )
            self._signature = None
            return
        self._install(self._load(), signature)
        log.info("pushgen: loaded %s (%d routes)", self.options.manifest, self.table.routes)

    async def reload(self) -> bool:
        """Reload the manifest; on failure log every problem and keep the current table.

        Returns True when a new table is in service.
        """
        signature = self._stat()
        try:
            table = await _in_daemon_thread(self._load)
        except ManifestError as exc:
            for diagnostic in exc.diagnostics:
                log.error("%s", diagnostic)
            return self._keep(signature)
        except Exception as exc:
            # Whatever else loading raised (a RecursionError from PyYAML's
            # pure-Python loader on deep nesting, a MemoryError): the watcher
            # must outlive it, so say what and where, and keep serving.
            log.error(
                "%s: error: cannot load the manifest: %s: %s",
                self.options.manifest,
                type(exc).__name__,
                exc,
            )
            return self._keep(signature)
        self._install(table, signature)
        log.info("pushgen: reloaded %s (%d routes)", self.options.manifest, table.routes)
        return True

    def _keep(self, signature: tuple[int, int, int] | None) -> bool:
        self._signature = signature  # do not report the same broken file again
        log.error(
            "pushgen: keeping the previous manifest (%d routes) in service", self.table.routes
        )
        return False

    async def watch(self) -> None:
        """Poll the manifest every ``reload_interval`` seconds; reload it when it changes."""
        interval = self.options.reload_interval
        # A file saved in place is empty for a moment (truncated, then written);
        # load only once two looks a short while apart agree.
        settle = min(interval, 0.1)
        while True:
            await asyncio.sleep(interval)
            signature = self._stat()
            if signature == self._signature:
                continue
            await asyncio.sleep(settle)
            if self._stat() == signature:
                try:
                    await self.reload()
                except Exception:
                    # reload() handles every failure of loading; this is a bug
                    # elsewhere, and one broken look must not end the watching.
                    log.exception("pushgen: reloading %s failed", self.options.manifest)
                    self._signature = signature

    async def _start(self) -> None:
        if self.options.reload_interval > 0 and self._task is None:
            self._task = asyncio.create_task(self.watch(), name="pushgen-manifest-watch")

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _after_request(self, response: ResponseTypes) -> ResponseTypes:
        # Pushes went out from the middleware before the app ran, and the 103 then
        # or while it thought (pushgen.runtime.middleware); what is left is the final
        # response's Link field, for HTTP/1.1 clients, proxies, CDNs, and HTTP/2
        # clients whose response came too soon for a 103. A 304, redirect or
        # error gets none.
        if response.status_code != 200 or request.method not in ("GET", "HEAD"):
            return response
        if not self.options.link_headers:
            return response
        scope = request.scope
        plan = self.table.lookup(scope["path"], scope.get("root_path", ""))
        if plan is not None and plan.link_header:
            # RFC 8288 §3: one more Link field is fine next to any the app set.
            response.headers.add("Link", plan.link_header)
        return response


# A manifest of 16,000 rules is about 1.2 MB; anything near this is not one.
MAX_MANIFEST_BYTES = 32 * 1024 * 1024


def _read_manifest(filename: str) -> str:
    """The text of the manifest at ``filename``; ManifestError when it cannot be one.

    Only a regular file is read, and at most :data:`MAX_MANIFEST_BYTES` of it:
    the open is non-blocking, so a FIFO put in the manifest's place (which would
    block a plain open until a writer came, and the watcher and the server's
    shutdown with it) is refused after one ``fstat``, as is a device like
    /dev/zero that would never end.
    """

    def problem(message: str) -> ManifestError:
        return ManifestError([Diagnostic(filename, 0, 0, message, "error")])

    try:
        fd = os.open(filename, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise problem(f"cannot read manifest: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise problem("the manifest is not a regular file; replace it with the YAML file")
        try:
            data = file.read(MAX_MANIFEST_BYTES + 1)
        except OSError as exc:
            raise problem(f"cannot read manifest: {exc.strerror}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise problem(f"the manifest is larger than {MAX_MANIFEST_BYTES // 2**20} MiB")
    return manifest_text(data, filename)


async def _in_daemon_thread(function: Callable[[], _T]) -> _T:
    """``await asyncio.to_thread(function)``, in a daemon thread of its own.

    ``asyncio.run`` waits for the default executor's threads when the server
    stops, so a load that never returned there (a pathological file) kept a
    stopped server from exiting. A daemon thread is left behind instead; its
    result, if it ever comes, goes nowhere.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def deliver(result: _T | None, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = function(), None
        except BaseException as exc:
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(deliver, result, error)

    threading.Thread(target=run, name="pushgen-manifest-load", daemon=True).start()
    return await future


def _options(app: Quart, kwargs: dict[str, Any], policy: Policy | None) -> Options:
    values = resolve(read_by("init_app"), kwargs, config=app.config)
    output = values.pop("output")
    return Options(
        **values
        | {
            # Relative paths are relative to the app, like other Quart paths.
            "manifest": Path(app.root_path, values["manifest"]),
            "output": None if output is None else Path(app.root_path, output),
            "base_path": normalise_base_path(values["base_path"]),
            "policy": policy if policy is not None else NO_POLICY,
        }
    )


def init_app(app: Quart, *, policy: Policy | None = None, **options: Any) -> Quart:
    """Make ``app`` push, hint and link each route's assets from a push manifest.

    ``options`` are the settings of the table above (pushgen.runtime.options);
    an unknown one is a :class:`~pushgen.errors.ConfigError` that names it and
    the nearest. Loads the manifest now (raising
    :class:`~pushgen.errors.ManifestError` with ``file:line:col`` diagnostics
    when it is missing or invalid), registers an ``after_request`` hook for
    pushes and ``Link`` headers, wraps ``app.asgi_app`` in
    :class:`~pushgen.runtime.middleware.EarlyHintsMiddleware` for 103 Early Hints
    and watches the manifest while the app serves. Returns ``app``. The state is
    ``app.extensions["pushgen"]`` (a :class:`PushgenState`). A bad option value
    is a :class:`~pushgen.errors.ConfigError` that names its ``PUSHGEN_*`` key.
    """
    if EXTENSION_KEY in app.extensions:
        raise PushgenError("pushgen.quart.init_app was already called for this app")
    check_keywords("init_app", options)
    resolved = _options(app, options, policy)
    state = PushgenState(resolved)
    state.load()
    app.extensions[EXTENSION_KEY] = state
    app.after_request(state._after_request)
    app.before_serving(state._start)
    app.after_serving(state._stop)
    if resolved.early_hints or resolved.push:
        inner: ASGIApp = app.asgi_app  # type: ignore[assignment]
        middleware = EarlyHintsMiddleware(
            inner,
            lambda: state.table,
            enabled=resolved.early_hints,
            push=resolved.push,
            hint_delay=resolved.early_hints_delay,
            digest=resolved.push_digest,
            version=state.version,
            max_in_flight=resolved.max_pushes_in_flight,
        )
        app.asgi_app = middleware  # type: ignore[assignment,method-assign]
    return app


# What help() and editors show: the settings as keywords (the table above).
init_app.__signature__ = keyword_signature(  # type: ignore[attr-defined]
    "init_app",
    inspect.Parameter("app", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Quart"),
    inspect.Parameter(
        "policy", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Policy | None"
    ),
)


URL_GENERATORS_KEY = "pushgen.url_generators"
_Generator = TypeVar("_Generator", bound=Callable[[], Any])


def url_generator(app: Quart, endpoint: str | None = None) -> Callable[[_Generator], _Generator]:
    """Register a function that yields the URLs ``pushgen build --app`` renders for a rule with arguments.

    Like Frozen-Flask's ``register_generator``: the function (sync or async, a
    generator or returning an iterable) yields URL paths (``"/blog/hello"``),
    dicts of the ``endpoint``'s values (the endpoint defaults to the function's
    name) or ``(endpoint, values)`` pairs. Only the registration lives here (a
    list in ``app.extensions``); the runtime never calls it.
    """

    def register(function: _Generator) -> _Generator:
        registered = app.extensions.setdefault(URL_GENERATORS_KEY, [])
        registered.append((endpoint or function.__name__, function))
        return function

    return register
