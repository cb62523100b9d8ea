"""pushgen.asgi end to end: Starlette, FastAPI and Django apps under real Hypercorn and Uvicorn.

Under Hypercorn over HTTP/2 a page gets its pushes, a 103 and a ``Link`` field
(seen by the ``h2`` library and by nghttp), over HTTP/3 too (``--quic-bind``, an
aioquic client, tests/h3_client.py); over HTTP/1.1 (curl) only the
``Link`` field, as Hypercorn offers the push and early-hint extensions on HTTP/2
and HTTP/3 only. Uvicorn speaks HTTP/1.1 only and offers no ASGI extension at
all (no ``http.response.early_hint``; its types name the message, its protocols
never offer it): a page gets its ``Link`` field and no 103, which is measured
here (the raw bytes of the response) and written down in docs/deploy.md.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushgen.runtime.certs import DevCertificate
from tests.asgi.apps import BLOG_LINKS, HINTED_PAGES, HOME_LINKS, STATIC, assert_hinted_page
from tests.clients import (
    ServerProcess,
    free_port,
    h2_get,
    nghttp,
    start_hypercorn,
    start_uvicorn,
)

APPS = {
    "starlette": "tests.asgi.starlette_app:app",
    "fastapi": "tests.asgi.fastapi_app:app",
    "django": "tests.asgi.django_site.asgi:application",
}

needs_tools = pytest.mark.skipif(
    shutil.which("nghttp") is None or shutil.which("curl") is None,
    reason="needs nghttp (nghttp2-client) and curl",
)


@pytest.fixture(scope="module", params=list(APPS))
def hypercorn(
    request: pytest.FixtureRequest,
    dev_cert: DevCertificate,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp(f"hypercorn-{request.param}") / "server.log"
    server = start_hypercorn(
        APPS[request.param], log, certfile=dev_cert.certfile, keyfile=dev_cert.keyfile
    )
    yield server
    server.stop()


@pytest.fixture(scope="module", params=list(APPS))
def uvicorn(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = start_uvicorn(
        APPS[request.param], tmp_path_factory.mktemp(f"uvicorn-{request.param}") / "server.log"
    )
    yield server
    server.stop()


@pytest.mark.parametrize(("path", "links", "pushed"), HINTED_PAGES)
def test_hypercorn_h2_pushes_then_103_then_the_page_with_link(
    hypercorn: ServerProcess, path: str, links: list[str], pushed: list[str]
) -> None:
    exchange = h2_get("127.0.0.1", hypercorn.port, path)
    assert exchange.status == 200, hypercorn.log()
    assert_hinted_page(exchange, links, pushed)


@needs_tools
def test_hypercorn_h2_seen_by_nghttp(hypercorn: ServerProcess) -> None:
    result = nghttp(hypercorn.url)
    assert result.returncode == 0, result.output
    promised = [f.header(":path") for f in result.received("PUSH_PROMISE")]
    assert promised == ["/static/site.css", "/static/app.js"]
    statuses = [f.header(":status") for f in result.received("HEADERS", 13)]
    assert statuses[:2] == ["103", "200"]


def curl_head_lines(url: str, *args: str) -> list[str]:
    """The response heads curl printed for GET ``url`` (every 1xx and the final one)."""
    done = subprocess.run(
        ["curl", "-sk", "-D", "-", "-o", "/dev/null", "--max-time", "20", *args, url],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


@needs_tools
def test_hypercorn_http11_gets_link_and_no_103(hypercorn: ServerProcess) -> None:
    lines = curl_head_lines(hypercorn.url, "--http1.1")
    assert lines[0].startswith("HTTP/1.1 200"), lines
    assert not any(line.startswith("HTTP/1.1 103") for line in lines)
    assert f"link: {', '.join(HOME_LINKS)}" in [
        line.lower().replace("link:", "link:") for line in lines
    ] or any(line.lower() == f"link: {', '.join(HOME_LINKS)}".lower() for line in lines)


def http11(port: int, path: str, method: str = "GET") -> bytes:
    """The raw bytes of one HTTP/1.1 exchange (``Connection: close``), read to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def head_fields(raw: bytes) -> tuple[str, list[tuple[str, str]]]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    pairs = [line.split(":", 1) for line in head[1:]]
    return head[0], [(n.strip().lower(), v.strip()) for n, v in pairs]


def test_uvicorn_gets_link_headers_and_no_103(uvicorn: ServerProcess) -> None:
    raw = http11(uvicorn.port, "/")
    status, headers = head_fields(raw)
    # The first bytes on the wire are the final response: Uvicorn sent no 103.
    assert status == "HTTP/1.1 200 OK", raw[:200]
    assert [v for n, v in headers if n == "link"] == [", ".join(HOME_LINKS)]
    assert [n for n, _ in headers].count("set-cookie") == 0  # nothing was pushed

    status, headers = head_fields(http11(uvicorn.port, "/blog/a-post"))
    assert status == "HTTP/1.1 200 OK"
    assert [v for n, v in headers if n == "link"] == [", ".join(BLOG_LINKS)]

    # HEAD gets the Link field of its GET; FastAPI's @app.get answers HEAD 405,
    # which gets none (the app's answer is kept).
    status, headers = head_fields(http11(uvicorn.port, "/", "HEAD"))
    expected = [] if status == "HTTP/1.1 405 Method Not Allowed" else [", ".join(HOME_LINKS)]
    assert [v for n, v in headers if n == "link"] == expected


@pytest.mark.parametrize("hypercorn", ["starlette"], indirect=True)
def test_what_each_server_offers_the_app(hypercorn: ServerProcess, tmp_path: Path) -> None:
    # pushgen.connection is pushgen's own (runtime/h2push.py: the connection's push diary).
    over_h2 = h2_get("127.0.0.1", hypercorn.port, "/extensions")
    assert [e for e in json.loads(over_h2.body) if e.startswith("http.")] == [
        "http.response.early_hint",
        "http.response.push",
        "http.response.trailers",
    ]
    over_h11 = curl_body(hypercorn.url + "extensions", "--http1.1")
    assert json.loads(over_h11) == []
    uvicorn = start_uvicorn(APPS["starlette"], tmp_path / "uvicorn.log")
    try:
        raw = http11(uvicorn.port, "/extensions")
    finally:
        uvicorn.stop()
    assert json.loads(raw.split(b"\r\n\r\n", 1)[1]) == []


def curl_body(url: str, *args: str) -> str:
    done = subprocess.run(
        ["curl", "-sk", "--max-time", "20", *args, url],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return done.stdout


@pytest.mark.parametrize("uvicorn", ["starlette"], indirect=True)
def test_uvicorn_streams_a_page_chunk_by_chunk_with_its_link(uvicorn: ServerProcess) -> None:
    raw = http11(uvicorn.port, "/stream")
    status, headers = head_fields(raw)
    assert status == "HTTP/1.1 200 OK"
    assert ("transfer-encoding", "chunked") in headers  # not buffered into one body
    assert [v for n, v in headers if n == "link"] == ["</static/site.css>; rel=preload; as=style"]
    assert raw.count(b"<p>chunk ") == 3


def test_hypercorn_h3_pushes_103_and_link(dev_cert: DevCertificate, tmp_path: Path) -> None:
    pytest.importorskip("aioquic")
    from tests.h3_client import h3_get

    udp = free_port()
    server = start_hypercorn(
        APPS["starlette"],
        tmp_path / "server.log",
        certfile=dev_cert.certfile,
        keyfile=dev_cert.keyfile,
        args=("--quic-bind", f"127.0.0.1:{udp}"),
    )
    try:
        exchange = h3_get("127.0.0.1", udp, "/")
    finally:
        server.stop()
    assert exchange.status == 200, server.log()
    [early] = exchange.informational
    assert dict(early)[":status"] == "103"
    assert [v for n, v in early if n == "link"] == [", ".join(HOME_LINKS)]
    assert exchange.header("link") == ", ".join(HOME_LINKS)
    assert sorted(exchange.pushes) == ["/static/app.js", "/static/site.css"]
    for path, push in exchange.pushes.items():
        assert push.body == (STATIC / path.removeprefix("/static/")).read_bytes(), path
