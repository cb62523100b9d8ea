"""ASGI middleware that pushes a page's assets and sends 103 Early Hints before the app runs.

For a GET of a route in the manifest, before the wrapped app produces anything:

1. one ``http.response.push`` per pushed entry (the ASGI HTTP/2 server push
   extension, https://asgi.readthedocs.io/en/latest/extensions.html#http-2-server-push);
2. one ``http.response.early_hint`` with the route's ``Link`` values (RFC 8297,
   https://asgi.readthedocs.io/en/latest/extensions.html#early-hints);
3. then every message of the app passes through untouched (nothing is buffered).

Pushes go first because RFC 9113 §8.4 asks for PUSH_PROMISE frames before any
frame that refers to the promised resources: a 103 naming them before their
promises makes a client fetch them itself, and download them twice. Sending both
before the app runs also lets a slow dynamic route's assets travel during its
think time. Quart has no API for either, hence middleware.

Hypercorn offers both extensions on HTTP/2 and HTTP/3 only; on HTTP/1.1 the final
response's ``Link`` header (added by :mod:`pushgen.quart`) carries the hints. A
conditional GET (``If-None-Match``/``If-Modified-Since``) comes from a client with
the page cached, and most likely its assets too: it gets hints but no pushes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .headers import RouteTable

__all__ = ["EARLY_HINT", "PUSH", "ASGIApp", "EarlyHintsMiddleware", "Receive", "Scope", "Send"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EARLY_HINT = "http.response.early_hint"
PUSH = "http.response.push"
# Request headers a pushed request copies from the page's request (the set Quart's
# make_push_promise copies): content negotiation and the client's identity.
_PUSH_HEADERS = frozenset(
    {b"accept", b"accept-encoding", b"accept-language", b"cache-control", b"user-agent"}
)
_CONDITIONAL = frozenset({b"if-none-match", b"if-modified-since"})


class EarlyHintsMiddleware:
    """Wrap ``app``; push and hint each GET of a route that has assets.

    ``table`` is called on every request and returns the current
    :class:`~pushgen.headers.RouteTable`, so a reloaded manifest takes effect
    without rebuilding the middleware. ``push`` and ``enabled`` (the 103) turn
    either off without unwrapping.
    """

    def __init__(
        self,
        app: ASGIApp,
        table: Callable[[], RouteTable],
        *,
        enabled: bool = True,
        push: bool = False,
    ) -> None:
        self.app = app
        self.table = table
        self.enabled = enabled
        self.push = push

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Push and hint when it applies, then hand the request to the wrapped app."""
        # Pushes and hints only help a request whose response the browser will
        # parse for subresources; HEAD and unsafe methods get none.
        if scope["type"] == "http" and scope.get("method") == "GET":
            extensions = scope.get("extensions") or {}
            can_push = self.push and PUSH in extensions
            can_hint = self.enabled and EARLY_HINT in extensions
            if can_push or can_hint:
                plan = self.table().lookup(scope.get("path", ""), scope.get("root_path", ""))
                if plan is not None:
                    if can_push and plan.push_paths:
                        await self._push(scope, send, plan.push_paths)
                    if can_hint and plan.links:
                        # Must precede http.response.start: a 1xx after the final
                        # response head is a protocol error (RFC 9110 §15.2).
                        await send({"type": EARLY_HINT, "links": list(plan.links)})
        await self.app(scope, receive, send)

    @staticmethod
    async def _push(scope: Scope, send: Send, paths: tuple[str, ...]) -> None:
        request_headers = scope.get("headers") or []
        if any(name in _CONDITIONAL for name, _ in request_headers):
            return
        headers = [(name, value) for name, value in request_headers if name in _PUSH_HEADERS]
        for path in paths:
            # A client that disabled push (SETTINGS_ENABLE_PUSH=0) is the server's
            # to handle: Hypercorn drops the promise.
            await send({"type": PUSH, "path": path, "headers": headers})
