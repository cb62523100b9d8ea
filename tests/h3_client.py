"""A small HTTP/3 client on aioquic (``aioquic.asyncio.connect`` + ``H3Connection``) for tests.

:func:`h3_get` sends one GET over QUIC and returns everything that came back on
the request stream (interim 103 responses, the final response, its body) and
on push streams (promise headers, response headers, body), until the response
and every push have ended.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, H3Event, HeadersReceived, PushPromiseReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import QuicEvent

__all__ = ["H3Exchange", "H3Push", "h3_get"]

Headers = list[tuple[str, str]]


@dataclass
class H3Push:
    path: str
    promise_headers: Headers
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    ended: bool = False


@dataclass
class H3Exchange:
    """One request over HTTP/3: interim responses, the response, and any pushes."""

    informational: list[Headers] = field(default_factory=list)
    status: int | None = None
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    ended: bool = False
    pushes: dict[str, H3Push] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)


def _text(headers: Sequence[tuple[bytes, bytes]]) -> Headers:
    return [(n.decode(), v.decode()) for n, v in headers]


class _Client(QuicConnectionProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.exchange = H3Exchange()
        self.stream_id: int | None = None
        self.by_push_id: dict[int, H3Push] = {}
        self.done = asyncio.Event()

    def quic_event_received(self, event: QuicEvent) -> None:
        for h3_event in self.h3.handle_event(event):
            self._h3_event(h3_event)
        if self.exchange.ended and all(p.ended for p in self.by_push_id.values()):
            self.done.set()

    def _h3_event(self, event: H3Event) -> None:
        exchange = self.exchange
        if isinstance(event, PushPromiseReceived):
            headers = _text(event.headers)
            push = H3Push(dict(headers)[":path"], headers)
            self.by_push_id[event.push_id] = push
            exchange.pushes[push.path] = push
        elif isinstance(event, HeadersReceived):
            headers = _text(event.headers)
            status = int(dict(headers)[":status"])
            if event.push_id is not None:
                push = self.by_push_id[event.push_id]
                push.headers, push.ended = headers, event.stream_ended
            elif 100 <= status < 200:
                exchange.informational.append(headers)
            else:
                exchange.status, exchange.headers = status, headers
                exchange.ended = event.stream_ended
        elif isinstance(event, DataReceived):
            if event.push_id is not None:
                push = self.by_push_id[event.push_id]
                push.body += event.data
                push.ended = push.ended or event.stream_ended
            elif event.stream_id == self.stream_id:
                exchange.body += event.data
                exchange.ended = exchange.ended or event.stream_ended

    def get(self, authority: str, path: str, headers: Sequence[tuple[str, str]]) -> None:
        self.stream_id = self._quic.get_next_available_stream_id()
        request = [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":authority", authority.encode()),
            (b":path", path.encode()),
            *((n.encode(), v.encode()) for n, v in headers),
        ]
        self.h3.send_headers(self.stream_id, request, end_stream=True)
        self.transmit()


async def _get(
    host: str, port: int, path: str, headers: Sequence[tuple[str, str]], timeout: float
) -> H3Exchange:
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    config.verify_mode = ssl.CERT_NONE  # the development certificate
    async with connect(
        host, port, configuration=config, create_protocol=_Client, wait_connected=True
    ) as client:
        assert isinstance(client, _Client)
        client.get(f"{host}:{port}", path, headers)
        await asyncio.wait_for(client.done.wait(), timeout)
        return client.exchange


def h3_get(
    host: str,
    port: int,
    path: str = "/",
    *,
    headers: Sequence[tuple[str, str]] = (),
    timeout: float = 20.0,
) -> H3Exchange:
    """GET ``path`` over HTTP/3 on UDP ``host:port``; wait for the response and its pushes."""
    return asyncio.run(_get(host, port, path, headers, timeout))
