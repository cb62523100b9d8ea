"""ASGI middleware that answers a page request with 103 Early Hints before the app runs.

A 103 (RFC 8297) lets the browser start fetching a page's assets while the server
is still producing the page. ASGI servers offer it through the
``http.response.early_hint`` extension
(https://asgi.readthedocs.io/en/latest/extensions.html#early-hints): the app sends
``{"type": "http.response.early_hint", "links": [...]}`` *before*
``http.response.start``. Quart has no API for it, so this wraps the ASGI app:
the hint goes out first, then every message of the wrapped app passes through
untouched (nothing is buffered).

Hypercorn offers the extension on HTTP/2 and HTTP/3 only; on HTTP/1.1 the final
response's ``Link`` header (added by :mod:`pushgen.quart`) carries the same hints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .headers import RouteTable

__all__ = ["EARLY_HINT", "ASGIApp", "EarlyHintsMiddleware", "Receive", "Scope", "Send"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EARLY_HINT = "http.response.early_hint"


class EarlyHintsMiddleware:
    """Wrap ``app``; send a 103 for each GET of a route that has hints.

    ``table`` is called on every request and returns the current
    :class:`~pushgen.headers.RouteTable`, so a reloaded manifest takes effect
    without rebuilding the middleware. ``enabled`` turns the hints off without
    unwrapping.
    """

    def __init__(
        self, app: ASGIApp, table: Callable[[], RouteTable], *, enabled: bool = True
    ) -> None:
        self.app = app
        self.table = table
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the 103 when it applies, then hand the request to the wrapped app."""
        if (
            self.enabled
            and scope["type"] == "http"
            # A 103 only helps a request whose response the browser will parse
            # for subresources; HEAD and unsafe methods get none.
            and scope.get("method") == "GET"
            and EARLY_HINT in (scope.get("extensions") or {})
        ):
            plan = self.table().lookup(scope.get("path", ""), scope.get("root_path", ""))
            if plan is not None and plan.links:
                # Must precede http.response.start: a 1xx after the final
                # response head is a protocol error (RFC 9110 §15.2).
                await send({"type": EARLY_HINT, "links": list(plan.links)})
        await self.app(scope, receive, send)
