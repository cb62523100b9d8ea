"""The runtime under load and with misbehaving clients: ``pushgen serve`` on a real Hypercorn.

* h2load: 20,000 requests over 10 connections with 100 concurrent streams each,
  no failure, every answer a 200 (by the server's own access log: h2load files a
  page's 103 Early Hints under "3xx"), and a resident set that stays flat once
  warm (sampled from ``/proc/PID/status``; a growth bound, not a timing): the
  20,000 in two rounds after a warm-up round of the same shape, so that a leak
  shows as growth in each. The literal one-round command runs too: Hypercorn
  closes an HTTP/2 connection after 1,000 requests by default, which h2load
  does not retry, and ``pushgen serve`` raises that limit.
* Clients that cancel every pushed stream (RST_STREAM), that turn push off
  (SETTINGS_ENABLE_PUSH=0), that cancel their own stream or disconnect
  mid-response (FIN or RST), and slow readers on HTTP/2 (a 1 KiB window, no
  WINDOW_UPDATE for seconds) and HTTP/1.1 (not reading): while they misbehave a
  well-behaved client keeps getting complete, correct responses and pushes;
  the slow readers then get every byte; the log holds no traceback or error.
* A manifest replaced by broken ones while clients keep asking: each problem is
  logged with its line and the last good manifest stays in service; no client
  ever sees a partial or empty push list.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import pytest

from pushgen.fsutil import atomic_write
from tests.clients import ServerProcess, h2_get, start_serve
from tests.conftest import OUTPUT_FILES, Site, make_site

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(shutil.which("h2load") is None, reason="needs h2load (nghttp2-client)"),
]

BIG = 5_000_000  # a file far larger than any flow-control window or socket buffer
_PROBLEM = re.compile(r"Traceback|\[ERROR\]|\[CRITICAL\]|Exception|Error:")


def rss_kib(pid: int) -> int:
    """The resident set of process ``pid`` in KiB (VmRSS)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert match, status
    return int(match.group(1))


def wait_for_log(server: ServerProcess, since: int) -> str:
    """The server's log after offset ``since``, once it stopped growing (access lines land late)."""
    size = -1
    while size != len(server.log()):
        size = len(server.log())
        time.sleep(0.3)
    return server.log()[since:]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = make_site(tmp_path_factory.mktemp("load") / "site")
    (site.output / "static" / "big.bin").write_bytes(bytes(range(256)) * (BIG // 256))
    return site


def serve_site(
    site: Site, cache_dir: Path, log: str, env: dict[str, str] | None = None, **kwargs: Any
) -> ServerProcess:
    """``pushgen serve`` on ``site`` as built (logging to ``log`` beside it), with ``env`` set."""
    return start_serve(
        site.root,
        site.root.parent / log,
        env={"XDG_CACHE_HOME": str(cache_dir), **(env or {})},
        build_if_stale=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def server(site: Site, cache_dir: Path) -> Iterator[ServerProcess]:
    # A 103 before every page, as the well-behaved client below expects.
    process = serve_site(site, cache_dir, "server.log", early_hints_delay=0)
    yield process
    process.stop()


# --- h2load ---------------------------------------------------------------------------------


@dataclass
class H2Load:
    total: int
    started: int
    done: int
    succeeded: int
    failed: int
    errored: int
    timeout: int
    rps: float
    output: str


def h2load(urls: list[str], requests: int, clients: int = 10, streams: int = 100) -> H2Load:
    done = subprocess.run(
        ["h2load", "-n", str(requests), "-c", str(clients), "-m", str(streams), *urls],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    counts = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
        r"(\d+) errored, (\d+) timeout",
        output,
    )
    rps = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", output)
    assert counts and rps, output
    total, started, completed, succeeded, failed, errored, timeout = map(int, counts.groups())
    return H2Load(
        total, started, completed, succeeded, failed, errored, timeout, float(rps.group(1)), output
    )


def served(log: str) -> dict[str, int]:
    """Access-log lines by status code."""
    found: dict[str, int] = {}
    for status in re.findall(r'"GET \S+ 2" (\d{3}) ', log):
        found[status] = found.get(status, 0) + 1
    return found


def test_h2load_20000_requests_no_failure_flat_memory(server: ServerProcess) -> None:
    urls = [server.url, server.url + "docs/", server.url + "static/css/site.css"]
    pid = server.process.pid
    before = rss_kib(pid)
    # Warm: one round of the same shape (the allocator's high-water mark for 1,000
    # concurrent streams is reached in it), then 20,000 more in two rounds.
    warm = h2load(urls, 10_000)
    assert warm.failed == 0, warm.output
    warmed = rss_kib(pid)
    since = len(wait_for_log(server, 0))  # the warm-up's access lines have all landed
    rounds: list[H2Load] = []
    rss = [warmed]
    for _ in range(2):  # a leak grows the resident set in each round
        rounds.append(h2load(urls, 10_000))
        rss.append(rss_kib(pid))
    for run in rounds:
        assert (run.succeeded, run.failed, run.errored, run.timeout) == (10_000, 0, 0, 0), (
            run.output
        )
    log = wait_for_log(server, since)
    assert served(log) == {"200": 20_000}
    assert not _PROBLEM.search(log.replace('"GET ', "")), log[-3000:]
    # A leak grows the resident set in every round by about the same amount; a
    # new high-water mark (a busy machine lets more streams pile up at once in one
    # round than in the warm-up) is a step in one round that does not come back.
    # So the bound is on the smaller of the two rounds' growth: 15% of the warm
    # size per 10,000 requests is the 30% per 20,000 this test always allowed, and
    # a leak that size still fails, while one noisy round no longer does
    # (32.3% over both rounds was seen on a loaded machine).
    steps = [(b - a) / warmed for a, b in itertools.pairwise(rss)]
    print(
        f"h2load 10,000 to warm, then 2 x 10,000 requests, 10 connections x 100 streams: "
        f"{', '.join(f'{r.rps:.0f} req/s' for r in rounds)}; RSS {before} KiB at start, "
        f"{warmed} KiB warm, then {', '.join(f'{v} KiB' for v in rss[1:])} "
        f"(rounds {', '.join(f'{g:+.1%}' for g in steps)})"
    )
    assert min(steps) < 0.15, (before, rss)


def test_h2load_20000_requests_on_10_connections_in_one_round(server: ServerProcess) -> None:
    """The issue's literal command: 2,000 requests per connection, past Hypercorn's default cap.

    Hypercorn ends an HTTP/2 connection with a GOAWAY after 1,000 requests
    (``keep_alive_max_requests``) and h2load does not retry the streams it had in
    flight: half the requests failed until ``pushgen serve`` raised the limit.
    """
    since = len(wait_for_log(server, 0))
    run = h2load([server.url], 20_000)
    assert (run.succeeded, run.failed, run.errored, run.timeout) == (20_000, 0, 0, 0), run.output
    log = wait_for_log(server, since)
    assert served(log) == {"200": 20_000}
    assert not _PROBLEM.search(log.replace('"GET ', "")), log[-3000:]


# --- misbehaving clients ----------------------------------------------------------------------


def _tls(port: int, alpn: str = "h2") -> ssl.SSLSocket:
    context = ssl._create_unverified_context()
    context.set_alpn_protocols([alpn])
    sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="127.0.0.1"
    )
    assert sock.selected_alpn_protocol() == alpn
    return sock


class RawH2:
    """An HTTP/2 client on the h2 library that does exactly what a test tells it."""

    def __init__(
        self, port: int, settings: dict[h2.settings.SettingCodes, int] | None = None
    ) -> None:
        self.sock = _tls(port)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        if settings:
            self.conn.local_settings = h2.settings.Settings(client=True, initial_values=settings)
        self.conn.initiate_connection()
        self.flush()

    def flush(self) -> None:
        self.sock.sendall(self.conn.data_to_send())

    def get(self, path: str) -> int:
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(
            stream_id,
            [(":method", "GET"), (":path", path), (":scheme", "https"), (":authority", "x")],
            end_stream=True,
        )
        self.flush()
        return stream_id

    def events(self) -> list[h2.events.Event]:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        events = self.conn.receive_data(data)
        self.flush()
        return events

    def close(self, *, abort: bool = False) -> None:
        if abort:  # a TCP RST instead of a FIN
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            with contextlib.suppress(OSError):
                self.conn.close_connection()
                self.flush()
        self.sock.close()


def cancel_every_push(port: int) -> int:
    """GET / and answer each PUSH_PROMISE with RST_STREAM(CANCEL); the page must still arrive."""
    client = RawH2(port)
    stream_id = client.get("/")
    cancelled, body, ended = 0, b"", False
    while not ended:
        for event in client.events():
            if isinstance(event, h2.events.PushedStreamReceived):
                assert event.pushed_stream_id is not None
                client.conn.reset_stream(event.pushed_stream_id, h2.errors.ErrorCodes.CANCEL)
                cancelled += 1
            elif isinstance(event, h2.events.DataReceived):
                client.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if event.stream_id == stream_id:
                    body += event.data
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                ended = True
        client.flush()
    client.close()
    assert body == OUTPUT_FILES["index.html"]
    return cancelled


def cancel_own_stream_then_reuse(port: int) -> None:
    """RST_STREAM our own request mid-body, then make another on the same connection."""
    client = RawH2(port)
    first = client.get("/static/big.bin")
    got = 0
    while got < 16_384:
        for event in client.events():
            if isinstance(event, h2.events.DataReceived) and event.stream_id == first:
                got += len(event.data)
    client.conn.reset_stream(first, h2.errors.ErrorCodes.CANCEL)
    client.flush()
    second = client.get("/static/css/site.css")
    body, ended = b"", False
    while not ended:
        for event in client.events():
            if isinstance(event, h2.events.DataReceived):
                client.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if event.stream_id == second:
                    body += event.data
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == second:
                ended = True
        client.flush()
    client.close()
    assert body == OUTPUT_FILES["static/css/site.css"]


def disconnect_mid_response(port: int, *, abort: bool, path: str = "/static/big.bin") -> None:
    """Read part of a response, then drop the connection (FIN, or RST with ``abort``)."""
    client = RawH2(port)
    client.get(path)
    got = 0
    while got < 8_192:
        for event in client.events():
            if isinstance(event, h2.events.DataReceived):
                got += len(event.data)
    client.close(abort=abort)


def disconnect_mid_response_http11(port: int, *, abort: bool) -> None:
    sock = _tls(port, "http/1.1")
    sock.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(8_192).startswith(b"HTTP/1.1 200")
    if abort:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@dataclass
class SlowReader:
    """Requests the big file and reads nothing for ``hold`` seconds, then reads it all."""

    port: int
    http2: bool
    hold: float
    stalled: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self.body = self._h2() if self.http2 else self._h11()
        except BaseException as exc:  # reported by the test thread
            self.error = exc

    def _h2(self) -> bytes:
        # A 1 KiB stream window and no WINDOW_UPDATE: the server must wait, not buffer.
        client = RawH2(self.port, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024})
        stream_id = client.get("/static/big.bin")
        self.stalled.set()
        time.sleep(self.hold)
        body, ended = b"", False
        client.conn.increment_flow_control_window(2**30)
        client.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2**20})
        client.flush()
        while not ended:
            for event in client.events():
                if isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                    body += event.data
                    client.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                    ended = True
            client.flush()
        client.close()
        return body

    def _h11(self) -> bytes:
        sock = _tls(self.port, "http/1.1")
        sock.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.stalled.set()
        time.sleep(self.hold)
        data = b""
        while chunk := sock.recv(1 << 20):
            data += chunk
        sock.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        return body


def test_misbehaving_clients_do_not_disturb_the_others(server: ServerProcess, site: Site) -> None:
    port = server.port
    since = len(wait_for_log(server, 0))
    hold = 4.0
    slow = [SlowReader(port, http2=True, hold=hold), SlowReader(port, http2=False, hold=hold)]
    threads = [threading.Thread(target=s.run) for s in slow]
    for thread in threads:
        thread.start()
    for reader in slow:
        assert reader.stalled.wait(10)
    stalled_until = time.monotonic() + hold
    misbehaviour: list[Callable[[], Any]] = [
        lambda: cancel_every_push(port),
        lambda: h2_get("127.0.0.1", port, "/", enable_push=False),
        lambda: cancel_own_stream_then_reuse(port),
        lambda: disconnect_mid_response(port, abort=False),
        lambda: disconnect_mid_response(port, abort=True),
        lambda: disconnect_mid_response(port, abort=True, path="/"),
        lambda: disconnect_mid_response_http11(port, abort=False),
        lambda: disconnect_mid_response_http11(port, abort=True),
    ]
    counts = {"misbehaving": 0, "good while stalled": 0, "pushes cancelled": 0}
    expected_pushes = {path: site.file(path) for path in site.pushed["/"]}
    while time.monotonic() < stalled_until - 0.5:
        for misbehave in misbehaviour:
            result = misbehave()
            counts["misbehaving"] += 1
            if isinstance(result, int):
                counts["pushes cancelled"] += result
            elif result is not None:  # the client with push off
                assert result.status == 200 and result.pushes == {}
        # A well-behaved client, between them: the full page, every push, every byte.
        exchange = h2_get("127.0.0.1", port, "/")
        assert exchange.status == 200 and exchange.body == site.file("/index.html")
        assert {p: x.body for p, x in exchange.pushes.items()} == expected_pushes
        assert [dict(h)[":status"] for h in exchange.informational] == ["103"]
        if time.monotonic() < stalled_until:
            counts["good while stalled"] += 1
    for thread in threads:
        thread.join(60)
    for reader in slow:
        assert reader.error is None, reader.error
        assert reader.body == (site.output / "static" / "big.bin").read_bytes()
    assert counts["good while stalled"] >= 3, counts
    assert counts["pushes cancelled"] >= len(site.pushed["/"])
    log = wait_for_log(server, since)
    problems = [line for line in log.splitlines() if _PROBLEM.search(line.replace('"GET ', ""))]
    assert problems == [], log[-4000:]
    print(
        f"misbehaving clients: {counts}; slow readers (h2, HTTP/1.1) stalled {hold}s, then complete"
    )


# --- a broken manifest under load -------------------------------------------------------------

GOOD = """\
version: 1
routes:
  /:
    - {path: /static/css/site.css, as: style}
    - {path: /static/js/app.js, as: script, module: true}
"""
# Each broken manifest, and the line its first problem is on.
BROKEN: list[tuple[str, bytes, int]] = [
    ("invalid YAML", b"version: 1\nroutes:\n  /: [{path: /a.css, as: style}\n", 4),
    ("unknown destination", GOOD.replace("as: style", "as: stlye").encode(), 4),
    (
        "escaping path",
        GOOD.replace("/static/css/site.css", "/static/../../pushgen.yaml").encode(),
        4,
    ),
    ("encoded escape", GOOD.replace("/static/js/app.js", "/static/%2e%2e/%2e%2e/x").encode(), 5),
    ("not UTF-8", GOOD.encode().replace(b"site.css", b"s\xe9te.css"), 4),
    ("not a mapping", b"- version: 1\n- routes: {}\n", 1),
    ("unknown key", GOOD.replace("routes:", "rootes:").encode(), 2),
    ("half written", GOOD.encode()[:85], 6),
]


@dataclass(frozen=True)
class Asked:
    """One request of the reload test: when it was sent, when answered, what was pushed."""

    sent: float
    answered: float
    pushes: list[str]


def test_a_broken_manifest_keeps_the_last_good_one_in_service_under_load(
    start_server: Any, tmp_path: Path
) -> None:
    site = make_site(tmp_path / "reload")
    atomic_write(site.manifest, GOOD.encode())
    process: ServerProcess = start_server(
        site.root, build_if_stale=False, env={"PUSHGEN_RELOAD_INTERVAL": "0.1"}
    )
    good_pushes = ["/static/css/site.css", "/static/js/app.js"]
    final_pushes = ["/static/js/app.js"]
    # Each answer with when its request was sent and when it was answered: four
    # connections overlap, so answers do not come back in the order they were asked.
    seen: list[Asked] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                sent = time.monotonic()
                exchange = h2_get("127.0.0.1", process.port, "/")
                assert exchange.status == 200
                seen.append(Asked(sent, time.monotonic(), list(exchange.pushes)))
            except BaseException as exc:
                failures.append(exc)
                return

    askers = [threading.Thread(target=keep_asking) for _ in range(4)]
    for thread in askers:
        thread.start()
    deadline = time.monotonic() + 60
    while "loaded" not in process.log():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        for count, (name, data, line) in enumerate(BROKEN, 1):
            atomic_write(site.manifest, data)
            while process.log().count("keeping the previous manifest") < count:
                assert time.monotonic() < deadline, (name, process.log()[-2000:])
                time.sleep(0.05)
            # "FILE:LINE:COL: error: ..." (or "FILE:LINE: error: ..." without a column).
            where = re.escape(str(site.manifest)) + f":{line}:" + r"(\d+:)? error: "
            assert re.search(where, process.log()), (name, process.log()[-2000:])
            assert h2_get("127.0.0.1", process.port, "/").pushes.keys() == set(good_pushes), name
        atomic_write(
            site.manifest,
            GOOD.replace("    - {path: /static/css/site.css, as: style}\n", "").encode(),
        )
        while "reloaded" not in process.log():
            assert time.monotonic() < deadline, process.log()[-2000:]
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in askers:
            thread.join(30)
    assert failures == []
    assert all(a.pushes in (good_pushes, final_pushes) for a in seen), (
        "a partial manifest was served"
    )
    # Once one answer came from the new manifest, every request sent after it gets it
    # too: the old table never comes back.
    switched = min(a.answered for a in seen if a.pushes == final_pushes)
    after = [a.pushes for a in seen if a.sent > switched]
    assert after and all(pushes == final_pushes for pushes in after)
    log = process.log()
    assert "Traceback" not in log
    print(
        f"{len(seen)} requests during {len(BROKEN)} broken manifests: all 200, pushes never partial"
    )
