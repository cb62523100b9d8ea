"""A TCP delay line: every byte reaches the other side D seconds after it was sent.

``pushgen verify --timing`` and the benchmarks (``bench/pageload_bench.py``,
``bench/browser_bench.py``) put it between the browser and the server, because
loopback has no latency to save and this kernel has no ``netem``. It listens on
127.0.0.1; for each accepted connection it opens one to the target and runs two
independent pipes (client -> server and server -> client). Each pipe is a real
delay line, not a queue of sleeps:

* a reader stamps each chunk with its deadline, ``arrival + D``, and queues it;
* a writer takes chunks in arrival order and writes each at its deadline.

Deadlines grow with arrival order, so order is preserved, and a chunk that
arrives while an earlier one waits is not delayed further: two chunks sent 1 ms
apart leave 1 ms apart, D later (sleeping D per chunk would add up instead).
End of stream travels the same way, behind the last chunk.

What it models: propagation delay, so one round trip through it is at least
``2 * D``. What it does not: bandwidth, loss, and TCP's congestion window, which
grows per round trip on a real path but here sees loopback's near-zero RTT on
both legs (slow start never holds a large response back). Nothing is buffered
against back-pressure either; the pages measured are small.

:func:`delay_line` runs one in a process of its own, so that the measuring
side's CPU work (a browser driver, a server in a thread) cannot hold the line's
timers back. Run on its own::

    python -m pushgen.verify.latency --target 127.0.0.1:8443 --delay-ms 50 [--port 0]

It prints ``listening on 127.0.0.1:PORT`` once it accepts connections, and runs
until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import PushgenError

__all__ = [
    "Address",
    "DelayLine",
    "DelayLineError",
    "LatencyProxy",
    "delay_line",
    "main",
    "parse_target",
]


class Address(NamedTuple):
    """A TCP address: a named tuple, as the socket and asyncio APIs take one."""

    host: str
    port: int


_CHUNK = 65536


def _nodelay(writer: asyncio.StreamWriter) -> None:
    # Small frames (SETTINGS acks, WINDOW_UPDATEs) must leave at their deadline,
    # not wait for Nagle's algorithm to coalesce them.
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class DelayLineError(PushgenError):
    """A delay line that cannot be made (a negative delay) or whose process did not start."""


class LatencyProxy:
    """Accept TCP on ``host:port`` and relay to ``target``, delaying each direction by ``delay`` s.

    ``port=0`` picks a free port; :attr:`port` holds the real one after
    :meth:`start`. Use as an async context manager or call :meth:`start` and
    :meth:`close`.
    """

    def __init__(
        self, target: tuple[str, int], delay: float, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if not delay >= 0:  # also refuses NaN
            raise DelayLineError(f"a delay line's delay must be >= 0 seconds, not {delay!r}")
        self.target = target
        self.delay = delay
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[bool]] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self._closing = False

    async def start(self) -> int:
        """Start listening; return the port."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stop listening and cut every relayed connection."""
        self._closing = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        # Handlers end on their own once their pipes are cancelled; wait for them
        # so no connection outlives the proxy. Only then wait for the server:
        # from Python 3.12 on, wait_closed() waits for every connection too.
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> LatencyProxy:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)
        _nodelay(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        if self._closing:  # close() ran while the upstream connection was being made
            for end in (writer, up_writer):
                end.close()
            return
        _nodelay(up_writer)
        pipes = {
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        }
        self._pipes |= pipes
        try:
            # A pipe that ends cleanly has carried its EOF across (a half-close);
            # the other direction may still be sending, so wait for both. A pipe
            # that fails or is cancelled (close()) ends the connection.
            pending = set(pipes)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if any(t.cancelled() or t.exception() is not None or not t.result() for t in done):
                    break
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._pipes -= pipes
            for end in (writer, up_writer):
                end.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Relay ``reader`` to ``writer`` through the delay line; True when it ended with EOF."""
        loop = asyncio.get_running_loop()
        # (deadline, chunk); an empty chunk stands for end of stream.
        line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def receive() -> None:
            while True:
                try:
                    chunk = await reader.read(_CHUNK)
                except OSError:  # a reset connection ends the stream like an EOF
                    chunk = b""
                line.put_nowait((loop.time() + self.delay, chunk))
                if not chunk:
                    return

        receiving = asyncio.ensure_future(receive())
        try:
            while True:
                deadline, chunk = await line.get()
                wait = deadline - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return True
                writer.write(chunk)
                await writer.drain()
        except OSError:
            return False
        finally:
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)


def parse_target(text: str) -> Address:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return Address(host, int(port))


async def _serve(
    target: tuple[str, int], delay: float, port: int, ready: Callable[[int], None]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with LatencyProxy(target, delay, port=port) as proxy:
        ready(proxy.port)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Run a proxy until SIGINT/SIGTERM; return 0."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", type=parse_target, required=True, help="HOST:PORT to relay to")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="one-way delay (ms)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    args = parser.parse_args(argv)

    def ready(port: int) -> None:
        print(f"listening on 127.0.0.1:{port}", flush=True)

    asyncio.run(_serve(args.target, args.delay_ms / 1000, args.port, ready))
    return 0


@dataclass(frozen=True, slots=True)
class DelayLine:
    """A delay line running in its own process: connect to ``host:port`` instead of the target."""

    host: str
    port: int
    delay: float  # one way, in seconds: a round trip through the line takes 2 * delay more

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, for a URL."""
        return f"{self.host}:{self.port}"


_LISTENING = "listening on 127.0.0.1:"


def _await_port(process: subprocess.Popen[bytes], timeout: float) -> int:
    """The port the child prints once it listens; :class:`DelayLineError` when it never does."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in seen or not seen.decode(errors="replace").startswith(_LISTENING):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([process.stdout], [], [], max(left, 0))
        chunk = os.read(process.stdout.fileno(), 4096) if ready else b""
        if not chunk:  # end of output, or the deadline passed
            output = seen.decode(errors="replace").strip() or "no output"
            raise DelayLineError(f"the delay line did not start ({output})")
        seen += chunk
    return int(seen.decode().splitlines()[0].removeprefix(_LISTENING))


@contextlib.contextmanager
def delay_line(
    target: tuple[str, int], delay: float, *, start_timeout: float = 30.0
) -> Iterator[DelayLine]:
    """Run a :class:`LatencyProxy` to ``target`` (``delay`` s each way) in a child process.

    The child is this module run by this interpreter, with this copy of pushgen
    first on its path; it is stopped (SIGINT, then killed) when the block ends.
    """
    if not delay >= 0:
        raise DelayLineError(f"a delay line's delay must be >= 0 seconds, not {delay!r}")
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds pushgen/
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", "pushgen.verify.latency"]
    argv += ["--target", f"{target[0]}:{target[1]}", "--delay-ms", repr(delay * 1000)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        port = _await_port(process, start_timeout)
        yield DelayLine("127.0.0.1", port, delay)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
