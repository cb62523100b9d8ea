"""A static page's 103 leaves in the same write (TLS record) as its 200 (pushgen/runtime/h2hints.py).

A real ``pushgen serve`` (the session's shared server: a 103 before every page) and a
client that sees TLS records: the ``ssl`` module over memory buffers, fed one
record at a time, so each HTTP/2 frame is known by the record that carried it.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events

from tests.clients import ServerProcess

_HEADER = 5  # a TLS record's header: type, version, length (RFC 8446 §5.1)
_HEADERS_FRAME = 0x1  # RFC 9113 §6.2


@dataclass(frozen=True)
class Heads:
    """The TLS record (counted from 0 after the handshake) that carried each response head."""

    early_hints: int | None
    final: int | None
    # The 103's field names, in the order they came.
    early_fields: tuple[bytes, ...] = ()


class RecordClient:
    """An HTTP/2 client over TLS that numbers the records the server sends."""

    def __init__(self, port: int) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["h2"])
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.raw = b""
        self.records = 0
        self.plain = b""
        # Each HEADERS frame's stream and HPACK block size, as the server sent them.
        self.header_blocks: list[tuple[int, int]] = []
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self.incoming.write(self._receive())
        self._flush()
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.h2.initiate_connection()
        self.h2.update_settings({h2.settings.SettingCodes.ENABLE_PUSH: 0})
        self._send_h2()

    def _receive(self) -> bytes:
        data = self.sock.recv(65536)
        assert data, "the server closed the connection"
        return data

    def _flush(self) -> None:
        if pending := self.outgoing.read():
            self.sock.sendall(pending)

    def _send_h2(self) -> None:
        self.tls.write(self.h2.data_to_send())
        self._flush()

    def _next_record(self) -> bytes:
        """The plaintext of the server's next TLS record (empty for a handshake message)."""
        while len(self.raw) < _HEADER or len(self.raw) < _HEADER + _length(self.raw):
            self.raw += self._receive()
        size = _HEADER + _length(self.raw)
        record, self.raw = self.raw[:size], self.raw[size:]
        self.incoming.write(record)
        self.records += 1
        plain = b""
        while True:
            try:
                plain += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._note_frames(plain)
                return plain

    def _note_frames(self, plain: bytes) -> None:
        # HTTP/2 frame headers (RFC 9113 §4.1): length (3), type (1), flags, stream (4).
        self.plain += plain
        while len(self.plain) >= 9 and len(self.plain) >= 9 + _length24(self.plain):
            size = _length24(self.plain)
            if self.plain[3] == _HEADERS_FRAME:
                stream = int.from_bytes(self.plain[5:9], "big") & 0x7FFFFFFF
                self.header_blocks.append((stream, size))
            self.plain = self.plain[9 + size :]

    def get(self, path: str) -> Heads:
        """GET ``path``; the records that carried its 103 and its final response head."""
        stream = self.h2.get_next_available_stream_id()
        headers = [(":method", "GET"), (":scheme", "https"), (":authority", "localhost")]
        self.h2.send_headers(stream, [*headers, (":path", path)], end_stream=True)
        self._send_h2()
        early = final = None
        fields: tuple[bytes, ...] = ()
        for _ in range(200):  # records; a page and its hints take a handful
            record = self.records
            for event in self.h2.receive_data(self._next_record()):
                if getattr(event, "stream_id", None) != stream:
                    continue
                if isinstance(event, h2.events.InformationalResponseReceived):
                    early = record
                    fields = tuple(name for name, _ in event.headers)
                elif isinstance(event, h2.events.ResponseReceived):
                    final = record
                elif isinstance(event, h2.events.StreamEnded):
                    self._send_h2()  # SETTINGS and WINDOW_UPDATE acknowledgements
                    return Heads(early, final, fields)
            self._send_h2()
        raise AssertionError(f"{path}: no end of stream in 200 records")

    def close(self) -> None:
        self.sock.close()


def _length(raw: bytes) -> int:
    return int.from_bytes(raw[3:5], "big")


def _length24(frame: bytes) -> int:
    return int.from_bytes(frame[:3], "big")


def test_a_static_pages_103_shares_its_200s_write(server: ServerProcess) -> None:
    client = RecordClient(server.port)
    try:
        seen = []
        # The 103 waits at most 2 ms for the 200 (h2hints.HOLD): on a loaded machine
        # a page may take longer, so up to ten requests get their chance. Before
        # the hold, the 103 had a write of its own every time.
        for _ in range(10):
            heads = client.get("/")
            assert heads.early_hints is not None and heads.final is not None, heads
            seen.append(heads)
            if heads.early_hints == heads.final:
                break
        assert any(h.early_hints == h.final for h in seen), seen
    finally:
        client.close()


def test_the_103_carries_its_hints_and_no_date_or_server_field(server: ServerProcess) -> None:
    # A 1xx may go without a Date (RFC 9110 §6.6.1), and the 200 after it has
    # Hypercorn's date and server fields: each field costs h2 and hpack work per page.
    client = RecordClient(server.port)
    try:
        heads = client.get("/")
    finally:
        client.close()
    assert heads.early_fields == (b":status", b"link"), heads


def test_the_link_field_is_indexed_after_a_connections_first_page(server: ServerProcess) -> None:
    # The page's Link value is hundreds of bytes; HPACK (RFC 7541 §6.1) sends a field
    # the connection's table holds as an index of a byte or two. Were it sent in
    # full each time, every page would pay hpack's Huffman coding of it in Python.
    client = RecordClient(server.port)
    try:
        client.get("/")
        first = list(client.header_blocks)
        client.get("/")
        again = client.header_blocks[len(first) :]
    finally:
        client.close()
    # Each page: its 103, then its 200, on one stream. The first 103 carries the
    # value in full (Huffman-coded: some 200 bytes); after it, the 103 is two
    # indexes, and the 200 (date, etag, ... and the Link field) far less than the value.
    assert len(first) == 2 and len(again) == 2, (first, again)
    assert first[0][1] >= 150, first
    assert again[0][1] <= 8 and again[1][1] < 100, again
