"""A delay line that also models a link's bandwidth and TCP slow start, server to client.

    python bench/slow_start_proxy.py --target 127.0.0.1:8443 --delay-ms 50 --mbps 20

``bench/latency_proxy.py`` delays bytes and nothing else, so on it pushing more
bytes is free. Whether a push budget pays depends on what it does not model:
a new connection's congestion window. This proxy is that delay line with, in the
server -> client direction (the one pushes use):

* a bandwidth (``--mbps``): a segment leaves once the previous one is on the wire;
* slow start (RFC 5681, initial window of 10 segments, RFC 6928): at most
  ``cwnd`` bytes in flight; a segment's acknowledgement returns one round trip
  after it left, and each acknowledged byte grows ``cwnd`` by one (doubling per
  round trip), with no loss, so no ceiling but the bandwidth.

Requests (client -> server) only get the delay. The window starts with the
connection, so the TLS handshake and SETTINGS exchange grow it as they would.
It prints ``listening on 127.0.0.1:PORT`` and runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import sys

from latency_proxy import LatencyProxy, _target

__all__ = ["SlowStartProxy", "Window", "main"]

MSS = 1448  # TCP payload per segment with timestamps over Ethernet
INITIAL_WINDOW = 10 * MSS  # RFC 6928


class Window:
    """When each segment of a sender leaves: bandwidth, then the congestion window."""

    def __init__(self, rtt: float, bytes_per_second: float) -> None:
        self.rtt = rtt
        self.rate = bytes_per_second
        self._flight: collections.deque[tuple[float, int]] = collections.deque()
        self._in_flight = 0
        self._acked = 0
        self._link_free = 0.0

    def send(self, now: float, size: int) -> float:
        """The time a segment of ``size`` bytes, ready at ``now``, leaves."""
        leave = max(now, self._link_free)
        while True:
            while self._flight and self._flight[0][0] + self.rtt <= leave:
                _sent, acked = self._flight.popleft()
                self._in_flight -= acked
                self._acked += acked
            if self._in_flight + size <= INITIAL_WINDOW + self._acked:
                break
            leave = self._flight[0][0] + self.rtt  # the next acknowledgement
        self._flight.append((leave, size))
        self._in_flight += size
        self._link_free = leave + size / self.rate
        return leave


class SlowStartProxy(LatencyProxy):
    """:class:`LatencyProxy` whose server -> client pipe goes through a :class:`Window`."""

    def __init__(self, target: tuple[str, int], delay: float, mbps: float, **kw: object) -> None:
        super().__init__(target, delay, **kw)  # type: ignore[arg-type]
        self.rate = mbps * 1e6 / 8

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        peer = writer.get_extra_info("peername")
        if peer is not None and tuple(peer[:2]) == self.target:
            return await super()._pipe(reader, writer)  # requests: the delay only
        loop = asyncio.get_running_loop()
        window = Window(2 * self.delay, self.rate)
        # (deadline, segment) in order; an empty segment stands for end of stream.
        line: collections.deque[tuple[float, bytes]] = collections.deque()
        arrived = asyncio.Event()

        async def receive() -> None:
            while True:
                try:
                    chunk = await reader.read(65536)
                except OSError:  # a reset connection ends the stream like an EOF
                    chunk = b""
                now = loop.time()
                if not chunk:
                    line.append((now + self.delay, b""))
                    arrived.set()
                    return
                for start in range(0, len(chunk), MSS):
                    segment = chunk[start : start + MSS]
                    line.append((window.send(now, len(segment)) + self.delay, segment))
                arrived.set()

        receiving = asyncio.ensure_future(receive())
        try:
            while True:
                while not line:
                    arrived.clear()
                    await arrived.wait()
                wait = line[0][0] - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                due = bytearray()
                while line and line[0][1] and line[0][0] <= loop.time():
                    due += line.popleft()[1]
                if due:
                    writer.write(bytes(due))
                    await writer.drain()
                elif line and not line[0][1]:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return True
        except OSError:
            return False
        finally:
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)


async def _serve(target: tuple[str, int], delay: float, mbps: float, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with SlowStartProxy(target, delay, mbps, port=port) as proxy:
        print(f"listening on 127.0.0.1:{proxy.port}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Run a proxy until SIGINT/SIGTERM; return 0."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", type=_target, required=True, help="HOST:PORT to relay to")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="one-way delay (ms)")
    parser.add_argument("--mbps", type=float, default=20.0, help="bandwidth, Mbit/s")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.target, args.delay_ms / 1000, args.mbps, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
