"""Push, 103 Early Hints and ``Link`` headers for any ASGI app, from a push manifest.

One middleware, in the form ASGI middleware take (the wrapped app first, then
keywords)::

    # Starlette, FastAPI
    from starlette.middleware import Middleware
    from pushgen.asgi import PushgenMiddleware

    app = Starlette(routes=..., middleware=[Middleware(PushgenMiddleware, manifest="push-manifest.yaml")])

    # Django (asgi.py)
    application = PushgenMiddleware(get_asgi_application(), manifest="push-manifest.yaml")

What a request gets is :class:`~pushgen.runtime.middleware.EarlyHintsMiddleware`'s
to decide, the same as under the Quart extension (:mod:`pushgen.quart`, built on
it): a GET of a route in the manifest (exact routes and URL rules) gets its pushes
where the server offers the ASGI ``http.response.push`` extension, a 103 where it
offers ``http.response.early_hint``, and the route's ``Link`` field on a 200 (GET
and HEAD) under any server. Everything else passes untouched: other methods,
websockets, lifespan messages, and every body message however it streams (only
the response head gains fields; a ``Link`` field the app set stays, ours next to it).

The settings are the Quart extension's (pushgen.runtime.options, the table in
:mod:`pushgen.runtime.quart`), each from its keyword, then the ``PUSHGEN_*``
environment variable, then its default; relative paths are relative to the
working directory. The manifest is loaded when the middleware is built (a
:class:`~pushgen.errors.ManifestError` with ``file:line:col`` diagnostics when it
is missing or invalid, unless ``manifest_required=False``) and watched from the
first request (or lifespan startup) on, like the extension's
(:mod:`pushgen.runtime.manifest_state`).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .links import normalise_base_path
from .push_policy import NO_POLICY, Policy
from .runtime.manifest_state import ManifestState
from .runtime.middleware import ASGIApp, EarlyHintsMiddleware, Message, Receive, Scope, Send
from .runtime.options import (
    Options,
    Reader,
    check_keywords,
    keyword_signature,
    read_by,
    resolve,
)

__all__ = ["PushgenMiddleware"]

_READER: Reader = "PushgenMiddleware"


def _options(
    given: Mapping[str, Any], environ: Mapping[str, str], policy: Policy | None
) -> Options:
    values = resolve(read_by(_READER), given, environ=environ)
    output = values.pop("output")
    return Options(
        **values
        | {
            "manifest": Path(values["manifest"]),
            "output": None if output is None else Path(output),
            "base_path": normalise_base_path(values["base_path"]),
            "policy": policy if policy is not None else NO_POLICY,
        }
    )


class PushgenMiddleware:
    """Wrap the ASGI ``app``: push, hint and link each route's assets from a push manifest.

    ``options`` are the runtime settings (``manifest``, ``push``, ``early_hints``,
    ``early_hints_delay``, ``link_headers``, ...; see :mod:`pushgen.runtime.quart`);
    an unknown one is a :class:`~pushgen.errors.ConfigError` that names it and the
    nearest, as is a bad value. ``policy`` is the site's push policy
    (pushgen.yaml's), under the manifest rules' own. ``environ`` replaces
    ``os.environ`` as the settings' second source. ``state`` is the manifest in
    service.
    """

    def __init__(
        self,
        app: ASGIApp,
        # Refused below. Only *args and **kwargs, no named keyword: so type checkers
        # take this class for Starlette's Middleware(cls, **options), whose factory
        # protocol (a ParamSpec) matches nothing narrower.
        *positional: Any,
        **options: Any,
    ) -> None:
        if positional:
            raise ConfigError(
                f"{_READER}() takes its settings as keywords (manifest=...), "
                f"not {len(positional)} more positional argument(s)"
            )
        policy: Policy | None = options.pop("policy", None)
        environ: Mapping[str, str] | None = options.pop("environ", None)
        check_keywords(_READER, options)
        resolved = _options(options, os.environ if environ is None else environ, policy)
        self.app = app
        self.state = ManifestState(resolved)
        self.state.load()
        self._watch = resolved.reload_interval > 0
        self._inner: ASGIApp = app
        if resolved.early_hints or resolved.push or resolved.link_headers:
            self._inner = EarlyHintsMiddleware(
                app,
                lambda: self.state.table,
                enabled=resolved.early_hints,
                push=resolved.push,
                hint_delay=resolved.early_hints_delay,
                digest=resolved.push_digest,
                version=self.state.version,
                max_in_flight=resolved.max_pushes_in_flight,
                link_headers=resolved.link_headers,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the wrapped app through pushgen's middleware."""
        if self._watch and not self.state.watching:
            # Not every server runs the lifespan protocol, nor every app accepts it
            # (Django's handler refuses it): a request starts the watcher, and starts
            # it again on a new event loop (the old loop's task ended with it).
            await self.state.start()
        if scope["type"] == "lifespan":
            receive = _LifespanReceive(receive, self.state)
        await self._inner(scope, receive, send)


class _LifespanReceive:
    """The app's lifespan ``receive``, which stops the manifest watcher at shutdown.

    The messages pass as they came: only the app answers the server.
    """

    __slots__ = ("_receive", "_state")

    def __init__(self, receive: Receive, state: ManifestState) -> None:
        self._receive = receive
        self._state = state

    async def __call__(self) -> Message:
        message = await self._receive()
        if message.get("type") == "lifespan.shutdown":
            await self._state.stop()
        return message


# What help() and editors show: the settings as keywords.
PushgenMiddleware.__init__.__signature__ = keyword_signature(  # type: ignore[attr-defined]
    _READER,
    inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    inspect.Parameter("app", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="ASGIApp"),
    inspect.Parameter(
        "policy", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Policy | None"
    ),
    inspect.Parameter(
        "environ",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation="Mapping[str, str] | None",
    ),
)
