"""The push budget (``push.max_bytes``) from a measurement: render-blocking set arrival vs. budget.

    python bench/push_budget_bench.py [--rtts 20,100] [--mbps 20] [--rounds 5]

A page whose render-blocking set is larger than any budget tried (a stylesheet
that imports another, its font, a classic head script, a module and its import:
about 215 KB, incompressible) is built five times with ``push.max_bytes`` at 0,
50 KB, 100 KB, 200 KB and no limit; each build is served by ``pushgen serve``
(push on, at most 100 pushes, Link headers for what is not pushed) behind
``bench/slow_start_proxy.py``: a one-way delay of RTT/2, a bandwidth
(``--mbps``), and TCP slow start from an initial window of 10 segments (the
part ``bench/latency_proxy.py`` leaves out, and the reason a budget exists).

The client is a browser that accepts push (h2, on a fresh connection warmed by
a PING, so the TLS handshake has grown the window as it would): it requests the
page, requests what the Link header preloads and what the page and its
stylesheets name that no push promised, and measures, from the page request:

* **cold**: an empty cache; the time until the page and its whole
  render-blocking set have arrived;
* **repeat**: everything but the page cached (a repeat view): the client
  cancels (RST_STREAM) every push at its PUSH_PROMISE, as browsers do; the bytes
  of pushed DATA that still arrive are **wasted**, and the time until the page
  itself has arrived.

Rounds interleave the budgets; medians are printed, and ratios to the
no-push (0) row. Browsers no longer accept push (Chromium 106+); this measures
what the budget does for a client that does (``pushgen serve`` still pushes).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
from bench_process import REPO, SERVING, Process, spawn_url
from pageload_bench import _text, discovered, h2_connection, preloaded

from pushgen.runtime.certs import dev_certificate

PROXY = Path(__file__).with_name("slow_start_proxy.py")
BUDGETS: tuple[int | None, ...] = (0, 50_000, 100_000, 200_000, None)


def _filler(size: int) -> str:
    """``size`` characters of incompressible text (base64 of random bytes)."""
    return base64.b64encode(os.urandom(size))[:size].decode()


def site_files() -> dict[str, str | bytes]:
    page = (
        "<!doctype html><html><head><meta charset=utf-8><title>Budget</title>\n"
        '<link rel=stylesheet href="/static/site.css">\n'
        '<script src="/static/app.js"></script>\n'
        '<script type=module src="/static/main.js"></script>\n'
        "</head><body><h1>A page with 215 KB that blocks its first render</h1>"
        + "<p>text</p>" * 300
        + "</body></html>\n"
    )
    return {
        "pages/index.html": page,
        "templates/.keep": "",
        "static/site.css": f'@import "base.css";\nh1 {{ margin: 0 }}\n/* {_filler(30_000)} */\n',
        "static/base.css": "@font-face { font-family: Body; src: url(body.woff2) format('woff2') }\n"
        f"body {{ font-family: Body, sans-serif }}\n/* {_filler(15_000)} */\n",
        "static/body.woff2": b"wOF2" + os.urandom(40_000),
        "static/app.js": f"/* {_filler(60_000)} */\nvoid 0;\n",
        "static/main.js": f'import "./lib.js";\n/* {_filler(20_000)} */\n',
        "static/lib.js": f"/* {_filler(50_000)} */\nexport {{}};\n",
    }


BLOCKING = frozenset(
    {
        "/",
        "/static/site.css",
        "/static/base.css",
        "/static/body.woff2",
        "/static/app.js",
        "/static/main.js",
        "/static/lib.js",
    }
)


@dataclass
class _Stream:
    path: str
    pushed: bool
    ended: float | None = None
    status: int = 0
    content_type: str = ""
    body: bytearray = field(default_factory=bytearray)


class _PushedData:
    """Counts DATA frame payloads on pushed (even) streams in the bytes the server sent.

    h2 drops frames for a stream the client has reset without an event, so the
    cancelled pushes' bytes are counted here, from the frame headers (RFC 9113
    §4.1: 24-bit length, type, flags, 31-bit stream id).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.by_stream: dict[int, int] = {}

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= 9:
            length = int.from_bytes(self._buffer[0:3], "big")
            if len(self._buffer) < 9 + length:
                return
            kind = self._buffer[3]
            stream_id = int.from_bytes(self._buffer[5:9], "big") & 0x7FFFFFFF
            if kind == 0 and stream_id and stream_id % 2 == 0:
                self.by_stream[stream_id] = self.by_stream.get(stream_id, 0) + length
            del self._buffer[: 9 + length]


@dataclass(frozen=True)
class Load:
    blocking_done: float  # cold: the whole set; repeat: the page
    wasted: int  # pushed DATA bytes for what the client already had or had asked for
    pushed: int  # pushed DATA bytes received


async def load(port: int, *, repeat: bool, timeout: float = 60.0) -> Load:
    return await asyncio.wait_for(_load(port, repeat), timeout)


async def _load(port: int, repeat: bool) -> Load:
    async with h2_connection("127.0.0.1", port) as (reader, writer, conn):
        return await _exchange(reader, writer, conn, port, repeat)


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    conn: h2.connection.H2Connection,
    port: int,
    repeat: bool,
) -> Load:
    loop = asyncio.get_running_loop()
    cached = BLOCKING - {"/"} if repeat else frozenset()
    streams: dict[int, _Stream] = {}
    by_path: dict[str, _Stream] = {}
    cancelled: set[int] = set()
    t0 = loop.time()

    def request(path: str) -> None:
        if path in by_path or path in cached:
            return
        stream_id = conn.get_next_available_stream_id()
        conn.send_headers(
            stream_id,
            [
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", f"localhost:{port}"),
                (":path", path),
                ("accept-encoding", "identity"),
            ],
            end_stream=True,
        )
        streams[stream_id] = by_path[path] = _Stream(path, False)

    frames = _PushedData()
    request("/")
    writer.write(conn.data_to_send())
    done_at: float | None = None
    while done_at is None:
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("the server closed the connection mid-load")
        now = loop.time() - t0
        frames.feed(data)
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.PushedStreamReceived):
                path = dict(_text(event.headers))[":path"]
                assert event.pushed_stream_id is not None
                if path in cached or path in by_path:
                    # A browser cancels a push of what it has (or has asked for).
                    conn.reset_stream(event.pushed_stream_id, h2.errors.ErrorCodes.CANCEL)
                    cancelled.add(event.pushed_stream_id)
                else:
                    streams[event.pushed_stream_id] = by_path[path] = _Stream(path, True)
            elif isinstance(event, h2.events.ResponseReceived):
                if event.stream_id in cancelled:
                    continue
                stream = streams[event.stream_id]
                headers = dict(_text(event.headers))
                stream.status = int(headers[":status"])
                stream.content_type = headers.get("content-type", "")
                if not stream.pushed:
                    for target in preloaded(stream.path, _text(event.headers)):
                        request(target)
            elif isinstance(event, h2.events.DataReceived):
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if event.stream_id in cancelled:
                    continue
                streams[event.stream_id].body += event.data
            elif isinstance(event, h2.events.StreamEnded):
                if event.stream_id in cancelled:
                    continue
                stream = streams[event.stream_id]
                stream.ended = now
                if stream.status != 200:
                    raise RuntimeError(f"{stream.path}: status {stream.status}")
                for target in discovered(stream.path, stream.content_type, bytes(stream.body)):
                    request(target)
            elif (
                isinstance(event, h2.events.StreamReset)
                and event.stream_id in streams
                and event.stream_id not in cancelled
            ):
                raise RuntimeError(f"{streams[event.stream_id].path} was reset")
        writer.write(conn.data_to_send())
        if repeat:
            if by_path["/"].ended is not None:
                done_at = by_path["/"].ended
        elif all(p in by_path and by_path[p].ended is not None for p in BLOCKING):
            done_at = max(by_path[p].ended or 0.0 for p in BLOCKING)
    # Keep reading what is still on its way (cancelled pushes): it is waste too.
    with contextlib.suppress(asyncio.TimeoutError):
        while True:
            data = await asyncio.wait_for(reader.read(65536), 0.5)
            if not data:
                break
            frames.feed(data)
            conn.receive_data(data)
            writer.write(conn.data_to_send())
    wasted = sum(n for stream_id, n in frames.by_stream.items() if stream_id in cancelled)
    pushed_bytes = sum(frames.by_stream.values())
    return Load(done_at, wasted, pushed_bytes)


# --- servers and rounds ----------------------------------------------------------------


def _label(budget: int | None) -> str:
    return "unlimited" if budget is None else f"{budget // 1000} KB"


def build_sites(work: Path) -> dict[int | None, Path]:
    from pushgen.cli import main as pushgen

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # tests/ is a folder of the checkout, not installed
    from tests.sites import write_site

    files = site_files()
    sites: dict[int | None, Path] = {}
    for budget in BUDGETS:
        site = work / f"site-{_label(budget).replace(' ', '')}"
        write_site(site, files)
        limit = "null" if budget is None else str(budget)
        (site / "pushgen.yaml").write_text(f"push: {{max_bytes: {limit}}}\n")
        if pushgen(["build", str(site)]) != 0:
            raise RuntimeError(f"pushgen build {site} failed")
        sites[budget] = site
    return sites


def start_server(site: Path, work: Path, certs: tuple[Path, Path]) -> Process:
    argv = [sys.executable, "-m", "pushgen", "serve", str(site), "--port", "0", "--no-build"]
    argv += ["--cert", str(certs[0]), "--key", str(certs[1])]
    env = {"PUSHGEN_MAX_PUSHES": "100", "PUSHGEN_EARLY_HINTS": "0", "PUSHGEN_RELOAD_INTERVAL": "0"}
    return spawn_url(argv, work / f"{site.name}.log", env, SERVING)


def start_proxy(port: int, rtt_ms: float, mbps: float, work: Path, name: str) -> Process:
    argv = [sys.executable, str(PROXY), "--target", f"127.0.0.1:{port}"]
    argv += ["--delay-ms", str(rtt_ms / 2), "--mbps", str(mbps)]
    return spawn_url(argv, work / f"proxy-{name}.log", {}, r"listening on 127\.0\.0\.1:(\d+)")


@dataclass
class Samples:
    cold: list[float] = field(default_factory=list)
    repeat: list[float] = field(default_factory=list)
    wasted: list[int] = field(default_factory=list)
    pushed: list[int] = field(default_factory=list)


def run(rtts: list[float], mbps: float, rounds: int) -> dict[tuple[float, int | None], Samples]:
    samples = {(rtt, b): Samples() for rtt in rtts for b in BUDGETS}
    with tempfile.TemporaryDirectory(prefix="push-budget-") as folder:
        work = Path(folder)
        cert = dev_certificate(work / "cert", caroot=work / "no-ca")
        certs = (cert.certfile, cert.keyfile)
        sites = build_sites(work)
        processes: list[Process] = []
        try:
            servers = {b: start_server(site, work, certs) for b, site in sites.items()}
            processes += servers.values()
            proxies = {
                (rtt, b): start_proxy(servers[b].port, rtt, mbps, work, f"{rtt:g}-{_label(b)}")
                for rtt in rtts
                for b in BUDGETS
            }
            processes += proxies.values()
            for round_ in range(rounds + 1):  # round 0 warms up, not counted
                order = BUDGETS[round_ % len(BUDGETS) :] + BUDGETS[: round_ % len(BUDGETS)]
                for rtt in rtts:
                    for budget in order:
                        port = proxies[(rtt, budget)].port
                        cold = asyncio.run(load(port, repeat=False))
                        repeat = asyncio.run(load(port, repeat=True))
                        if round_:
                            got = samples[(rtt, budget)]
                            got.cold.append(cold.blocking_done)
                            got.repeat.append(repeat.blocking_done)
                            got.wasted.append(repeat.wasted)
                            got.pushed.append(cold.pushed)
        finally:
            for process in processes:
                process.stop()
    return samples


def table(samples: dict[tuple[float, int | None], Samples], rtts: list[float]) -> str:
    rows = [
        "| RTT | max_bytes | pushed (cold) | render-blocking set (cold) | vs 0 | "
        "page (repeat view) | vs 0 | wasted bytes (repeat view) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rtt in rtts:
        base = samples[(rtt, 0)]
        cold0, repeat0 = statistics.median(base.cold), statistics.median(base.repeat)
        for budget in BUDGETS:
            got = samples[(rtt, budget)]
            cold, repeat = statistics.median(got.cold), statistics.median(got.repeat)
            rows.append(
                f"| {rtt:g} ms | {_label(budget)} | {statistics.median(got.pushed):,.0f} B | "
                f"{cold * 1000:.0f} ms ({cold * 1000 / rtt:.1f} RTT) | {cold / cold0:.2f} | "
                f"{repeat * 1000:.0f} ms | {repeat / repeat0:.2f} | "
                f"{statistics.median(got.wasted):,.0f} B |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rtts", default="20,100", help="round-trip times, ms, comma-separated")
    parser.add_argument("--mbps", type=float, default=20.0, help="bandwidth, Mbit/s")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rtts = [float(r) for r in args.rtts.split(",")]
    samples = run(rtts, args.mbps, args.rounds)
    print(f"{args.mbps:g} Mbit/s, initial window 10 segments, {args.rounds} rounds, medians")
    print(table(samples, rtts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
