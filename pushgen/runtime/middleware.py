"""ASGI middleware that pushes a page's assets and sends 103 Early Hints while the app runs.

For a GET of a route in the manifest:

1. one ``http.response.push`` per pushed entry (the ASGI HTTP/2 server push
   extension, https://asgi.readthedocs.io/en/latest/extensions.html#http-2-server-push),
   at once, before the wrapped app runs;
2. one ``http.response.early_hint`` with the route's ``Link`` field (RFC 8297,
   https://asgi.readthedocs.io/en/latest/extensions.html#early-hints): with
   ``hint_delay=0`` at once, before the app runs; with ``hint_delay > 0`` only
   if the app has not started its response (``http.response.start``) that many
   seconds after it began. Its ``links`` hold one value, every hint
   comma-joined as in the 200's field (RFC 8288 §3), so the 103 is one header
   for the server to check and compress;
3. every message of the app passes through untouched (nothing is buffered),
   but for its response head, which gets the route's ``Link`` field (on a 200)
   and the push digest's cookie appended.

Pushes go first because RFC 9113 §8.4 asks for PUSH_PROMISE frames before any
frame that refers to the promised resources: a 103 naming them before their
promises makes a client fetch them itself, and download them twice. Pushing
before the app runs also lets a slow dynamic route's assets travel during its
think time. Quart has no API for either, hence middleware.

Why the 103 may wait: a 103 helps most while the final response is late. For a
static page the response starts at once and its ``Link`` field carries the same
hints; the model browser of bench/pageload_bench.py gained nothing from a 103
beside it (2.08 RTT either way), but Chromium did: it starts the 103's preloads
before it reads the 200's field, and painted sooner with the 103 at once than
with it held back 2 ms (bench/browser_bench.py, issue 27), so the defaults send
it at once. It costs the server a HEADERS frame (under Hypercorn with pushgen's
hook, in the 200's write: :mod:`pushgen.runtime.h2hints`). A delay of a few
milliseconds drops it for pages that answer at once and keeps it for a route
that thinks (200 ms there took a page load from 6.2 RTT to 3.05). The timer
runs on the app's event loop, so the 103 can only leave while the app awaits
something (I/O, a thread); an app that reaches its response without suspending
never sends one, however busy the loop.

Hypercorn offers both extensions on HTTP/2 and HTTP/3 only; on HTTP/1.1 the final
response's ``Link`` header (``link_headers``) carries the hints. A
conditional GET (``If-None-Match``/``If-Modified-Since``) comes from a client with
the page cached, and most likely its assets too: it gets hints but no pushes.

An asset already pushed on the connection (its push diary) or named in the
request's digest cookie is not pushed again; the page's response then carries
the updated cookie (:mod:`pushgen.runtime.pushcache` says why and how). Under
Hypercorn, :mod:`pushgen.runtime.h2push` gives each connection its own diary and
withholds the push extension from a client whose SETTINGS disable push, so such a
client costs no push work at all.

A connection holds at most ``max_in_flight`` pushes that are still being sent
(the diary's count, under pushgen's Hypercorn hook): each holds a stream, a task
and up to 32 KiB of body in Hypercorn until the client's flow-control window
lets it go, and a client that keeps its window shut (RFC 9113 §6.9.2) would
otherwise make every page it asks for pin ten more. Past the bound a page gets
no pushes, only its hints: a client whose earlier pushes have not arrived gains
nothing from more of them.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import h2push
from .headers import RouteTable
from .pushcache import (
    CONNECTION_EXTENSION,
    ConnectionDiaries,
    PushDiary,
    asset_key,
    digest_cookie,
    read_digest,
)

__all__ = [
    "EARLY_HINT",
    "PUSH",
    "ASGIApp",
    "EarlyHintsMiddleware",
    "Message",
    "Receive",
    "Scope",
    "Send",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EARLY_HINT = "http.response.early_hint"
PUSH = "http.response.push"
_START = "http.response.start"
# Request headers a pushed request copies from the page's request (the set Quart's
# make_push_promise copies): content negotiation and the client's identity.
_PUSH_HEADERS = frozenset(
    {b"accept", b"accept-encoding", b"accept-language", b"cache-control", b"user-agent"}
)
_CONDITIONAL = frozenset({b"if-none-match", b"if-modified-since"})
_LINKED = frozenset({"GET", "HEAD"})


class EarlyHintsMiddleware:
    """Wrap ``app``; push and hint each GET of a route that has assets.

    ``table`` is called on every request and returns the current
    :class:`~pushgen.runtime.headers.RouteTable`, so a reloaded manifest takes effect
    without rebuilding the middleware. ``push`` and ``enabled`` (the 103) turn
    either off without unwrapping. ``hint_delay`` (seconds, >= 0) holds the 103
    back until the app has gone that long without starting its response, and
    sends none if it starts sooner; 0 sends it at once, before the app runs.
    ``digest`` keeps a cookie of the assets pushed to the client, so a returning
    client is pushed only what changed; ``version`` gives an asset's version
    (its ETag, a stat) from its push path, so a changed asset is pushed again.
    ``max_in_flight`` bounds the pushes a connection may have in flight (None: no
    bound; the server must count them, see the module docs). ``link_headers``
    adds the route's ``Link`` field to the final response of a GET or HEAD
    answered 200 (for HTTP/1.1 clients, proxies, CDNs, and clients whose
    response came too soon for a 103).
    Raises ValueError for a negative or non-numeric ``hint_delay``.
    """

    def __init__(
        self,
        app: ASGIApp,
        table: Callable[[], RouteTable],
        *,
        enabled: bool = True,
        push: bool = False,
        hint_delay: float = 0.0,
        digest: bool = True,
        version: Callable[[str], str] | None = None,
        max_in_flight: int | None = None,
        link_headers: bool = False,
    ) -> None:
        if (
            isinstance(hint_delay, bool)
            or not isinstance(hint_delay, (int, float))
            or math.isnan(hint_delay)
            or hint_delay < 0
        ):
            raise ValueError(f"hint_delay must be a number of seconds >= 0, not {hint_delay!r}")
        self.app = app
        self.table = table
        self.enabled = enabled
        self.push = push
        self.hint_delay = float(hint_delay)
        self.digest = digest
        self.version = version
        self.max_in_flight = max_in_flight
        self.link_headers = link_headers
        self._diaries = ConnectionDiaries()
        if push or enabled:
            h2push.install()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Push, hint and link when it applies, then hand the request to the wrapped app."""
        # Pushes and hints only help a request whose response the browser will
        # parse for subresources; HEAD gets the Link field its GET would (RFC 9110
        # §9.3.2: the same header fields), unsafe methods get nothing.
        if scope["type"] != "http" or scope.get("method") not in _LINKED:
            await self.app(scope, receive, send)
            return
        extensions = scope.get("extensions") or {}
        get = scope["method"] == "GET"
        can_push = get and self.push and PUSH in extensions
        can_hint = get and self.enabled and EARLY_HINT in extensions
        if not (can_push or can_hint or self.link_headers):
            await self.app(scope, receive, send)
            return
        plan = self.table().lookup(scope.get("path", ""), scope.get("root_path", ""))
        if plan is None:
            await self.app(scope, receive, send)
            return
        cookie = None
        if can_push and plan.push_paths:
            pushed = await self._push(scope, send, plan.push_paths)
            if pushed:
                cookie = digest_cookie(pushed, **self._cookie(scope))
        link = plan.link_field if self.link_headers else b""
        if cookie is not None or link:
            send = _HeadSend(send, link, cookie)
        if can_hint and plan.link_field:
            # One Link field with every hint (see RoutePlan): the 200's bytes.
            hint = {"type": EARLY_HINT, "links": [plan.link_field]}
            if self.hint_delay > 0:
                await _LateHint(send, hint, self.hint_delay).run(self.app, scope, receive)
                return
            # Must precede http.response.start: a 1xx after the final
            # response head is a protocol error (RFC 9110 §15.2).
            await send(hint)
        await self.app(scope, receive, send)

    def _diary(self, scope: Scope, extensions: MutableMapping[str, Any]) -> PushDiary | None:
        diary = extensions.get(CONNECTION_EXTENSION)
        if isinstance(diary, PushDiary):
            return diary
        client = scope.get("client")
        if not client or not client[1]:
            # No transport address (a test client, a Unix socket): nothing names
            # the connection, so every request is pushed all it lacks by the cookie.
            return None
        return self._diaries.diary((tuple(client), scope.get("server")))

    def _cookie(self, scope: Scope) -> dict[str, Any]:
        root = scope.get("root_path", "") or ""
        return {"path": root.rstrip("/") + "/", "secure": scope.get("scheme") == "https"}

    async def _push(self, scope: Scope, send: Send, paths: tuple[str, ...]) -> list[int]:
        """Push what the client lacks; the digest to set (empty when nothing changed)."""
        request_headers = scope.get("headers") or []
        if any(name in _CONDITIONAL for name, _ in request_headers):
            return []
        headers = [(name, value) for name, value in request_headers if name in _PUSH_HEADERS]
        diary = self._diary(scope, scope["extensions"])
        known = read_digest(request_headers) if self.digest else ()
        had = frozenset(known)
        version = self.version
        pushed: list[int] = []
        for path in paths:
            key = asset_key(path, version(path) if version is not None else "")
            if key in had or (diary is not None and key in diary):
                continue
            if diary is not None:
                if self._too_many_in_flight(diary):
                    break
                diary.add(key)
            pushed.append(key)
            await send({"type": PUSH, "path": path, "headers": headers})
        return [*known, *pushed] if pushed and self.digest else []

    def _too_many_in_flight(self, diary: PushDiary) -> bool:
        if self.max_in_flight is None:
            return False
        in_flight = diary.pushes_in_flight()
        return in_flight is not None and in_flight >= self.max_in_flight


class _HeadSend:
    """The app's ``send`` with the route's ``Link`` field and the digest cookie added to its head.

    Only the ``http.response.start`` message changes, by fields appended to its
    headers; every other message (the body, however it streams) passes as it came.
    The ``Link`` field goes on a 200 only: a 304, a redirect or an error names no
    page whose assets to fetch. A ``Link`` field the app set stays, next to ours
    (RFC 8288 §3 allows several). The cookie goes on any status, as the pushes
    went out whatever the app answered.
    """

    __slots__ = ("_cookie", "_link", "_send")

    def __init__(self, send: Send, link: bytes, cookie: bytes | None) -> None:
        self._send = send
        self._link = link
        self._cookie = cookie

    async def __call__(self, message: Message) -> None:
        if message["type"] == _START:
            added = []
            if self._link and message.get("status") == 200:
                added.append((b"link", self._link))
            if self._cookie is not None:
                added.append((b"set-cookie", self._cookie))
            if added:
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), *added]
        await self._send(message)


class _LateHint:
    """One request's 103, sent only if the app is still thinking after ``delay`` seconds.

    A timer, not a task, waits out the delay, so a response that starts in time
    costs a timer handle and nothing more. When the timer fires, a task sends the
    103 while the app keeps running. The app's messages go through :meth:`send`,
    which keeps the order: a 103 on its way is awaited before anything the app
    sends next, because a 1xx after the final response head is a protocol error
    (RFC 9110 §15.2), and one request's sends should reach the server one at a time.
    """

    __slots__ = ("_message", "_send", "_started", "_task", "_timer")

    def __init__(self, send: Send, message: Message, delay: float) -> None:
        self._send = send
        self._message = message
        self._started = False
        self._task: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        if not self._started:
            self._task = asyncio.create_task(self._hint(), name="pushgen-early-hint")

    async def _hint(self) -> None:
        # The app may have started its response between the timer and this
        # task's first step (one turn of the loop): the 103 would then leave in
        # the same write as the 200 and its Link field, which is what the delay
        # is there to avoid.
        if not self._started:
            await self._send(self._message)

    async def send(self, message: Message) -> None:
        """The app's ``send``: passes ``message`` on after any 103 on its way."""
        if message["type"] == _START:
            self._started = True
            self._timer.cancel()
        task = self._task
        if task is not None:
            self._task = None
            # A failed 103 surfaces here, as the failure of the app's own send.
            await task
        await self._send(message)

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        """Run ``app`` with the timer set; leave no timer or task behind."""
        try:
            await app(scope, receive, self.send)
        finally:
            self._timer.cancel()
            task, self._task = self._task, None
            if task is not None:
                # The app ended without a response head after the timer fired
                # (it failed, or left the 500 to the server): the 103 may precede
                # that final response as it may any other (RFC 9110 §15.2). Waiting
                # for it leaves no task behind; if it failed, that error is raised
                # here (chained to the app's own, when there is one).
                await task
