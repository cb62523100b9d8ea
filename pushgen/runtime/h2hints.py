"""A 103 Early Hints that leaves in its HTTP/2 connection's next write, not in one of its own.

Hypercorn 0.18 writes a 103 the moment the app sends it: its HEADERS frame, then a
flush of its own, which is a TLS record and a ``send()`` on the socket. For a page
whose 200 follows within a millisecond (every file ``pushgen serve`` answers) that
flush is all the 103 costs the server: profiled under h2load
(``bench/runtime_bench.py``, cProfile of the server), a page request with the 103
made 3.9 socket sends instead of 2.9, and the sends were the largest part of the
server's time. Chromium acts on a 103 that arrives in the same read as its 200 (37
of 40 loads over h2, docs/performance.md), so nothing is lost by letting them share
a write.

The 103 carries its hints and nothing else: Hypercorn would add its ``date`` and
``server`` fields to it as to any response, but a 1xx may go without a Date (RFC 9110
§6.6.1, https://www.rfc-editor.org/rfc/rfc9110#section-6.6.1: MUST in a 2xx-4xx, MAY
in a 1xx) and the 200 that follows carries both. In Python's h2 and hpack every
field of a HEADERS frame is normalised, validated and looked up in the HPACK table
one by one: the 103's frame cost h2 31 µs with the two fields and 20 µs without (an
h2 connection pair in one process, 3,000 responses; docs/performance.md, "pushgen.asgi
on a Starlette app").

So :func:`hold_early_hint` puts the 103's frame into the connection's h2 buffer and
leaves it there: whatever the connection writes next (the 200's HEADERS, normally)
carries it, and if nothing is written within :data:`HOLD` seconds (a view that
thinks) a timer writes it alone. The 103 is never later than that, nor ever
reordered: h2 keeps one outbound buffer per connection, in the order frames were
made. Called by :mod:`pushgen.runtime.h2push`'s protocol, which Hypercorn uses
once that hook is installed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h2.exceptions
from hypercorn.protocol.events import InformationalResponse

__all__ = ["HOLD", "hold_early_hint", "release"]

# Long enough for a file's 200 to follow even under load (pushgen serve's former
# 2 ms 103 delay kept the 103 away from every static page under h2load with 64
# requests in flight; 1 ms missed 60% of them, profiled on a loaded machine), short
# enough to cost a view that thinks little a browser shows: 0.02 RTT on a 100 ms
# round trip.
HOLD = 0.002
_TIMER = "_pushgen_hint_timer"


def hold_early_hint(protocol: Any, event: Any) -> bool:
    """Queue ``event`` on ``protocol``'s connection when it is a 1xx; True when it was.

    ``protocol`` is Hypercorn's ``H2Protocol``; the headers are the event's, after
    its ``:status`` (Hypercorn's own ``stream_send`` would add ``date`` and ``server``).
    Anything else (or no asyncio loop, under Trio) is
    left to Hypercorn: False.
    """
    if not isinstance(event, InformationalResponse):
        return False
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    # Not Hypercorn's date and server fields (see the module docs): the hints only.
    headers = [(b":status", b"%d" % event.status_code), *event.headers]
    try:
        protocol.connection.send_headers(event.stream_id, headers)
    except (KeyError, h2.exceptions.ProtocolError):
        # The stream or the connection closed meanwhile: Hypercorn drops the event too.
        return True
    if getattr(protocol, _TIMER, None) is None:
        setattr(protocol, _TIMER, loop.call_later(HOLD, _write_alone, protocol))
    return True


def release(protocol: Any) -> None:
    """The connection is writing now, queued 103s with it: the timer is not needed."""
    timer = getattr(protocol, _TIMER, None)
    if timer is not None:
        timer.cancel()
        setattr(protocol, _TIMER, None)


def _write_alone(protocol: Any) -> None:
    setattr(protocol, _TIMER, None)
    # Hypercorn's own flush (release() finds no timer); a closed connection has
    # nothing to send, and its send of a Closed event handles a broken socket.
    task = asyncio.ensure_future(protocol._flush())
    _FLUSHES.add(task)
    task.add_done_callback(_FLUSHES.discard)


# The event loop keeps only weak references to tasks.
_FLUSHES: set[asyncio.Future[None]] = set()
