"""Live reload for ``pushgen serve --watch`` (development only; issue 28, item 2).

:class:`LiveReload` is a small ASGI wrapper around the served app, mounted only
by the watch serve (commands/serve_site.py). It does two things:

- it appends :data:`SCRIPT` to every HTML response (a 200 with a ``text/html``
  content type and no content coding) at response time, so the files on disk
  and any production serve never see it. A GET reaches the app without its
  ``Accept-Encoding``: the build precompresses pages (precompress.py), and a
  ``.br`` page would otherwise go out compressed, without the script;
- it answers :data:`LIVERELOAD_PATH` with a server-sent event stream
  (https://html.spec.whatwg.org/multipage/server-sent-events.html): one event per
  finished build that changed the output, naming what changed. The script
  reloads the page, or, when only stylesheets changed, re-sets every
  stylesheet's ``href`` with a cache-busting query (no reload: the page's state
  survives).

The watch thread calls :meth:`LiveReload.publish`; the server calls
:meth:`LiveReload.close` when it stops, which ends every stream at once (Hypercorn
waits for open streams before it shuts down; an endless stream would hold it
for its whole graceful timeout).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

__all__ = ["LIVERELOAD_PATH", "SCRIPT", "Change", "LiveReload"]

LIVERELOAD_PATH = "/_pushgen/livereload"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCRIPT = (
    b"\n<script>/* pushgen serve --watch: live reload (development only) */\n"
    b'(() => { const events = new EventSource("' + LIVERELOAD_PATH.encode() + b'");\n'
    b"  events.onmessage = (event) => { const change = JSON.parse(event.data);\n"
    b"    if (!change.css_only) { location.reload(); return; }\n"
    b"    for (const link of document.querySelectorAll('link[rel~=\"stylesheet\"]')) {\n"
    b"      const url = new URL(link.href);\n"
    b'      url.searchParams.set("pushgen-reload", String(Date.now()));\n'
    b"      link.href = url.href; } }; })();\n</script>\n"
)


@dataclass(frozen=True, slots=True)
class Change:
    """What a finished build changed: the output's files (paths relative to it, ``/``-separated)."""

    changed: tuple[str, ...]

    @property
    def css_only(self) -> bool:
        """True when only stylesheets changed: the page swaps them instead of reloading."""
        return bool(self.changed) and all(path.endswith(".css") for path in self.changed)

    def event(self) -> bytes:
        """The server-sent event announcing this change."""
        data = json.dumps({"changed": list(self.changed), "css_only": self.css_only})
        return f"event: message\ndata: {data}\n\n".encode()


@dataclass(frozen=True, slots=True)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Change | None]


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    values = {name.lower(): value.lower() for name, value in headers}
    content_type = values.get(b"content-type", b"")
    return content_type.startswith(b"text/html") and b"content-encoding" not in values


async def _disconnected(receive: Receive) -> None:
    """Return when the client goes away (the request's body messages come first)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class LiveReload:
    """The live-reload hub: publishes changes to open pages, and wraps the app (see the module)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[_Subscriber] = set()
        self._closed = False

    def publish(self, change: Change) -> None:
        """Send ``change`` to every open page; callable from any thread (the watch thread's)."""
        self._broadcast(change)

    def close(self) -> None:
        """End every stream, and any opened later at once (the server is stopping)."""
        with self._lock:
            self._closed = True
        self._broadcast(None)

    def _broadcast(self, item: Change | None) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.queue.put_nowait, item)
            except RuntimeError:  # its loop is closed: the server is gone
                continue

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app`` with the script injected into its HTML and the event stream mounted."""

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
            elif scope["path"] == LIVERELOAD_PATH and scope["method"] == "GET":
                await self._stream(receive, send)
            elif scope["method"] == "GET":
                await app(_identity(scope), receive, _injecting(send))
            else:
                await app(scope, receive, send)

        return wrapped

    async def _stream(self, receive: Receive, send: Send) -> None:
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            closed = self._closed
            if not closed:
                self._subscribers.add(subscriber)
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        # retry: how soon the page reconnects after the server restarts (milliseconds).
        await send({"type": "http.response.body", "body": b"retry: 1000\n\n", "more_body": True})
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            while not closed:
                item = asyncio.ensure_future(subscriber.queue.get())
                await asyncio.wait({item, gone}, return_when=asyncio.FIRST_COMPLETED)
                if gone.done():
                    item.cancel()
                    return
                change = item.result()
                if change is None:
                    break
                await send(
                    {"type": "http.response.body", "body": change.event(), "more_body": True}
                )
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()
            with self._lock:
                self._subscribers.discard(subscriber)


def _identity(scope: Scope) -> Scope:
    """``scope`` without ``Accept-Encoding``: the app answers with the file itself, uncompressed."""
    headers = [
        (name, value) for name, value in scope["headers"] if name.lower() != b"accept-encoding"
    ]
    return {**scope, "headers": headers}


def _injecting(send: Send) -> Send:
    """``send`` that appends :data:`SCRIPT` to an HTML response's body."""
    inject = False

    async def injecting(message: Message) -> None:
        nonlocal inject
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            inject = message["status"] == 200 and _is_html(headers)
            if inject:  # the body grows: its length is no longer known in advance
                kept = [
                    (name, value) for name, value in headers if name.lower() != b"content-length"
                ]
                message = {**message, "headers": kept}
        elif message["type"] == "http.response.body" and inject and not message.get("more_body"):
            message = {**message, "body": bytes(message.get("body", b"")) + SCRIPT}
            inject = False
        await send(message)

    return injecting
