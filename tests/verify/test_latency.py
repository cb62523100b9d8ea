"""The delay line ``pushgen verify --timing`` and the benchmarks put between browser and server.

:func:`~pushgen.verify.latency.delay_line` is run for real, in its own process,
between a client and a TCP echo server on 127.0.0.1. Its promise is
behavioural: nothing crosses it in less than the delay each way, and what
crosses arrives intact and in order (no upper bound on time here: no timed
assertions in tests). tests/test_bench_smoke.py drives the proxy class itself.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from pushgen.errors import PushgenError
from pushgen.verify import latency
from pushgen.verify.latency import DelayLineError, delay_line
from tests.test_bench_smoke import load

DELAY = 0.05


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """A TCP echo server on 127.0.0.1 (one thread per connection) while the test runs."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield ("127.0.0.1", server.getsockname()[1])
    finally:
        server.close()


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_delay_line_process_delays_both_ways_and_keeps_order(echo: tuple[str, int]) -> None:
    with delay_line(echo, DELAY) as line:
        assert line.host == "127.0.0.1" and line.port != echo[1] and line.delay == DELAY
        with socket.create_connection((line.host, line.port), timeout=10) as conn:
            started = time.monotonic()
            conn.sendall(b"ping")
            assert _read(conn, 4) == b"ping"
            assert time.monotonic() - started >= 2 * DELAY  # out and back: two delays

            chunks = [bytes([i]) * (1000 + 7919 * i % 5000) for i in range(20)]
            started = time.monotonic()
            for chunk in chunks:
                conn.sendall(chunk)
            joined = b"".join(chunks)
            assert _read(conn, len(joined)) == joined
            assert time.monotonic() - started >= 2 * DELAY
    # The line's process is gone with the block: nothing listens there any more.
    with pytest.raises(OSError):
        socket.create_connection((line.host, line.port), timeout=5).close()


@pytest.mark.parametrize("delay", [-0.01, math.nan])
def test_a_delay_below_zero_is_refused_with_a_message(delay: float) -> None:
    with (
        pytest.raises(DelayLineError, match=r"delay must be >= 0 seconds") as caught,
        delay_line(("127.0.0.1", 1), delay),
    ):
        pass
    assert isinstance(caught.value, PushgenError)
    with pytest.raises(DelayLineError, match=r"delay must be >= 0 seconds"):
        latency.LatencyProxy(("127.0.0.1", 1), delay)


def test_a_line_that_cannot_start_says_why() -> None:
    """The child's own message (here argparse's, on a target it cannot read) is in the error."""
    with (
        pytest.raises(DelayLineError, match=r"(?s)did not start .*expected HOST:PORT"),
        delay_line(("", 0), DELAY),
    ):
        pass


def test_the_benchmarks_line_is_the_package_one() -> None:
    """One owner: bench/latency_proxy.py re-exports pushgen.verify.latency, not a copy."""
    bench = load("latency_proxy")
    assert bench.LatencyProxy is latency.LatencyProxy
    assert bench.main is latency.main
    pageload = load("pageload_bench").start_proxies.__code__.co_consts
    assert "pushgen.verify.latency" in pageload
