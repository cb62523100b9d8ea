"""The 103's HEADERS frame that pushgen/runtime/h2hints.py writes itself equals h2's, byte for byte.

Two real h2 server connections side by side, fed the same client bytes: one sends
each 103 through ``H2Connection.send_headers``, the other through
``queue_informational``; what they hand the socket, and the HPACK tables they are
left with, must be the same, 103 after 103, with 200s between and a table-size
change from the client. Every case the fast path does not take goes to h2 untouched,
and a real Hypercorn still sends such a 103 (the app of tests/runtime/hint_app.py).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import pytest

from pushgen.runtime.certs import DevCertificate
from pushgen.runtime.h2hints import queue_informational
from tests.clients import ServerProcess, h2_get, nghttp, start_hypercorn
from tests.runtime.hint_app import LINKS
from tests.runtime.test_h2hints import RecordClient

LINK = b"</assets/site.css>; rel=preload; as=style, </assets/app.js>; rel=modulepreload"
REQUEST = [(":method", "GET"), (":path", "/"), (":scheme", "https"), (":authority", "x")]


class Pair:
    """A client and a server h2 connection, the server's output decoded by the client."""

    def __init__(self) -> None:
        self.client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        # Hypercorn's configuration (hypercorn/protocol/h2.py, H2Protocol.__init__).
        self.server = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.client.initiate_connection()
        self.server.initiate_connection()
        self.exchange()

    def exchange(self) -> bytes:
        """Carry bytes both ways until both are quiet; what the server sent."""
        sent = b""
        for _ in range(10):
            to_server, to_client = self.client.data_to_send(), self.server.data_to_send()
            if not to_server and not to_client:
                return sent
            sent += to_client
            self.server.receive_data(to_server)
            self.client.receive_data(to_client)
        raise AssertionError("the connections kept talking")

    def request(self) -> int:
        stream_id = self.client.get_next_available_stream_id()
        self.client.send_headers(stream_id, REQUEST, end_stream=True)
        self.exchange()
        return stream_id


def _hint(pair: Pair, stream_id: int, headers: list[tuple[bytes, bytes]], fast: bool) -> bytes:
    if fast:
        assert queue_informational(pair.server, stream_id, headers)
    else:
        pair.server.send_headers(stream_id, headers)
    return pair.server.data_to_send()


def _page(pair: Pair, stream_id: int, fast: bool, link: bytes = LINK) -> list[bytes]:
    """A 103 and its 200 on a new stream: the 103's bytes, then the 200's."""
    hint = _hint(pair, stream_id, [(b":status", b"103"), (b"link", link)], fast)
    pair.server.send_headers(stream_id, [(b":status", b"200"), (b"link", link)], end_stream=True)
    return [hint, pair.server.data_to_send()]


@pytest.mark.parametrize(
    "links",
    [
        [LINK],
        [b"</a.css>; rel=preload; as=style", b"</b.js>; rel=preload; as=script"],
        [LINK, LINK, b"</c.woff2>; rel=preload; as=font; crossorigin"],
    ],
)
def test_the_fast_103_is_h2s_frame_byte_for_byte(links: list[bytes]) -> None:
    pairs = {False: Pair(), True: Pair()}  # by h2, by hand
    sent: dict[bool, list[bytes]] = {False: [], True: []}
    headers = [(b":status", b"103"), *((b"link", link) for link in links)]
    for round_ in range(4):
        if round_ == 2:
            # A smaller table from the client: the next block starts with the update.
            for pair in pairs.values():
                pair.client.update_settings({h2.settings.SettingCodes.HEADER_TABLE_SIZE: 256})
                pair.exchange()
            assert pairs[True].server.encoder.header_table.resized
        for fast, pair in pairs.items():
            stream_id = pair.request()
            page = [_hint(pair, stream_id, headers, fast), *_page(pair, stream_id, False, links[0])]
            pair.client.receive_data(b"".join(page))
            sent[fast].extend(page)
    assert sent[True] == sent[False]
    tables = [list(pair.server.encoder.header_table.dynamic_entries) for pair in pairs.values()]
    assert tables[0] == tables[1]
    # The second page's 103 on a connection is indexes only (what test_h2hints.py sees).
    assert len(sent[True][3]) <= 9 + 2 * len(links) + 1, sent[True][3]


def test_the_fast_103_is_decoded_as_h2s() -> None:
    pair = Pair()
    stream_id = pair.request()
    assert queue_informational(pair.server, stream_id, [(b":status", b"103"), (b"link", LINK)])
    events = pair.client.receive_data(pair.server.data_to_send())
    (event,) = events
    assert isinstance(event, h2.events.InformationalResponseReceived)
    assert event.headers == [(b":status", b"103"), (b"link", LINK)]


@pytest.mark.parametrize(
    "headers",
    [
        [(b":status", b"103"), (b"link", "</café.css>; rel=preload".encode())],
        [(b":status", b"103"), (b"link", b"</a.css>;\trel=preload")],
        [(b":status", b"103"), (b"link", b" </a.css>; rel=preload")],
        [(b":status", b"103"), (b"link", b"</a.css>\r\nx: y")],
        [(b":status", b"103"), (b"link", b"")],
        [(b":status", b"103"), (b"Link", LINK)],
        [(b":status", b"103"), (b"x-hint", b"1")],
        [(b":status", b"103"), ("link", LINK.decode())],
        [(b":status", b"200"), (b"link", LINK)],
        [(b":status", b"103"), (b"link", b"<" + b"a" * 9000 + b">; rel=preload")],
    ],
    ids=["utf8", "tab", "space", "crlf", "empty", "upper", "other", "str", "200", "large"],
)
def test_anything_else_is_left_to_h2_untouched(headers: list[tuple[bytes, bytes]]) -> None:
    pair = Pair()
    stream_id = pair.request()
    table = list(pair.server.encoder.header_table.dynamic_entries)
    assert not queue_informational(pair.server, stream_id, headers)
    assert pair.server.data_to_send() == b""
    assert list(pair.server.encoder.header_table.dynamic_entries) == table


def test_an_unknown_or_closed_stream_is_left_to_h2() -> None:
    pair = Pair()
    headers = [(b":status", b"103"), (b"link", LINK)]
    assert not queue_informational(pair.server, 99, headers)
    stream_id = pair.request()
    pair.server.send_headers(stream_id, [(b":status", b"200")], end_stream=True)
    pair.exchange()
    assert not queue_informational(pair.server, stream_id, headers)
    assert pair.server.data_to_send() == b""


def test_a_103_after_the_final_response_is_h2s_error_still() -> None:
    pair = Pair()
    stream_id = pair.request()
    pair.server.send_headers(stream_id, [(b":status", b"200")])
    with pytest.raises(h2.exceptions.ProtocolError):
        queue_informational(pair.server, stream_id, [(b":status", b"103"), (b"link", LINK)])


@pytest.fixture(scope="module")
def hint_server(
    dev_cert: DevCertificate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("hint-app") / "server.log"
    server = start_hypercorn(
        "tests.runtime.hint_app:app", log, certfile=dev_cert.certfile, keyfile=dev_cert.keyfile
    )
    yield server
    server.stop()


@pytest.mark.parametrize(
    "path, links",
    [
        ("/ascii", ["</a.css>; rel=preload; as=style", "</b.js>; rel=preload; as=script"]),
        ("/utf8", ["</café.css>; rel=preload; as=style", "</b.js>; rel=preload; as=script"]),
        ("/tab", ["</a.css>;\trel=preload; as=style"]),
    ],
)
def test_real_hypercorn_sends_each_103_whichever_path_it_took(
    hint_server: ServerProcess, path: str, links: list[str]
) -> None:
    for _ in range(2):  # the second on a new connection too: nothing left over
        exchange = h2_get("127.0.0.1", hint_server.port, path, enable_push=False, timeout=20)
        assert exchange.status == 200, exchange
        assert exchange.informational == [[(":status", "103"), *(("link", v) for v in links)]]
        assert exchange.order[:2] == ["informational", "response"], exchange.order


def test_a_thinking_views_103_leaves_alone_before_its_200(hint_server: ServerProcess) -> None:
    # The hold's timer finds its 103 still unwritten (nothing else was written on
    # the connection) and writes it: the 103 comes in a record before the 200's.
    # The first page on the connection arms a timer whose 103 left with its 200; the
    # thinking page's 103 is held in a new buffer and gets a timer of its own.
    client = RecordClient(hint_server.port)
    try:
        first = client.get("/ascii")
        heads = client.get("/think")
        again = client.get("/think")
    finally:
        client.close()
    assert first.early_hints is not None and first.final is not None, first
    for page in (heads, again):
        assert page.early_hints is not None and page.final is not None, page
        assert page.early_hints < page.final, page


def test_a_103_held_by_a_busy_server_leaves_with_its_200(hint_server: ServerProcess) -> None:
    # The view holds the loop past the hold's timer: the timer runs late, so the
    # server is behind its work and a write of the 103's own would cost it a
    # send; it waits again, and the 200 that follows half a millisecond later
    # carries it (before, the late timer wrote it alone, in a record of its own).
    client = RecordClient(hint_server.port)
    try:
        client.get("/ascii")  # the connection's first write is behind us
        pages = [client.get("/busy") for _ in range(3)]
    finally:
        client.close()
    for page in pages:
        assert page.early_hints is not None and page.final is not None, page
    # One of three, on a loaded machine: a scheduler's pause inside the view's
    # half millisecond makes the re-armed timer late too, and it waits again.
    assert any(page.early_hints == page.final for page in pages), pages


@pytest.mark.skipif(shutil.which("nghttp") is None, reason="needs nghttp (nghttp2-client)")
@pytest.mark.parametrize("path", ["/ascii", "/tab"])
def test_nghttp_reads_each_103_before_its_200(hint_server: ServerProcess, path: str) -> None:
    # nghttp2's HPACK decoder (C), not Python's: the hand-made frame of /ascii and
    # h2's of /tab (a tab in the value: the fast path's fallback) both decode.
    result = nghttp(f"https://127.0.0.1:{hint_server.port}{path}")
    assert result.returncode == 0, result.output
    heads = result.received("HEADERS")  # the one request stream (nghttp numbers it)
    assert [f.header(":status") for f in heads] == ["103", "200"], result.output
    assert heads[0].header_list("link") == [link.decode() for link in LINKS[path]]


def _count_encodes(pair: Pair) -> list[int]:
    """A count of the server's HPACK encodes, its encoder left working as it was."""
    encoder = pair.server.encoder
    encode = encoder.encode
    count = [0]

    def counted(*args: object, **kwargs: object) -> bytes:
        count[0] += 1
        return encode(*args, **kwargs)  # type: ignore[arg-type]

    encoder.encode = counted  # type: ignore[method-assign]
    return count


def test_a_repeated_103_is_sent_again_without_encoding_while_the_table_holds() -> None:
    pairs = {False: Pair(), True: Pair()}  # by h2, by hand
    counts = {fast: _count_encodes(pair) for fast, pair in pairs.items()}
    sent: dict[bool, list[bytes]] = {False: [], True: []}
    for _ in range(5):
        for fast, pair in pairs.items():
            stream_id = pair.request()
            page = _page(pair, stream_id, fast)
            pair.client.receive_data(b"".join(page))
            sent[fast].extend(page)
    assert sent[True] == sent[False]
    # h2 encodes each 103 and each 200; by hand only the first 103 (which added
    # its fields to the table) and the one after it (the first whose fields were
    # all indexes), then none: the 200s change nothing in the table.
    assert counts[False][0] == 10
    assert counts[True][0] == 5 + 2


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_103_stays_h2s_frame_as_the_table_changes_between(seed: int) -> None:
    # Pages whose 200s add fields (a date that changes, as Hypercorn's does each
    # second; a new ETag), evicting old entries from a table the client shrinks
    # and grows: every 103, the reused ones included, is h2's to the byte.
    rng = random.Random(seed)
    pairs = {False: Pair(), True: Pair()}
    sent: dict[bool, list[bytes]] = {False: [], True: []}
    links = [LINK, b"</a.css>; rel=preload; as=style", b"</b.js>; rel=modulepreload"]
    for _ in range(40):
        size = rng.choice([None, None, None, 0, 64, 120, 256, 4096])
        hints = rng.randint(1, 3)
        link = rng.choice(links)
        fields = [(b"date", b"d%d" % rng.randint(0, 3)), (b"etag", b"e%d" % rng.randint(0, 5))]
        extra = rng.sample(fields, rng.randint(0, 2))
        for fast, pair in pairs.items():
            if size is not None:
                pair.client.update_settings({h2.settings.SettingCodes.HEADER_TABLE_SIZE: size})
                pair.exchange()
            stream_id = pair.request()
            for _ in range(hints):
                sent[fast].append(
                    _hint(pair, stream_id, [(b":status", b"103"), (b"link", link)], fast)
                )
            final = [(b":status", b"200"), (b"link", link), *extra]
            pair.server.send_headers(stream_id, final, end_stream=True)
            sent[fast].append(pair.server.data_to_send())
            pair.client.receive_data(b"".join(sent[fast][-hints - 1 :]))
    assert sent[True] == sent[False]
    tables = [list(pair.server.encoder.header_table.dynamic_entries) for pair in pairs.values()]
    assert tables[0] == tables[1]
