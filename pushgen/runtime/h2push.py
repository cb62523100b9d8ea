"""A small hook into Hypercorn's HTTP/2 protocol: the client's push setting and a per-connection diary.

Hypercorn (0.18) offers the ASGI push extension on every HTTP/2 request, whatever
the client said in SETTINGS_ENABLE_PUSH (RFC 9113 §6.5.2), and for each
``http.response.push`` builds the promise's headers and asks h2 to push, which
then refuses. Every browser and h2load disable push, so that work is paid on
every page and gains nothing: bench/runtime_bench.py measured 0.80-0.94x the
page requests per second of the same server with push off. Hypercorn has no
supported hook for either fact (its scope carries no per-connection object and
no peer settings), hence this subclass of its ``H2Protocol``:

* each request's scope gets the push extension only when the client's current
  SETTINGS allow push (read from the connection's h2 state when the request
  starts: the client's first SETTINGS frame precedes its first request, RFC 9113
  §3.4), so the middleware skips push work for the others;
* each request's scope carries ``extensions["pushgen.connection"]``, a
  :class:`~pushgen.runtime.pushcache.PushDiary` that lives exactly as long as
  the connection (the middleware's push diary), and that counts the
  connection's pushes still in flight: the server-initiated (even-numbered,
  RFC 9113 §5.1.1) streams Hypercorn still holds. Hypercorn keeps a pushed
  stream, its app task and up to 32 KiB of its body (``BUFFER_HIGH_WATER``)
  until the body has been handed to h2 and the stream closed; a client that
  never opens its flow-control window (RFC 9113 §6.9.2) keeps them all, so the
  middleware stops pushing on a connection with too many in flight;
* a 103's HEADERS frame leaves with the connection's next write instead of a
  write of its own (:mod:`pushgen.runtime.h2hints` says why).

It wraps the protocol's ASGI app (an ``AppWrapper``, which Hypercorn calls with
the scope) and its sending of 1xx responses, and nothing else. Neither wrapper is a
coroutine: each hands Hypercorn the coroutine it would have awaited anyway, so a
page's five or so stream events pay no frame of pushgen's. It is installed by
replacing the name ``H2Protocol`` that ``hypercorn.protocol.ProtocolWrapper`` looks up. It is pinned
to the Hypercorn versions its tests ran with (:data:`TESTED_VERSIONS`); on any
other, :func:`install` logs one line and leaves Hypercorn as it is (the push
extension then goes to every client, as before, and the middleware keys its
diaries by the connection's addresses).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Generator
from importlib import metadata
from typing import Any

from .pushcache import CONNECTION_EXTENSION, PushDiary

__all__ = ["TESTED_VERSIONS", "install", "installed", "tested"]

log = logging.getLogger("pushgen")

TESTED_VERSIONS = frozenset({"0.18.0"})
_PUSH = "http.response.push"
_state: dict[str, bool] = {}


def installed() -> bool:
    """Whether the hook is in place in this process."""
    return _state.get("installed", False)


def install() -> bool:
    """Put the hook in place once per process; False (with a log line) on an untested Hypercorn."""
    if "installed" in _state:
        return _state["installed"]
    try:
        version = metadata.version("hypercorn")
    except metadata.PackageNotFoundError:
        _state["installed"] = False
        return False
    if not tested(version):
        _state["installed"] = False
        return False
    import hypercorn.protocol as protocol_module
    from hypercorn.protocol.events import InformationalResponse
    from hypercorn.protocol.h2 import H2Protocol

    from .h2hints import hold_early_hint

    send_by_hypercorn = H2Protocol.stream_send

    class PushgenH2Protocol(H2Protocol):
        """Hypercorn's HTTP/2 protocol, whose requests see the client's push setting and a diary."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.app = _ConnectionApp(self.app, self)  # type: ignore[assignment]

        def stream_send(self, event: Any) -> Awaitable[None]:  # type: ignore[override]
            # A 103 leaves with the connection's next write (pushgen.runtime.h2hints).
            # Not a coroutine of its own: every other event of every stream gets
            # Hypercorn's coroutine itself, with no frame of pushgen's around it.
            if type(event) is InformationalResponse and hold_early_hint(self, event):
                return _SENT
            return send_by_hypercorn(self, event)

    # The name ProtocolWrapper looks up when a connection negotiates h2.
    protocol_module.H2Protocol = PushgenH2Protocol  # type: ignore[attr-defined]
    _state["installed"] = True
    return True


def tested(version: str) -> bool:
    """Whether the hook was tested with Hypercorn ``version``; logs why not when it was not."""
    if version in TESTED_VERSIONS:
        return True
    log.info(
        "pushgen: Hypercorn %s is not one pushgen's push hook was tested with (%s); "
        "clients that disable push still cost a push attempt per asset",
        version,
        ", ".join(sorted(TESTED_VERSIONS)),
    )
    return False


class _ConnectionApp:
    """The app as one HTTP/2 connection's streams call it."""

    __slots__ = ("_app", "_diary", "_protocol")

    def __init__(self, app: Any, protocol: Any) -> None:
        self._app = app
        self._protocol = protocol
        self._diary = PushDiary(in_flight=self._pushes_in_flight)

    def _pushes_in_flight(self) -> int:
        # Hypercorn drops a stream from `streams` once its response is sent, it
        # is reset, or the connection closed; pushed streams have even ids.
        return sum(1 for stream_id in self._protocol.streams if not stream_id % 2)

    def __call__(self, scope: Any, *args: Any) -> Awaitable[None]:
        # The app's own coroutine, awaited by Hypercorn: no frame of this class's.
        extensions = scope.get("extensions")
        if scope["type"] == "http" and extensions is not None:
            extensions[CONNECTION_EXTENSION] = self._diary
            if _PUSH in extensions and not self._protocol.connection.remote_settings.enable_push:
                del extensions[_PUSH]
        return self._app(scope, *args)  # type: ignore[no-any-return]


class _Sent:
    """An awaitable that is done at once (a 103 queued without waiting for anything)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


_SENT = _Sent()
