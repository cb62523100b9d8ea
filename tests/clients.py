"""End-to-end helpers: start a real server, talk to it with real HTTP/2 and HTTP/1.1 clients.

* :func:`start_serve` runs :func:`pushgen.commands.serve_site.serve` in a subprocess on a free
  port and waits for the URL it prints; :func:`start_hypercorn` runs Hypercorn's
  own CLI on the app factory. Both return a :class:`ServerProcess` whose
  ``log()`` is everything the server wrote (stdout and stderr, in order).
* :func:`nghttp` runs ``nghttp -v`` and parses its output into :class:`Frame`
  values (direction, type, stream, flags, headers, promised stream).
* :func:`h2_get` is a small blocking client on the ``h2`` library that keeps the
  bodies of pushed streams, for comparing them with the files.
* :func:`link_values` reads ``Link`` fields, one link per value or several
  comma-joined (RFC 8288 §3), as the list of links they hold.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.settings

__all__ = [
    "REPO",
    "Exchange",
    "Frame",
    "NghttpResult",
    "PushedResponse",
    "ServerProcess",
    "free_port",
    "h2_get",
    "link_values",
    "nghttp",
    "parse_nghttp",
    "run_pushgen",
    "start_hypercorn",
    "start_serve",
    "start_uvicorn",
    "wait_for_port",
]

REPO = Path(__file__).resolve().parents[1]
_URL = re.compile(r"serving at (https://[^\s]+?:(\d+)/)")
# Where one link ends and the next begins in a comma-joined Link field: a comma
# before the next "<uri-reference>" (RFC 8288 §3). A comma inside a quoted
# param (imagesrcset="a.png 1x, b.png 2x", media="a, b") is followed by no "<".
_NEXT_LINK = re.compile(r",\s*(?=<)")


def link_values(fields: Sequence[str]) -> list[str]:
    """The links the ``Link`` field values ``fields`` hold, in order, one string each."""
    return [link.strip() for value in fields for link in _NEXT_LINK.split(value)]


# --- servers ------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    """Return once ``host:port`` accepts a TCP connection; raise TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port}") from None
            time.sleep(0.05)


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class ServerProcess:
    """A server running in a subprocess; its output goes to ``log_path``."""

    process: subprocess.Popen[bytes]
    log_path: Path
    host: str = "127.0.0.1"
    port: int = 0

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, signum: int = signal.SIGINT, timeout: float = 10.0) -> int:
        """Send ``signum`` (Ctrl-C by default) and wait; kill after ``timeout``. The exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)


def run_pushgen(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pushgen ARGS`` in ``cwd``, in its own interpreter (an app it imports
    stays out of the test's), with this checkout's pushgen; its output captured."""
    env = _env({"PYTHONDONTWRITEBYTECODE": "1"})
    return subprocess.run(
        [sys.executable, "-m", "pushgen", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _spawn(argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None) -> ServerProcess:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, env=_env(env), cwd=log_path.parent
        )
    return ServerProcess(process, log_path)


_SERVE = """
import json, sys
from pushgen.commands.serve_site import serve
sys.exit(serve(sys.argv[1], **json.loads(sys.argv[2])))
"""


def start_serve(
    site: Path,
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 20.0,
    **kwargs: object,
) -> ServerProcess:
    """Run ``pushgen.commands.serve_site.serve(site, port=0, **kwargs)`` in a subprocess; wait for its URL."""
    kwargs.setdefault("port", 0)
    kwargs = {k: str(v) if isinstance(v, Path) else v for k, v in kwargs.items()}
    server = _spawn([sys.executable, "-c", _SERVE, str(site), json.dumps(kwargs)], log_path, env)
    deadline = time.monotonic() + timeout
    while True:
        match = _URL.search(server.log())
        if match:
            server.port = int(match.group(2))
            break
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"server did not start:\n{server.log()}")
        time.sleep(0.05)
    wait_for_port(server.host, server.port)
    return server


def start_hypercorn(
    app: str,
    log_path: Path,
    *,
    certfile: Path,
    keyfile: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    timeout: float = 20.0,
) -> ServerProcess:
    """Run ``hypercorn APP`` (its own CLI) with TLS on a free port; wait until it listens."""
    port = free_port()
    argv = [
        sys.executable, "-m", "hypercorn", app,
        "--bind", f"127.0.0.1:{port}",
        "--certfile", str(certfile), "--keyfile", str(keyfile),
        "--error-logfile", "-", "--access-logfile", "-",
        *args,
    ]  # fmt: skip
    return _listening(_spawn(argv, log_path, env), port, "Running on", timeout)


def _listening(server: ServerProcess, port: int, marker: str, timeout: float) -> ServerProcess:
    """``server`` once it has logged ``marker`` and ``port`` accepts; stopped if it never does."""
    server.port = port
    deadline = time.monotonic() + timeout
    while marker not in server.log():
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{server.process.args!r} did not start:\n{server.log()}")
        time.sleep(0.05)
    wait_for_port(server.host, port)
    return server


def start_uvicorn(app: str, log_path: Path, *, timeout: float = 20.0) -> ServerProcess:
    """Run ``uvicorn APP`` (its own CLI, plain HTTP/1.1) on a free port; wait until it listens."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    return _listening(_spawn(argv, log_path, None), port, "Uvicorn running on", timeout)


# --- nghttp -------------------------------------------------------------------------


@dataclass
class Frame:
    """One HTTP/2 frame as ``nghttp -v`` reported it."""

    direction: str  # "send" or "recv"
    type: str  # "HEADERS", "PUSH_PROMISE", "DATA", "SETTINGS", ...
    stream_id: int
    flags: int
    length: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    promised_stream_id: int | None = None
    at: float = 0.0  # seconds since nghttp started, as it printed them

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)

    def header_list(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name]

    @property
    def status(self) -> int | None:
        value = self.header(":status")
        return int(value) if value is not None else None

    @property
    def end_stream(self) -> bool:
        return self.type in ("HEADERS", "DATA") and bool(self.flags & 0x1)


@dataclass
class NghttpResult:
    returncode: int
    output: str
    frames: list[Frame]

    def received(self, type_: str, stream_id: int | None = None) -> list[Frame]:
        return [
            f
            for f in self.frames
            if f.direction == "recv"
            and f.type == type_
            and (stream_id is None or f.stream_id == stream_id)
        ]


_FRAME = re.compile(
    r"^\[\s*([\d.]+)\] (send|recv) (\w+) frame <length=(\d+), flags=0x([0-9a-f]+), stream_id=(\d+)>"
)
_RECV_HEADER = re.compile(r"^\[\s*[\d.]+\] recv \(stream_id=(\d+)\) (:?[^:]+): (.*)$")
_SENT_HEADER = re.compile(r"^\s+(:?[a-z0-9-]+): (.*)$")
_PROMISED = re.compile(r"promised_stream_id=(\d+)")


def parse_nghttp(output: str) -> list[Frame]:
    """Frames from ``nghttp -v`` output, in the order nghttp printed them.

    nghttp prints a received header block as ``recv (stream_id=N) name: value``
    lines *before* the frame line, and a sent one indented *after* it.
    """
    frames: list[Frame] = []
    pending: list[tuple[str, str]] = []
    for line in output.splitlines():
        frame = _FRAME.match(line)
        if frame:
            at, direction, type_, length, flags, stream_id = frame.groups()
            current = Frame(
                direction, type_, int(stream_id), int(flags, 16), int(length), at=float(at)
            )
            if direction == "recv" and type_ in ("HEADERS", "PUSH_PROMISE"):
                current.headers, pending = pending, []
            frames.append(current)
            continue
        header = _RECV_HEADER.match(line)
        if header:
            pending.append((header.group(2), header.group(3)))
            continue
        if not frames or not line.startswith(" "):
            continue
        last = frames[-1]
        promised = _PROMISED.search(line)
        if promised:
            last.promised_stream_id = int(promised.group(1))
        elif last.direction == "send" and last.type == "HEADERS":
            sent = _SENT_HEADER.match(line)
            if sent:
                last.headers.append((sent.group(1), sent.group(2)))
    return frames


def nghttp(url: str, *args: str, timeout: float = 20.0) -> NghttpResult:
    """Run ``nghttp -nv ARGS URL`` (bodies discarded) and parse what it printed."""
    done = subprocess.run(
        ["nghttp", "-nv", *args, url], capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    return NghttpResult(done.returncode, output, parse_nghttp(done.stdout))


# --- an h2 client -------------------------------------------------------------------


def _text_headers(
    headers: Sequence[tuple[bytes | str, bytes | str]] | None,
) -> list[tuple[str, str]]:
    """h2's header tuples as text (the connection decodes them: ``header_encoding``)."""
    return [
        (k if isinstance(k, str) else k.decode(), v if isinstance(v, str) else v.decode())
        for k, v in headers or ()
    ]


@dataclass
class PushedResponse:
    path: str
    promise_headers: list[tuple[str, str]]
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    ended: bool = False


@dataclass
class Exchange:
    """Everything one request on one HTTP/2 connection brought back."""

    alpn: str | None
    informational: list[list[tuple[str, str]]] = field(default_factory=list)
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    pushes: dict[str, PushedResponse] = field(default_factory=dict)
    # The order in which things arrived: "informational", "push_promise", "response".
    order: list[str] = field(default_factory=list)
    reset_streams: list[int] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)


@contextlib.contextmanager
def _tls(
    host: str, port: int, cafile: Path | None, server_hostname: str | None
) -> Iterator[ssl.SSLSocket]:
    if cafile is not None:
        context = ssl.create_default_context(cafile=str(cafile))
    else:
        context = ssl._create_unverified_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    raw = socket.create_connection((host, port), timeout=10)
    with context.wrap_socket(raw, server_hostname=server_hostname or host) as sock:
        yield sock


def h2_get(
    host: str,
    port: int,
    path: str = "/",
    *,
    enable_push: bool = True,
    cafile: Path | None = None,
    server_hostname: str | None = None,
    timeout: float = 10.0,
    headers: Sequence[tuple[str, str]] = (),
    authority: str | None = None,
) -> Exchange:
    """GET ``path`` over HTTP/2 with TLS; read until the response and every push have ended.

    ``headers`` are sent after the pseudo-headers; ``authority`` replaces ``HOST:PORT``.
    """
    with _tls(host, port, cafile, server_hostname) as sock:
        exchange = Exchange(alpn=sock.selected_alpn_protocol())
        if exchange.alpn != "h2":
            return exchange
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        conn.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.ENABLE_PUSH: int(enable_push)}
        )
        conn.initiate_connection()
        stream_id = conn.get_next_available_stream_id()
        conn.send_headers(
            stream_id,
            [
                (":method", "GET"),
                (":path", path),
                (":scheme", "https"),
                (":authority", authority or f"{host}:{port}"),
                # identity unless the test asks for a coding itself
                *(
                    []
                    if any(n == "accept-encoding" for n, _ in headers)
                    else [("accept-encoding", "identity")]
                ),
                *headers,
            ],
            end_stream=True,
        )
        sock.sendall(conn.data_to_send())
        by_stream: dict[int, PushedResponse] = {}
        main_done = False
        deadline = time.monotonic() + timeout
        while not (main_done and all(p.ended for p in by_stream.values())):
            if time.monotonic() > deadline:
                raise TimeoutError(f"HTTP/2 exchange for {path} did not finish: {exchange}")
            data = sock.recv(65536)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.InformationalResponseReceived):
                    exchange.informational.append(_text_headers(event.headers))
                    exchange.order.append("informational")
                elif isinstance(event, h2.events.PushedStreamReceived):
                    assert event.pushed_stream_id is not None
                    headers = _text_headers(event.headers)
                    promised_path = dict(headers)[":path"]
                    pushed = PushedResponse(promised_path, headers)
                    by_stream[event.pushed_stream_id] = pushed
                    exchange.pushes[promised_path] = pushed
                    exchange.order.append("push_promise")
                elif isinstance(event, h2.events.ResponseReceived):
                    headers = _text_headers(event.headers)
                    status = int(dict(headers)[":status"])
                    if event.stream_id == stream_id:
                        exchange.status, exchange.headers = status, headers
                        exchange.order.append("response")
                    elif event.stream_id in by_stream:
                        by_stream[event.stream_id].status = status
                        by_stream[event.stream_id].headers = headers
                elif isinstance(event, h2.events.DataReceived):
                    if event.stream_id == stream_id:
                        exchange.body += event.data
                    elif event.stream_id in by_stream:
                        by_stream[event.stream_id].body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    if event.stream_id == stream_id:
                        main_done = True
                    elif event.stream_id in by_stream:
                        by_stream[event.stream_id].ended = True
                elif isinstance(event, h2.events.StreamReset):
                    exchange.reset_streams.append(event.stream_id)
                    if event.stream_id == stream_id:
                        main_done = True
                    elif event.stream_id in by_stream:
                        by_stream[event.stream_id].ended = True
                elif isinstance(event, h2.events.ConnectionTerminated):
                    main_done = True
                    for pushed in by_stream.values():
                        pushed.ended = True
            sock.sendall(conn.data_to_send())
        conn.close_connection()
        with contextlib.suppress(OSError):
            sock.sendall(conn.data_to_send())
        return exchange
