"""Page load in round trips: no hints, Link headers, 103 Early Hints and push, against h2o and the limit.

The page's critical assets form a chain a browser can only discover one step at
a time::

    /  ->  /static/css/site.css  --@import->  /static/css/base.css  --@font-face->  body.woff2

Every request goes through ``pushgen.verify.latency`` (in its own process), a
delay line that holds each byte ``--delay-ms`` (default 50 ms) in each direction,
so a round trip (RTT) costs ``2 * delay``; this kernel has no netem. The time of
a load is from sending the page request (on a connection already set up: TLS
done, SETTINGS exchanged) until the last critical asset has fully arrived,
reported in ms and in RTTs. Without hints the chain costs 4 RTTs; preload hints
(103 or Link) flatten it to 2 (page, then everything at once); push delivers it
all in the page's own round trip: 1 RTT, the limit for anything that needs a
request.

The client (:class:`BrowserClient`) behaves as a browser that still accepts push:
it requests the page; acts on ``rel=preload``/``modulepreload`` links in a 103 and
in the final response's headers (Chromium does both); accepts every
PUSH_PROMISE and never requests a promised path; parses each HTML and CSS
response as it completes with pushgen's own scanners (:func:`scan_html`,
:func:`scan_css`) and requests what they find that is not already on its way.
It also counts duplicate downloads (a path both pushed and requested). nghttp
cannot be the client for the chain: ``nghttp -a`` follows the stylesheet a page
links but neither ``@import`` nor fonts. It is run as a cross-check where the
whole chain is pushed (``nghttp -ans``: the last ``responseEnd`` minus the
page's ``requestStart``).

Scenarios, each on its own server process (all start before the first round;
rounds are interleaved and the order rotates each round):

* pushgen serve, the built site, with the runtime set by ``PUSHGEN_*``:
  no hints (push, 103 and Link off); Link headers only; 103 only (sent before
  every page: ``PUSHGEN_EARLY_HINTS_DELAY=0``); push only; and the defaults
  (push + Link, and a 103 only for a page whose response has not started after
  2 ms, which a static page never is);
* h2o (Debian's ``h2o``, ``apt-get install -y h2o``) serving the same folder
  and pushing the same list (the route table's Link values, given to h2o by an
  mruby handler, since h2o pushes from Link headers an mruby handler or a
  proxied upstream sets): the native-server anchor;
* a dynamic Quart route (``/think``) that awaits ``asyncio.sleep(0.2)`` before
  answering, with the pushgen extension: no hints; 103 with the extension's
  default delay (0: at once, the one to use for views that think); 103 with
  ``pushgen serve``'s 2 ms delay, which should cost those 2 ms and no more;
  push. 103 and push both let the client have the chain while the server
  thinks (pushgen pushes before the view runs).

The proxy models propagation delay only (no bandwidth limit, no slow start), so
these are round-trip counts, not a model of a real network. Usage::

    python bench/pageload_bench.py [--delay-ms 50] [--rounds 7] [--quick] [--no-h2o]
        [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
from bench_markdown import put_block
from bench_process import SERVING, Process, spawn_url, wait_for_port

from pushgen.build import build_site
from pushgen.config import load_config
from pushgen.manifest import dump_manifest, load_manifest
from pushgen.runtime.certs import dev_certificate
from pushgen.runtime.headers import build_route_table
from pushgen.scan.css import scan_css
from pushgen.scan.html import scan_html
from pushgen.urls import document_url, resolve

THINK_SECONDS = 0.2
THINK_ROUTE = "/think"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chain</title>
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
</head><body><h1>A page whose font is three steps away</h1></body></html>
"""
SITE_FILES: dict[str, bytes] = {
    "pages/index.html": PAGE.encode(),
    "static/css/site.css": b'@import "base.css";\nh1 { margin: 0 }\n',
    "static/css/base.css": b"@font-face { font-family: Body;"
    b' src: url(../fonts/body.woff2) format("woff2") }\nbody { font-family: Body, sans-serif }\n',
    # A typical subset woff2; larger than a TCP segment, smaller than the
    # initial HTTP/2 window.
    "static/fonts/body.woff2": b"wOF2" + os.urandom(30_000),
}
CHAIN = ("/static/css/site.css", "/static/css/base.css", "/static/fonts/body.woff2")

INTRO = """\
# Performance

Figures measured by the benchmarks in `bench/`. Each table is written by its benchmark
between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers, with the command that made
it; rerunning that command with `--markdown docs/performance.md` replaces the table and
nothing else. The machines these run on are shared and noisy, so every comparison is
measured side by side in one run: interleaved rounds, medians with min and max, ratios of
medians.
"""
SECTION = (
    "## Page load\n"
    "\n"
    "Time from a page request to the last critical asset of a page whose assets chain\n"
    "(page -> stylesheet -> @import -> font), through a delay line; the method is in the\n"
    "docstring of `bench/pageload_bench.py`.\n"
)


# --- the browser-like client ------------------------------------------------------


_LINK = re.compile(
    r"\s*<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:\"(?:[^\"\\]|\\.)*\"|[^;,\s]*))?)*)"
)
_PARAM = re.compile(r";\s*([^;,=\s]+)(?:\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;,\s]*))?")


def _text(headers: Sequence[tuple[bytes | str, bytes | str]] | None) -> list[tuple[str, str]]:
    """Header fields as text (h2 hands back str with ``header_encoding`` set, bytes without)."""
    return [
        (n.decode() if isinstance(n, bytes) else n, v.decode() if isinstance(v, bytes) else v)
        for n, v in headers or ()
    ]


def preload_targets(value: str) -> list[str]:
    """The targets of the ``rel=preload`` and ``rel=modulepreload`` links in a Link value.

    RFC 8288 §3: a comma-separated list of ``<target>; param=value`` links; ``rel``
    may list several space-separated types.
    """
    targets: list[str] = []
    pos = 0
    while pos < len(value):
        match = _LINK.match(value, pos)
        if match is None:
            break
        params = {
            name.lower(): (raw or "").strip('"') for name, raw in _PARAM.findall(match.group(2))
        }
        if {"preload", "modulepreload"} & set(params.get("rel", "").lower().split()):
            targets.append(match.group(1))
        pos = match.end()
        while pos < len(value) and value[pos] in " \t,":
            pos += 1
    return targets


def preloaded(path: str, headers: Sequence[tuple[str, str]]) -> list[str]:
    """The local paths the Link headers of the response for ``path`` preload."""
    found = []
    for name, value in headers:
        if name == "link":
            for target in preload_targets(value):
                resolved = resolve(target, document_url(path))
                if resolved is not None and resolved.local:
                    found.append(resolved.path)
    return found


def discovered(path: str, content_type: str, body: bytes) -> list[str]:
    """The local paths an HTML page or a stylesheet at ``path`` names (pushgen's scanners)."""
    url = document_url(path)
    kind = content_type.split(";")[0].strip()
    if kind == "text/html":
        references = scan_html(body, url).references
    elif kind == "text/css":
        references = scan_css(body, url).references
    else:
        return []
    return [r.path for r in references if r.local and r.path]


@dataclass
class _Fetch:
    path: str
    pushed: bool
    started: float
    status: int = 0
    content_type: str = ""
    body: bytearray = field(default_factory=bytearray)
    ended: float | None = None


@dataclass(frozen=True)
class PageLoad:
    """One load: when each path had fully arrived (seconds after the page request)."""

    done: dict[str, float]
    pushed: frozenset[str]
    duplicates: int
    hint_at: float | None

    @property
    def last(self) -> float:
        """Time until the last resource of the page had arrived."""
        return max(self.done.values())


@contextlib.asynccontextmanager
async def h2_connection(
    host: str, port: int
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter, h2.connection.H2Connection]]:
    """A fresh TLS + HTTP/2 connection that accepts push, set up and warmed like a browser's.

    Chromium's windows (6 MiB per stream, 15 MiB per connection), so flow control
    never costs a round trip; SETTINGS both ways and a PING answered before it is
    handed over, so a measurement starts where a page request on a ready
    connection would.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    reader, writer = await asyncio.open_connection(
        host, port, ssl=context, server_hostname="localhost"
    )
    try:
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        conn.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 1,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 6 * 1024 * 1024,
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100,
            },
        )
        conn.initiate_connection()
        conn.increment_flow_control_window(15 * 1024 * 1024 - 65535)
        conn.ping(b"warmup!!")
        writer.write(conn.data_to_send())
        ready = False
        while not ready:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection during set-up")
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.PingAckReceived):
                    ready = True
            writer.write(conn.data_to_send())
        yield reader, writer, conn
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


class BrowserClient:
    """Load one page over a fresh HTTP/2 connection the way a push-accepting browser would."""

    def __init__(self, host: str, port: int, *, timeout: float = 20.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    async def load(self, path: str) -> PageLoad:
        """Fetch ``path`` and everything it leads to; see the module docs for the rules."""
        return await asyncio.wait_for(self._load(path), self.timeout)

    async def _load(self, path: str) -> PageLoad:
        async with h2_connection(self.host, self.port) as (reader, writer, conn):
            return await self._exchange(reader, writer, conn, path)

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn: h2.connection.H2Connection,
        path: str,
    ) -> PageLoad:
        loop = asyncio.get_running_loop()
        authority = f"{self.host}:{self.port}"
        streams: dict[int, _Fetch] = {}
        by_path: dict[str, _Fetch] = {}
        duplicates = 0
        hint_at: float | None = None
        t0 = loop.time()

        def request(target: str) -> None:
            nonlocal duplicates
            if target in by_path:
                return
            stream_id = conn.get_next_available_stream_id()
            conn.send_headers(
                stream_id,
                [
                    (":method", "GET"),
                    (":scheme", "https"),
                    (":authority", authority),
                    (":path", target),
                    ("accept-encoding", "identity"),
                    ("user-agent", "pushgen-pageload-bench"),
                ],
                end_stream=True,
            )
            streams[stream_id] = by_path[target] = _Fetch(target, False, loop.time() - t0)

        def preload(fetch: _Fetch, headers: Sequence[tuple[str, str]]) -> None:
            for target in preloaded(fetch.path, headers):
                request(target)

        def discover(fetch: _Fetch) -> None:
            if fetch.status == 200:
                for target in discovered(fetch.path, fetch.content_type, bytes(fetch.body)):
                    request(target)

        request(path)
        writer.write(conn.data_to_send())
        while any(f.ended is None for f in streams.values()):
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection mid-load")
            now = loop.time() - t0
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.InformationalResponseReceived):
                    fetch = streams[event.stream_id]
                    hint_at = now if hint_at is None else hint_at
                    preload(fetch, _text(event.headers))
                elif isinstance(event, h2.events.PushedStreamReceived):
                    target = dict(_text(event.headers))[":path"]
                    pushed = _Fetch(target, True, now)
                    if target in by_path:  # already requested (after a 103, say)
                        duplicates += 1
                    else:
                        by_path[target] = pushed
                    assert event.pushed_stream_id is not None
                    streams[event.pushed_stream_id] = pushed
                elif isinstance(event, h2.events.ResponseReceived):
                    fetch = streams[event.stream_id]
                    headers = dict(_text(event.headers))
                    fetch.status = int(headers[":status"])
                    fetch.content_type = headers.get("content-type", "")
                    if not fetch.pushed:
                        preload(fetch, _text(event.headers))
                elif isinstance(event, h2.events.DataReceived):
                    streams[event.stream_id].body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    fetch = streams[event.stream_id]
                    fetch.ended = now
                    if by_path.get(fetch.path) is fetch:
                        discover(fetch)
                elif isinstance(event, h2.events.StreamReset):
                    fetch = streams[event.stream_id]
                    fetch.ended = now
                    if by_path.get(fetch.path) is fetch and fetch.pushed:
                        # A cancelled push: ask for it like any other resource.
                        del by_path[fetch.path]
                        request(fetch.path)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    raise ConnectionError(f"the server ended the connection: {event}")
            writer.write(conn.data_to_send())
        conn.close_connection()
        writer.write(conn.data_to_send())
        failed = [f"{f.path} ({f.status})" for f in by_path.values() if f.status != 200]
        if failed:
            raise RuntimeError(f"responses other than 200: {', '.join(failed)}")
        return PageLoad(
            done={p: f.ended for p, f in by_path.items() if f.ended is not None},
            pushed=frozenset(p for p, f in by_path.items() if f.pushed),
            duplicates=duplicates,
            hint_at=hint_at,
        )


# --- nghttp as the client -----------------------------------------------------------


_NGHTTP_ROW = re.compile(
    r"^\s*\d+\s+\+([\d.]+)(us|ms|s)\s+(\*?)\s*\+([\d.]+)(us|ms|s)\s+\S+\s+(\d+)\s+\S+\s+(\S+)\s*$"
)
_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def nghttp_load(url: str, path: str = "/", *, timeout: float = 30.0) -> PageLoad:
    """``nghttp -ans URL``: the last ``responseEnd`` minus the page's ``requestStart``."""
    output = subprocess.run(
        ["nghttp", "-ans", url.rstrip("/") + path],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    ).stdout
    ends: dict[str, float] = {}
    pushed: set[str] = set()
    start: float | None = None
    for line in output.splitlines():
        match = _NGHTTP_ROW.match(line)
        if match is None:
            continue
        end = float(match.group(1)) * _UNIT[match.group(2)]
        begin = float(match.group(4)) * _UNIT[match.group(5)]
        status, target = int(match.group(6)), match.group(7)
        if status != 200:
            raise RuntimeError(f"nghttp got {status} for {target}:\n{output}")
        ends[target] = end
        if match.group(3):
            pushed.add(target)
        if target == path:
            start = begin
    if start is None:
        raise RuntimeError(f"nghttp did not load {path}:\n{output}")
    return PageLoad(
        done={p: t - start for p, t in ends.items()},
        pushed=frozenset(pushed),
        duplicates=0,
        hint_at=None,
    )


# --- servers ------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Flags = dict[str, bool | float]


def _flag(value: bool | float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}"


def start_pushgen(
    site: Path, work: Path, name: str, certs: tuple[Path, Path], **flags: Any
) -> Process:
    """``pushgen serve SITE --port 0`` with the runtime switched by ``PUSHGEN_*``."""
    env = {f"PUSHGEN_{k.upper()}": _flag(v) for k, v in flags.items()}
    env["PUSHGEN_RELOAD_INTERVAL"] = "0"
    argv = [sys.executable, "-m", "pushgen", "serve", str(site), "--port", "0", "--no-build"]
    argv += ["--cert", str(certs[0]), "--key", str(certs[1])]
    return spawn_url(argv, work / f"{name}.log", env, SERVING)


def start_dynamic(
    site: Path, work: Path, name: str, certs: tuple[Path, Path], **flags: Any
) -> Process:
    """The dynamic app (see :func:`serve_dynamic`) in a subprocess."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve-dynamic", str(site)]
    argv += ["--cert", str(certs[0]), "--key", str(certs[1])]
    for key, value in flags.items():
        argv += [f"--{key.replace('_', '-')}", _flag(value)]
    return spawn_url(argv, work / f"{name}.log", {}, SERVING)


def h2o_config(output: Path, port: int, certs: tuple[Path, Path], links: dict[str, str]) -> str:
    """An h2o configuration serving ``output`` on ``port``, pushing ``links`` per path.

    h2o 2.2 pushes what ``rel=preload`` Link headers name when an mruby handler
    or a proxied upstream sets them (``http2-push-preload``, on by default), not
    headers added by ``header.add``; so a small mruby handler answers 399 ("go on
    to the next handler") with the Link headers, and ``file.dir`` serves the file.
    """

    def ruby(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return '"' + escaped + '"'

    table = ", ".join(f"{ruby(path)} => {ruby(value)}" for path, value in sorted(links.items()))
    user = ""
    if os.geteuid() == 0:
        # As root h2o drops to `nobody`, who cannot read a private temporary folder.
        import pwd

        user = f"user: {pwd.getpwuid(os.geteuid()).pw_name}\n"
    return f"""\
{user}num-threads: 1
# Into h2o.log, where browser_bench.py counts what each page load fetched.
access-log: /dev/stdout
listen:
  host: 127.0.0.1
  port: {port}
  ssl:
    certificate-file: {certs[0]}
    key-file: {certs[1]}
hosts:
  default:
    paths:
      /:
        mruby.handler: |
          LINKS = {{{table}}}
          Proc.new do |env|
            link = LINKS[env["PATH_INFO"]]
            [399, link ? {{"link" => link}} : {{}}, []]
          end
        file.dir: {output}
"""


def start_h2o(output: Path, work: Path, certs: tuple[Path, Path], links: dict[str, str]) -> Process:
    """Debian's h2o on a free port, serving ``output`` and pushing ``links``."""
    port = free_port()
    config = work / "h2o.conf"
    config.write_text(h2o_config(output, port, certs, links))
    log = work / "h2o.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(["h2o", "-c", str(config)], stdout=out, stderr=subprocess.STDOUT)
    wait_for_port(port, popen, log)
    return Process(popen, log, port)


def start_proxies(targets: list[int], delay_ms: float, work: Path) -> list[Process]:
    """One delay line process (pushgen.verify.latency) per target port, in the order given."""
    proxies = []
    for i, port in enumerate(targets):
        argv = [
            sys.executable,
            "-m",
            "pushgen.verify.latency",
            "--target",
            f"127.0.0.1:{port}",
            "--delay-ms",
            str(delay_ms),
        ]
        proxies.append(
            spawn_url(argv, work / f"proxy-{i}.log", {}, r"listening on 127\.0\.0\.1:(\d+)")
        )
    return proxies


# --- the dynamic app ----------------------------------------------------------------


def serve_dynamic(site: Path, certfile: Path, keyfile: Path, flags: Flags) -> int:
    """Serve the built ``site`` plus ``/think``, a route that thinks 200 ms, with pushgen.

    The manifest is the built one plus ``/think`` with the same assets as ``/``.
    """
    from quart import Response

    from pushgen.commands.serve_site import run_server
    from pushgen.quart import init_app
    from pushgen.runtime.factory import site_app

    config = load_config(site)
    manifest = load_manifest(config.manifest)
    dynamic = site / "dynamic-manifest.yaml"
    routes = {**manifest.routes, THINK_ROUTE: manifest.routes["/"]}
    dynamic.write_text(dump_manifest(dataclasses.replace(manifest, routes=routes)))
    page = (config.output / "index.html").read_bytes()
    app = site_app(config.output)

    async def think() -> Response:
        await asyncio.sleep(THINK_SECONDS)
        return Response(page, mimetype="text/html", headers={"Cache-Control": "no-cache"})

    app.add_url_rule(THINK_ROUTE, "think", think, methods=["GET"])
    init_app(
        app,
        manifest=dynamic,
        reload_interval=0,
        push=bool(flags["push"]),
        early_hints=bool(flags["early_hints"]),
        link_headers=bool(flags["link_headers"]),
        # None: the extension's default (app.config has no PUSHGEN_EARLY_HINTS_DELAY).
        early_hints_delay=flags.get("early_hints_delay"),
    )
    # The access log: browser_bench.py counts what each page load fetched.
    return run_server(app, port=0, certfile=certfile, keyfile=keyfile, access_log=True)


# --- the benchmark ------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One row: which server, which page, which client, and the round trips the model expects."""

    name: str
    server: str
    path: str = "/"
    client: str = "browser"
    expected: str = ""
    # Whether the page must come with a 103 (checked, so that a row called "103"
    # measures one whatever the runtime's defaults become).
    early_hints: bool = False


def make_site(root: Path) -> Path:
    """Write and build the chain site under ``root``."""
    for rel, content in SITE_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    build_site(load_config(root))
    return root


@contextlib.contextmanager
def running(processes: list[Process]) -> Iterator[list[Process]]:
    """Stop every process on the way out."""
    try:
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()


SERVERS: dict[str, tuple[str, Flags]] = {
    "none": ("pushgen", {"push": False, "early_hints": False, "link_headers": False}),
    "link": ("pushgen", {"push": False, "early_hints": False, "link_headers": True}),
    # pushgen serve holds a static page's 103 back by default (it would leave with
    # the 200); this scenario is about the 103, so it asks for one on every page.
    "103": (
        "pushgen",
        {"push": False, "early_hints": True, "link_headers": False, "early_hints_delay": 0.0},
    ),
    "push": ("pushgen", {"push": True, "early_hints": False, "link_headers": False}),
    "defaults": ("pushgen", {"push": True, "early_hints": True, "link_headers": True}),
    "dyn-none": ("dynamic", {"push": False, "early_hints": False, "link_headers": False}),
    # The extension's default delay: 0, the 103 at once.
    "dyn-103": ("dynamic", {"push": False, "early_hints": True, "link_headers": False}),
    "dyn-103-2ms": (
        "dynamic",
        {"push": False, "early_hints": True, "link_headers": False, "early_hints_delay": 0.002},
    ),
    "dyn-push": ("dynamic", {"push": True, "early_hints": False, "link_headers": False}),
}

SCENARIOS = [
    Scenario("static, no hints", "none", expected="4"),
    Scenario("static, Link headers only", "link", expected="2"),
    Scenario("static, 103 Early Hints only", "103", expected="2", early_hints=True),
    Scenario("static, push", "push", expected="1"),
    Scenario("static, push (nghttp -a)", "push", client="nghttp", expected="1"),
    Scenario("static, push + Link, 103 if late (serve defaults)", "defaults", expected="1"),
    Scenario("h2o, push (anchor)", "h2o", expected="1"),
    Scenario("h2o, push (anchor, nghttp -a)", "h2o", client="nghttp", expected="1"),
    Scenario("dynamic 200 ms, no hints", "dyn-none", THINK_ROUTE, expected="1 + think + 3"),
    Scenario(
        "dynamic 200 ms, 103 Early Hints",
        "dyn-103",
        THINK_ROUTE,
        expected="1 + think",
        early_hints=True,
    ),
    Scenario(
        "dynamic 200 ms, 103 Early Hints after 2 ms (serve delay)",
        "dyn-103-2ms",
        THINK_ROUTE,
        expected="1 + think",
        early_hints=True,
    ),
    Scenario("dynamic 200 ms, push", "dyn-push", THINK_ROUTE, expected="1 + think"),
]


@dataclass
class Samples:
    """Per scenario: load times (s) and duplicate downloads of every round."""

    times: list[float] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)


def run(delay_ms: float, rounds: int, with_h2o: bool) -> dict[str, Samples]:
    """Start every server and proxy, then load each scenario once per round, interleaved."""
    scenarios = [s for s in SCENARIOS if with_h2o or s.server != "h2o"]
    work = Path(tempfile.mkdtemp(prefix="pushgen-pageload-"))
    try:
        site = make_site(work / "site")
        config = load_config(site)
        cert = dev_certificate(work / "cert")
        certs = (cert.certfile, cert.keyfile)
        servers: dict[str, Process] = {}
        with running([]) as processes:
            for name, (kind, flags) in SERVERS.items():
                start = start_pushgen if kind == "pushgen" else start_dynamic
                servers[name] = start(site, work, name, certs, **flags)
                processes.append(servers[name])
            if with_h2o:
                table = build_route_table(load_manifest(config.manifest))
                links = {
                    path: "\n".join(v.decode() for v in plan.links)
                    for path, plan in table.plans.items()
                }
                servers["h2o"] = start_h2o(config.output, work, certs, links)
                processes.append(servers["h2o"])
            names = list(servers)
            proxies = start_proxies([servers[n].port for n in names], delay_ms, work)
            processes.extend(proxies)
            proxy_port = {name: proxy.port for name, proxy in zip(names, proxies, strict=True)}
            samples = {s.name: Samples() for s in scenarios}
            expected = {"/", *CHAIN}
            for round_ in range(rounds + 1):  # round 0 warms every server up
                order = scenarios[round_ % len(scenarios) :] + scenarios[: round_ % len(scenarios)]
                for scenario in order:
                    port = proxy_port[scenario.server]
                    if scenario.client == "nghttp":
                        load = nghttp_load(f"https://127.0.0.1:{port}/", scenario.path)
                    else:
                        client = BrowserClient("127.0.0.1", port)
                        load = asyncio.run(client.load(scenario.path))
                    got = set(load.done) - {scenario.path} | {"/"}
                    if got != expected:
                        raise RuntimeError(f"{scenario.name}: loaded {sorted(got)}, not the chain")
                    if scenario.early_hints and load.hint_at is None:
                        raise RuntimeError(f"{scenario.name}: the page came without a 103")
                    if round_:
                        samples[scenario.name].times.append(load.last)
                        samples[scenario.name].duplicates.append(load.duplicates)
            return samples
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(samples: dict[str, Samples], delay_ms: float) -> str:
    """The Markdown table: median (min-max) ms and RTTs per scenario."""
    rtt = 2 * delay_ms / 1000
    think = THINK_SECONDS / rtt
    lines = [
        "| scenario | median ms | min ms | max ms | RTTs (median) | model RTTs | duplicate downloads |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        if scenario.name not in samples:
            continue
        times = samples[scenario.name].times
        med = statistics.median(times)
        model = scenario.expected.replace("think", f"{think:g}")
        dups = max(samples[scenario.name].duplicates)
        lines.append(
            f"| {scenario.name} | {med * 1000:.0f} | {min(times) * 1000:.0f} | {max(times) * 1000:.0f}"
            f" | {med / rtt:.2f} | {model} | {dups} |"
        )
    return "\n".join(lines)


def write_markdown(path: Path, command: str, text: str, note: str) -> None:
    """Put ``text`` between this benchmark's markers in ``path``, leaving the rest alone."""
    if not path.exists():
        path.write_text(INTRO)
    put_block(path, "pageload_bench", f"`{command}`{note}\n\n{text}", missing=SECTION + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--serve-dynamic``, the dynamic app); return an exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay-ms", type=float, default=50.0, help="one-way delay (ms)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument("--no-h2o", action="store_true", help="leave out the h2o anchor")
    parser.add_argument("--markdown", type=Path, help="write the table into this file")
    parser.add_argument("--note", default="", help="a remark printed after the command")
    parser.add_argument("--serve-dynamic", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cert", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--key", type=Path, help=argparse.SUPPRESS)
    for flag in ("push", "early-hints", "link-headers"):
        parser.add_argument(
            f"--{flag}", type=int, choices=(0, 1), default=1, help=argparse.SUPPRESS
        )
    parser.add_argument("--early-hints-delay", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_dynamic:
        flags: Flags = {"push": bool(args.push), "early_hints": bool(args.early_hints)}
        flags["link_headers"] = bool(args.link_headers)
        if args.early_hints_delay is not None:
            flags["early_hints_delay"] = args.early_hints_delay
        return serve_dynamic(args.serve_dynamic, args.cert, args.key, flags)
    with_h2o = not args.no_h2o
    if with_h2o and shutil.which("h2o") is None:
        print("h2o is not installed (apt-get install -y h2o); running without it", file=sys.stderr)
        with_h2o = False
    rounds = 3 if args.quick else args.rounds
    samples = run(args.delay_ms, rounds, with_h2o)
    text = table(samples, args.delay_ms)
    print(text)
    if args.markdown:
        command = f"python bench/pageload_bench.py --delay-ms {args.delay_ms:g} --rounds {rounds}"
        if not with_h2o:
            command += " --no-h2o"
        rtt = 2 * args.delay_ms
        note = f" ({rounds} rounds, interleaved; RTT = {rtt:g} ms){args.note}"
        write_markdown(args.markdown, command, text, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
