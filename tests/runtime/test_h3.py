"""``pushgen serve --quic``: HTTP/3 beside HTTP/2 on the same port, with Alt-Svc, 103, Link and push.

A real ``pushgen serve`` on 127.0.0.1 (in a subprocess), an HTTP/3 client on
aioquic (tests/h3_client.py) and the h2 client.
"""

from __future__ import annotations

from typing import Any

import pytest

from pushgen.errors import PushgenError
from pushgen.runtime.server import listen, refuse_shared_quic_socket, shared_quic_socket
from tests.clients import ServerProcess, h2_get
from tests.conftest import Site

pytest.importorskip("aioquic")

from tests.h3_client import h3_get


@pytest.fixture
def h3_server(built_site: Site, start_server: Any) -> ServerProcess:
    server: ServerProcess = start_server(
        built_site.root, build_if_stale=False, early_hints_delay=0, quic=True
    )
    return server


def test_h2_responses_advertise_h3_on_the_same_port(h3_server: ServerProcess) -> None:
    exchange = h2_get(h3_server.host, h3_server.port, "/")
    assert exchange.status == 200
    assert exchange.header("alt-svc") == f'h3=":{h3_server.port}"; ma=3600'
    assert f"HTTP/3 on UDP port {h3_server.port}" in h3_server.log()


def test_page_over_h3_with_103_link_and_pushes(built_site: Site, h3_server: ServerProcess) -> None:
    exchange = h3_get(h3_server.host, h3_server.port, "/")
    assert exchange.status == 200
    assert exchange.body == built_site.file("/index.html")
    link = built_site.link_header("/")
    assert exchange.header("link") == link
    # The 103 carries the same hints, the same one Link field.
    assert len(exchange.informational) == 1
    early = exchange.informational[0]
    assert dict(early)[":status"] == "103"
    assert [v for n, v in early if n == "link"] == [link]
    # aioquic's client allows pushes (MAX_PUSH_ID 8): the route's pushed assets arrive whole.
    assert sorted(exchange.pushes) == sorted(built_site.pushed["/"])
    for path, push in exchange.pushes.items():
        assert dict(push.headers)[":status"] == "200", path
        assert push.body == built_site.file(path), path


def test_asset_over_h3_is_the_file(built_site: Site, h3_server: ServerProcess) -> None:
    exchange = h3_get(h3_server.host, h3_server.port, "/static/css/site.css")
    assert exchange.status == 200
    assert exchange.body == built_site.file("/static/css/site.css")
    assert exchange.informational == []


def test_quic_refuses_a_taken_udp_port(dev_cert: Any) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        with pytest.raises(PushgenError, match=f"HTTP/3 on UDP 127.0.0.1:{port}"):
            listen(port=port, certfile=dev_cert.certfile, keyfile=dev_cert.keyfile, quic=True)


def test_quic_without_aioquic_says_what_to_install(
    dev_cert: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "aioquic", None)  # import aioquic now raises ImportError
    with pytest.raises(PushgenError, match=r"pip install 'pushgen\[h3\]'"):
        listen(port=0, certfile=dev_cert.certfile, keyfile=dev_cert.keyfile, quic=True)


@pytest.mark.parametrize(
    ("argv", "workers"),
    [
        (["/venv/bin/hypercorn", "app", "--workers", "4", "--quic-bind", "0.0.0.0:443"], 4),
        (["/lib/hypercorn/__main__.py", "app", "-w4", "--quic-bind=[::]:443"], 4),
        (["/venv/bin/hypercorn", "app", "--workers=2", "--quic-bind", "fd://5"], 2),
        (["/venv/bin/hypercorn", "app", "--workers", "1", "--quic-bind", "0.0.0.0:443"], 0),
        (["/venv/bin/hypercorn", "app", "--quic-bind", "0.0.0.0:443"], 0),  # one by default
        (["/venv/bin/hypercorn", "app", "--workers", "4", "--bind", "0.0.0.0:443"], 0),
        (["/venv/bin/uvicorn", "app", "--workers", "4", "--quic-bind", "x"], 0),
    ],
)
def test_workers_sharing_a_quic_socket_are_read_from_hypercorns_command_line(
    argv: list[str], workers: int
) -> None:
    assert shared_quic_socket(argv) == workers


def test_a_worker_sharing_the_quic_socket_exits_with_a_message() -> None:
    with pytest.raises(SystemExit, match=r"hypercorn --workers 3 with --quic-bind: the workers"):
        refuse_shared_quic_socket(["/venv/bin/hypercorn", "app", "-w", "3", "--quic-bind", "x:1"])
    refuse_shared_quic_socket(["/venv/bin/hypercorn", "app", "-w", "1", "--quic-bind", "x:1"])
