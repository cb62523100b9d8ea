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
on a Starlette app"). So the frame of a 103 whose fields those layers would pass on
unchanged is made here (:func:`queue_informational`: the connection's own HPACK
encoder, the same state transitions, the same bytes): 6.6 µs instead of 16.6 µs
(median of 40 runs of 90 streams, one ``link`` field). A page's 103 is the same
fields on every request, and once they are in the connection's HPACK table their
block stays the same while the table does: that block is sent again without
encoding (2.6 µs instead of 6; :class:`_LastBlock`).

So :func:`hold_early_hint` puts the 103's frame into the connection's h2 buffer and
leaves it there: whatever the connection writes next (the 200's HEADERS, normally)
carries it, and if nothing is written within :data:`HOLD` seconds (a view that
thinks) a timer writes it alone; a timer that runs late (the server is behind
its work, :data:`BEHIND`) waits again for a write to carry the 103, up to
:data:`BEHIND_MAX` in all. The 103 is never later than that, nor ever reordered: h2 keeps one outbound buffer per connection, in the order frames were
made. The timer needs no word from the connection's writes: h2 hands its buffer
out whole and starts a new one (``H2Connection.data_to_send``), so a timer that
finds the buffer it was armed for gone knows its 103 has left. Called by :mod:`pushgen.runtime.h2push`'s protocol, which Hypercorn uses
once that hook is installed.
"""

from __future__ import annotations

import asyncio
import re
import struct
from typing import Any

import h2.exceptions
from h2.connection import ConnectionInputs
from h2.stream import StreamInputs
from hypercorn.protocol.events import InformationalResponse

__all__ = ["BEHIND", "BEHIND_MAX", "HOLD", "hold_early_hint", "queue_informational"]

# Long enough for a file's 200 to follow even under load (pushgen serve's former
# 2 ms 103 delay kept the 103 away from every static page under h2load with 64
# requests in flight; 1 ms missed 60% of them, profiled on a loaded machine), short
# enough to cost a view that thinks little a browser shows: 0.02 RTT on a 100 ms
# round trip.
HOLD = 0.002
# An event loop that runs the hold's timer this late is behind its work (every
# request waits its turn): a 103 written alone then costs the server a write (a
# TLS record and a send) on each page, which a saturated server pays in pages a
# second (docs/performance.md, "pushgen.asgi on a Starlette app": Starlette's
# FileResponse hops to a thread three times, and the timer wrote the 103 alone in
# 57% of pages under h2load, 0.91x the bare app). So a late timer waits again,
# for the 200 or any other write on the connection to carry the 103, until the
# 103 has waited BEHIND_MAX in all. An idle loop runs the timer on time: the
# 103 of a view that thinks leaves alone after HOLD, as before.
BEHIND = 0.001
BEHIND_MAX = 0.05
_HELD = "_pushgen_hint_held"


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
    connection = protocol.connection
    try:
        if not queue_informational(connection, event.stream_id, headers):
            connection.send_headers(event.stream_id, headers)
    except (KeyError, h2.exceptions.ProtocolError):
        # The stream or the connection closed meanwhile: Hypercorn drops the event too.
        return True
    buffer = connection._data_to_send
    if getattr(protocol, _HELD, None) is not buffer:
        # The first 103 in this buffer. h2 hands out a new buffer on every write
        # (H2Connection.data_to_send), so a timer of an older one finds its 103s
        # gone and does nothing: no hook on the protocol's flushes is needed.
        setattr(protocol, _HELD, buffer)
        due = loop.time() + HOLD
        loop.call_at(due, _write_alone, protocol, buffer, due, due - HOLD + BEHIND_MAX)
    return True


def _write_alone(protocol: Any, buffer: bytearray, due: float, last: float) -> None:
    if protocol.connection._data_to_send is not buffer:
        return  # written with something else meanwhile
    loop = asyncio.get_running_loop()
    now = loop.time()
    if now - due > BEHIND and now < last:
        # Behind its work: the next write on the connection carries the 103.
        again = min(now + HOLD, last)
        loop.call_at(again, _write_alone, protocol, buffer, again, last)
        return
    # Hypercorn's own flush; a closed connection has nothing to send, and its
    # send of a Closed event handles a broken socket.
    task = asyncio.ensure_future(protocol._flush())
    _FLUSHES.add(task)
    task.add_done_callback(_FLUSHES.discard)


# The event loop keeps only weak references to tasks.
_FLUSHES: set[asyncio.Future[None]] = set()


# A field value h2 would pass on unchanged: visible ASCII and spaces, none at either
# end (h2's outbound normalisation strips surrounding whitespace), no CR, LF or NUL.
_PLAIN_VALUE = re.compile(rb"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
_INFORMATIONAL = re.compile(rb"1[0-9][0-9]")
# The fields the fast path writes: the status and the hints, nothing h2 treats
# specially (connection-specific fields, cookies and authorisations go through h2).
_FAST_NAMES = frozenset({b"link"})
# A frame header (RFC 9113 §4.1): 24-bit length, type, flags, 31-bit stream id.
# Sent as its first five bytes (the same for every 103 of one block) and the stream id.
_FRAME_START = struct.Struct("!HBBB")
_STREAM_ID = struct.Struct("!L")
_HEADERS = 0x1  # RFC 9113 §6.2
_END_HEADERS = 0x4
# HPACK's Huffman code (RFC 7541 Appendix B) gives a visible ASCII byte at most 15
# bits, so a field's encoding is under twice its length plus its integer prefixes.
_FIELD_OVERHEAD = 16


def queue_informational(
    connection: Any, stream_id: int, headers: list[tuple[bytes, bytes]]
) -> bool:
    """Queue a 1xx's HEADERS frame as h2's ``send_headers`` would, without its per-field layers; True when done.

    ``connection`` is the ``h2.connection.H2Connection`` (server side) of a Hypercorn
    HTTP/2 protocol, ``headers`` ``:status`` then the 1xx's fields. h2 sends a header
    block through a chain of Python generators per field (utf-8 coercion,
    lower-casing, whitespace stripping, cookie splitting, validation), then a
    ``HeadersFrame`` object: some 20 µs for a 103 of two fields, on every page. For
    fields those layers would pass on unchanged (checked here: lower-case names from
    :data:`_FAST_NAMES`, plain ASCII values) this makes the same state transitions
    (connection, then stream: a 1xx after the final response is h2's ProtocolError
    still), the same HPACK block from the connection's own encoder (so its dynamic
    table, and any pending table-size update, stay exactly as h2 would leave them),
    and the same frame bytes, appended to the buffer h2's ``data_to_send`` returns.
    Anything else (an unknown stream, another field, a value with a control
    character, a non-ASCII byte or surrounding spaces, a block that might need
    CONTINUATION frames) returns False before touching the connection: the caller
    hands it to h2. A 103 of the fields of the connection's last one, while its
    HPACK table is as that one left it, is sent as the same bytes without encoding
    them again (:class:`_LastBlock`).
    """
    stream = connection.streams.get(stream_id)
    if stream is None or stream.closed:
        return False
    max_frame = connection.max_outbound_frame_size
    table = connection.encoder.header_table
    last: _LastBlock | None = getattr(connection, _LAST_BLOCK, None)
    if last is not None and last.fits(headers, table, max_frame):
        _send_headers_transitions(connection, stream)
        frame_start, block = last.frame_start, last.block
    elif _fast(headers, max_frame):
        # The table as it was, in locals: most blocks change it (a new page's fields).
        entries = table.dynamic_entries
        newest, length, resized = entries[0] if entries else None, len(entries), table.resized
        _send_headers_transitions(connection, stream)
        block = connection.encoder.encode(headers)
        size = len(block)
        frame_start = _FRAME_START.pack(size >> 8, size & 0xFF, _HEADERS, _END_HEADERS)
        if not resized and len(entries) == length and (entries[0] if entries else None) is newest:
            # Every field was an index (the table did not change, see _unchanged):
            # the next 103 of these fields, while the table stays so, is these bytes.
            if last is None:
                last = _LastBlock()
                setattr(connection, _LAST_BLOCK, last)
            last.keep(tuple(headers), newest, length, table.maxsize, max_frame, frame_start, block)
    else:
        return False
    buffer = connection._data_to_send
    buffer += frame_start
    buffer += _STREAM_ID.pack(stream_id)
    buffer += block
    return True


def _send_headers_transitions(connection: Any, stream: Any) -> None:
    # h2's send_headers of a 1xx: the connection's, then the stream's (which
    # raises h2's ProtocolError for a 1xx after the final response).
    connection.state_machine.process_input(ConnectionInputs.SEND_HEADERS)
    stream.state_machine.process_input(StreamInputs.SEND_INFORMATIONAL_HEADERS)


_LAST_BLOCK = "_pushgen_last_103"


def _unchanged(table: Any, newest: tuple[bytes, bytes] | None, length: int, maxsize: int) -> bool:
    """Whether hpack's ``table`` holds the entries it held with ``newest`` first, ``length`` of them.

    hpack adds an entry as a new tuple at the front of its deque
    (``HeaderTable.add``) and drops entries only from the back (the oldest) or
    all at once: so while the same tuple object is the newest and the count is
    the same, nothing was added or dropped. Identity, not equality: an equal
    tuple added anew would mean other entries went, and the caller holds
    ``newest`` (a local, then a :class:`_LastBlock`), so no new tuple can take its
    ``id``. A size change pending (``resized``) puts an update in the next block:
    never the same.
    """
    entries = table.dynamic_entries
    return (
        not table.resized
        and len(entries) == length
        and (entries[0] if entries else None) is newest
        and table.maxsize == maxsize
    )


class _LastBlock:
    """A connection's last 103 whose fields were all indexes: its frame, to send again.

    HPACK encoding is a function of the fields and the encoder's table; a block
    that left the table unchanged is what the same fields encode to, leaving it
    unchanged again, as long as the table is as it was (:func:`_unchanged`). A
    page's 103 is the same fields on every request, and between two requests for
    it on a connection the 200's fields are indexes too (its ``date`` changes once
    a second): so most such 103s skip hpack's search of the table and the fields'
    checks (:func:`_fast`), 3.3 of the 103's 6 µs (docs/performance.md). One per
    connection, updated in place: a page view's 103s, after other pages' fields,
    mostly miss, and must not pay an object each for it.
    """

    __slots__ = ("block", "frame_start", "headers", "length", "max_frame", "maxsize", "newest")

    def __init__(self) -> None:
        self.headers: tuple[tuple[bytes, bytes], ...] = ()
        self.newest: tuple[bytes, bytes] | None = None
        self.length = self.maxsize = self.max_frame = -1
        self.frame_start = self.block = b""

    def keep(
        self,
        headers: tuple[tuple[bytes, bytes], ...],
        newest: tuple[bytes, bytes] | None,
        length: int,
        maxsize: int,
        max_frame: int,
        frame_start: bytes,
        block: bytes,
    ) -> None:
        """Remember the frame of ``headers``, encoded with the table at ``newest``, ``length``, ``maxsize``."""
        self.headers, self.newest, self.length, self.maxsize = headers, newest, length, maxsize
        self.max_frame, self.frame_start, self.block = max_frame, frame_start, block

    def fits(self, headers: list[tuple[bytes, bytes]], table: Any, max_frame: int) -> bool:
        """Whether a 103 of ``headers`` now, with the encoder's ``table``, encodes to this block."""
        return (
            max_frame == self.max_frame
            and _unchanged(table, self.newest, self.length, self.maxsize)
            and _same_fields(headers, self.headers)
        )


def _same_fields(
    headers: list[tuple[bytes, bytes]], cached: tuple[tuple[bytes, bytes], ...]
) -> bool:
    # Exact bytes objects, compared by value (the same object compares at once):
    # a str or a bytes subclass never matches, so it goes through _fast again.
    if len(headers) != len(cached):
        return False
    for (name, value), (cached_name, cached_value) in zip(headers, cached, strict=True):
        if type(name) is not bytes or type(value) is not bytes:
            return False
        if name != cached_name or value != cached_value:
            return False
    return True


def _fast(headers: list[tuple[bytes, bytes]], max_frame: int) -> bool:
    """Whether h2's layers would pass ``headers`` on unchanged, in one frame of at most ``max_frame``."""
    name, status = headers[0]
    if name != b":status" or type(status) is not bytes or not _INFORMATIONAL.fullmatch(status):
        return False
    bound = _FIELD_OVERHEAD
    for name, value in headers[1:]:
        if name not in _FAST_NAMES or type(value) is not bytes or not _PLAIN_VALUE.fullmatch(value):
            return False
        bound += _FIELD_OVERHEAD + len(name) + 2 * len(value)
    return bound <= max_frame
