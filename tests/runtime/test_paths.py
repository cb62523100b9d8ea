"""Hostile paths: no request and no manifest entry reaches a file outside the output folder.

The requests go to a real ``pushgen serve`` (Hypercorn, TLS) over raw sockets, so
that no client library normalises them first: HTTP/1.1 request lines and HTTP/2
``:path`` pseudo-headers carry exactly the bytes written here. The output folder
is laid with traps: symbolic links to a source file, to a folder of templates, to
``/etc/passwd`` and to ``/``; dotfiles and a ``.git`` folder; and marker strings
in every file outside the output, so a leak is seen whatever the status code.

What a hostile request may get: a 404 (the site's own 404 page), a 400 from the
HTTP/1.1 parser, or on HTTP/2 a reset stream or a closed connection for a
request the protocol forbids (a NUL in ``:path``). Never a 200, never a byte of
a file outside the output.

The manifest side: ``parse_manifest`` (and so ``pushgen check`` and the
runtime, which load through it) refuses an entry that climbs out of the site,
naming its line; a symbolic link inside the output that leads out is caught by
``pushgen check --site``, and pushing it anyway yields a 404 push, not the file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushgen.app import create_app
from pushgen.cli import main
from pushgen.commands.serve_site import serve
from pushgen.errors import ManifestError, PushgenError
from pushgen.manifest import parse_manifest
from tests.clients import ServerProcess, h2_get, start_serve
from tests.conftest import OUTPUT_FILES, Site, make_site

pytestmark = pytest.mark.timeout(120)

# Every file outside the output holds one of these; a reply that contains one leaked.
OUTSIDE_MARKER = b"OUTSIDE-MARKER-7f3a"
LEAK_MARKERS = (
    b"SOURCE-ONLY",  # pushgen.yaml and templates/base.html (conftest)
    b"dotfile-secret",  # output/.secret
    b"hidden {}",  # output/static/.hidden/x.css
    OUTSIDE_MARKER,
    b"routes:",  # the manifest, next to the output
    b"{% extends",  # pages/index.html
    b"root:x:0:0",  # /etc/passwd
)
_PROBLEM = re.compile(r"Traceback|\[ERROR\]|\[CRITICAL\]")


# --- raw clients -----------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What a server did with one request: a response, a reset stream or a closed connection."""

    status: int | None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    outcome: str = "response"  # "response", "reset" or "closed"

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)


def _tls(port: int, alpn: str) -> ssl.SSLSocket:
    context = ssl._create_unverified_context()
    context.set_alpn_protocols([alpn])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
    assert sock.selected_alpn_protocol() == alpn
    return sock


class H1Client:
    """HTTP/1.1 over TLS on one kept-alive connection; reconnects after the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: ssl.SSLSocket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
        self.sock, self.buffer = None, b""

    def _read_until(self, marker: bytes) -> bytes | None:
        assert self.sock is not None
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exactly(self, size: int) -> bytes:
        assert self.sock is not None
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buffer += chunk
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return body

    def get(self, target: bytes) -> Reply:
        """Send ``GET target HTTP/1.1`` with ``target`` as raw bytes; read one response."""
        if self.sock is None:
            self.sock = _tls(self.port, "http/1.1")
        self.sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = self._read_until(b"\r\n\r\n")
        if head is None:
            self.close()
            return Reply(None, outcome="closed")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = tuple(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:])
        )
        length = int(dict(headers).get("content-length", "0"))
        body = self._read_exactly(length)
        if dict(headers).get("connection", "").lower() == "close":
            self.close()
        return Reply(status, body, headers)


class H2Client:
    """HTTP/2 over TLS with header validation off, so ``:path`` can be any bytes.

    Requests go out in batches on one connection; a batch the server answers by
    closing the connection is retried one request per connection, so each
    request's own outcome is known.
    """

    def __init__(self, port: int) -> None:
        self.port = port

    def _connect(self) -> tuple[ssl.SSLSocket, h2.connection.H2Connection]:
        sock = _tls(self.port, "h2")
        config = h2.config.H2Configuration(
            client_side=True, validate_outbound_headers=False, normalize_outbound_headers=False
        )
        conn = h2.connection.H2Connection(config)
        # Pushes would only add streams to tell apart; this client asks, it does not browse.
        conn.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.ENABLE_PUSH: 0}
        )
        conn.initiate_connection()
        # A window larger than any file of the test site: no WINDOW_UPDATE round trips.
        conn.increment_flow_control_window(2**24)
        sock.sendall(conn.data_to_send())
        return sock, conn

    def _batch(self, targets: list[bytes]) -> list[Reply] | None:
        """Replies to ``targets`` on one connection, or None if it closed before all ended."""
        sock, conn = self._connect()
        streams: dict[int, int] = {}
        statuses: dict[int, int] = {}
        headers: dict[int, tuple[tuple[str, str], ...]] = {}
        bodies: dict[int, bytes] = {}
        done: dict[int, str] = {}
        try:
            for index, target in enumerate(targets):
                stream_id = conn.get_next_available_stream_id()
                streams[stream_id] = index
                conn.send_headers(
                    stream_id,
                    [
                        (b":method", b"GET"),
                        (b":path", target),
                        (b":scheme", b"https"),
                        (b":authority", b"127.0.0.1"),
                    ],
                    end_stream=True,
                )
            sock.sendall(conn.data_to_send())
            while not set(streams) <= set(done):
                data = sock.recv(65536)
                if not data:
                    return None
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived):
                        decoded = tuple((n.decode(), v.decode("latin-1")) for n, v in event.headers)
                        statuses[event.stream_id] = int(dict(decoded)[":status"])
                        headers[event.stream_id] = decoded
                    elif isinstance(event, h2.events.DataReceived):
                        bodies[event.stream_id] = bodies.get(event.stream_id, b"") + event.data
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded):
                        done[event.stream_id] = "response"
                    elif isinstance(event, h2.events.StreamReset):
                        done[event.stream_id] = "reset"
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        return None
                sock.sendall(conn.data_to_send())
            conn.close_connection()
            sock.sendall(conn.data_to_send())
        except (OSError, h2.exceptions.ProtocolError):
            return None
        finally:
            with contextlib.suppress(OSError):
                sock.close()
        return [
            Reply(statuses.get(sid), bodies.get(sid, b""), headers.get(sid, ()), done[sid])
            for sid in sorted(streams)
        ]

    def get_many(self, targets: list[bytes], batch: int = 64) -> list[Reply]:
        """One reply per target, in order."""
        replies: list[Reply] = []
        for start in range(0, len(targets), batch):
            chunk = targets[start : start + batch]
            got = self._batch(chunk)
            if got is None:
                got = [(self._batch([t]) or [Reply(None, outcome="closed")])[0] for t in chunk]
            replies.extend(got)
        return replies


# --- the site and its server ------------------------------------------------------


@dataclass
class TrapSite:
    site: Site
    server: ServerProcess
    # URL paths that must be served (a control: the harness can tell 200 from 404).
    legitimate: dict[str, bytes] = field(default_factory=dict)


def lay_traps(site: Site) -> None:
    """Symbolic links out of the output, dotfiles, and marked files next to and above it."""
    static = site.output / "static"
    (site.root / "outside.txt").write_bytes(OUTSIDE_MARKER + b" next to the output\n")
    (site.root.parent / "outside.txt").write_bytes(OUTSIDE_MARKER + b" above the site\n")
    (static / "outdir").symlink_to(site.root / "templates", target_is_directory=True)
    (static / "passwd").symlink_to("/etc/passwd")
    (static / "rootdir").symlink_to("/", target_is_directory=True)
    (static / "up.txt").symlink_to("../../outside.txt")
    (site.output / ".git").mkdir()
    (site.output / ".git" / "config").write_bytes(b"[core] dotfile-secret\n")
    (site.output / ".env").write_bytes(b"TOKEN=dotfile-secret\n")


@pytest.fixture(scope="module")
def traps(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[TrapSite]:
    site = make_site(tmp_path_factory.mktemp("paths") / "site")
    lay_traps(site)
    server = start_serve(
        site.root,
        site.root.parent / "server.log",
        env={"XDG_CACHE_HOME": str(cache_dir)},
        build_if_stale=False,
    )
    legitimate = {
        "/": OUTPUT_FILES["index.html"],
        "/static/css/site.css": OUTPUT_FILES["static/css/site.css"],
        "/static/img/caf%C3%A9.svg": OUTPUT_FILES["static/img/café.svg"],
        "/static/alias.css": OUTPUT_FILES["static/css/site.css"],  # a link that stays inside
        # A query is not part of the file name: this is site.css, not a climb.
        "/static/css/site.css?../../../pushgen.yaml": OUTPUT_FILES["static/css/site.css"],
    }
    yield TrapSite(site, server, legitimate)
    server.stop()


# --- the corpus ----------------------------------------------------------------------

# Spellings of "..", of "/", and where the climb starts. Double encodings (%252e)
# decode once to a literal "%2e" file name, which must not be decoded again.
DOTS = ("..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "%c0%ae%c0%ae", "..%00", "...")
SEPARATORS = ("/", "%2f", "%2F", "%252f", "\\", "%5c", "%5C", "//")
STARTS = ("/", "/static/", "/static/css/", "/docs/")
# Targets relative to the site folder (one above the output) and an absolute one.
TARGETS = ("pushgen.yaml", "templates/base.html", "outside.txt", "push-manifest.yaml")

SPECIAL = (
    # Sources, by name: the output folder never holds them.
    "/pushgen.yaml",
    "/templates/base.html",
    "/pages/index.html",
    "/push-manifest.yaml",
    "/_site/index.html",
    "/site/pushgen.yaml",
    # Absolute paths and other request-target forms.
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/%2Fetc/passwd",
    "/etc/passwd",
    "http://127.0.0.1/../pushgen.yaml",
    "https://127.0.0.1/%2e%2e/pushgen.yaml",
    "file:///etc/passwd",
    "/C:/Windows/win.ini",
    "/C:\\Windows\\win.ini",
    "*",
    "..",
    "../pushgen.yaml",
    # NUL bytes, encoded (raw ones are in RAW_SPECIAL).
    "/pushgen.yaml%00.html",
    "/static/css/site.css%00",
    "/static/css/site.css%00.html",
    "/%00/etc/passwd",
    # Dotfiles and dot-folders, plain and encoded.
    "/.secret",
    "/%2esecret",
    "/.git/config",
    "/%2egit/config",
    "/.env",
    "/static/.hidden/x.css",
    "/static/%2ehidden/x.css",
    "/.",
    "/%2e",
    "/./.secret",
    # Symbolic links that lead out of the output.
    "/static/leak.txt",
    "/static/up.txt",
    "/static/outdir/base.html",
    "/static/outdir/",
    "/static/outdir",
    "/static/passwd",
    "/static/rootdir/etc/passwd",
    "/static/rootdir/",
    "/static/rootdir/tmp/",
    # Mixed and overlong.
    "/static/css/..%2f..%2f..%2fpushgen.yaml",
    "/static/css/%2e%2e/%2e%2e/%2e%2e/pushgen.yaml",
    "/static/css/%252e%252e/%252e%252e/%252e%252e/pushgen.yaml",
    "/static/..;/..;/pushgen.yaml",
    "/static/%u002e%u002e/%u002e%u002e/pushgen.yaml",
    "/%e0%80%ae%e0%80%ae/pushgen.yaml",
    "/static/css/site.css/../../../pushgen.yaml",
    "/static/./../../pushgen.yaml",
    "/%ff%fe/../pushgen.yaml",
)
# Bytes a well-behaved client never sends in a path; HTTP/1.1 answers 400, HTTP/2
# refuses the stream or the connection.
RAW_SPECIAL = (b"/\x00", b"/pushgen.yaml\x00.css", b"/static/\x00../../pushgen.yaml", b"/a b")


def corpus() -> list[bytes]:
    """Every hostile request target, generated and hand-written."""
    out: list[bytes] = []
    for start, dots, sep, target in itertools.product(STARTS, DOTS, SEPARATORS, TARGETS):
        # Exactly enough climbs to reach the site folder from `start` in the output.
        depth = start.count("/")
        climb = sep.join([dots] * depth)
        out.append(f"{start}{climb}{sep}{target}".encode())
    for start, dots, sep in itertools.product(STARTS, DOTS, SEPARATORS):
        out.append(f"{start}{sep.join([dots] * 12)}{sep}etc{sep}passwd".encode())
    out.extend(path.encode() for path in SPECIAL)
    return out


def _leaks(reply: Reply) -> list[bytes]:
    return [marker for marker in LEAK_MARKERS if marker in reply.body]


def _refused(reply: Reply) -> bool:
    return reply.outcome in ("reset", "closed") or reply.status in (400, 404)


def _new_log(server: ServerProcess, since: int) -> str:
    """The log after offset ``since``, once it stopped growing (access lines land late)."""
    size = -1
    while size != len(server.log()):
        size = len(server.log())
        time.sleep(0.3)
    return server.log()[since:]


# --- requests --------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["http/1.1", "h2"])
def test_no_hostile_request_reaches_a_file_outside_the_output(
    traps: TrapSite, protocol: str
) -> None:
    targets = corpus()
    controls = [path.encode() for path in traps.legitimate]
    since = len(_new_log(traps.server, 0))
    if protocol == "h2":
        replies = H2Client(traps.server.port).get_many(controls + targets)
    else:
        targets += RAW_SPECIAL  # HTTP/2 ones: see the test after the next
        client = H1Client(traps.server.port)
        replies = [client.get(target) for target in controls + targets]
        client.close()
    control_replies, hostile = replies[: len(controls)], replies[len(controls) :]
    for (path, expected), reply in zip(traps.legitimate.items(), control_replies, strict=True):
        assert (reply.status, reply.body) == (200, expected), path
    leaked = {t: _leaks(r) for t, r in zip(targets, hostile, strict=True) if _leaks(r)}
    served = {
        t: (r.status, r.outcome) for t, r in zip(targets, hostile, strict=True) if not _refused(r)
    }
    assert leaked == {} and served == {}
    outcomes = sorted({(r.status, r.outcome) for r in hostile}, key=str)
    print(f"{protocol}: {len(targets)} hostile targets, outcomes {outcomes}, 0 leaks")
    assert len(targets) > 1000
    log = _new_log(traps.server, since)
    # By the server's own access log too, only the controls were answered with a 200.
    controls_decoded = {unquote(path.split("?")[0]) for path in traps.legitimate}
    answered = re.findall(r'"GET (\S*) [\d.]+" (\d{3}) ', log)
    assert len(answered) >= len(targets) // 2
    assert {path for path, status in answered if status == "200"} <= controls_decoded
    assert not _PROBLEM.search(log), log[-3000:]


def test_random_paths_over_http2_serve_only_files_of_the_output(traps: TrapSite) -> None:
    """Property: whatever the path, a 200 carries the bytes of a file inside the output."""
    allowed = {
        data
        for rel, data in OUTPUT_FILES.items()
        if not any(part.startswith(".") for part in rel.split("/"))
    }
    client = H2Client(traps.server.port)
    pieces = st.sampled_from(
        [
            "..", ".", "%2e", "%2e%2e", "%252e", "static", "css", "site.css", "img",
            "caf%C3%A9.svg", "pushgen.yaml", "templates", "base.html", "leak.txt", "outdir",
            "rootdir", "etc", "passwd", "%2f", "%5c", "\\", "%00", ".secret", "index.html",
            "docs", "", "%ff", "~", ";", "outside.txt", "up.txt", "passwd%00",
        ]
    )  # fmt: skip
    seen: list[int | None] = []

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(pieces, min_size=1, max_size=8), st.sampled_from(["/", "%2f", "\\", "/./"]))
    def check(segments: list[str], sep: str) -> None:
        target = ("/" + sep.join(segments)).encode()
        [reply] = client.get_many([target])
        seen.append(reply.status)
        assert not _leaks(reply), target
        if reply.status == 200:
            assert reply.body in allowed, target
        else:
            assert _refused(reply) or reply.status == 308, (target, reply)

    check()
    assert 200 in seen and 404 in seen  # the property was exercised on both sides


def test_directory_redirects_stay_on_the_site(traps: TrapSite) -> None:
    """A folder without its slash redirects to a path on this host, never to another one."""
    client = H1Client(traps.server.port)
    plain = client.get(b"/docs")
    assert (plain.status, plain.header("location")) == (308, "/docs/")
    for target in (
        b"//evil.example/docs",
        b"/%2fevil.example/docs",
        b"/\\evil.example/docs",
        b"/%5cevil.example/docs",
        b"/docs%2f..%2f..%2fevil.example",
        b"/static/rootdir",
        b"/static/outdir",
    ):
        reply = client.get(target)
        location = reply.header("location") or ""
        assert reply.status in (400, 404) and not location, (target, reply.status, location)
    client.close()


# Tracebacks Hypercorn 0.18 itself logs for requests HTTP/2 forbids; neither comes
# from pushgen's code, and the server goes on serving (docs/reliability.md).
_KNOWN_UPSTREAM = re.compile(
    r"^UnicodeDecodeError: 'ascii' codec can't decode"  # raw non-ASCII :path
    r"|^ssl\.SSLError: .*APPLICATION_DATA_AFTER_CLOSE_NOTIFY"  # data after GOAWAY
    r"|^ExceptionGroup: unhandled errors in a TaskGroup"  # the wrapper of either
)
# The last line of a traceback, also inside an exception group's "| " frame.
_EXCEPTION_LINE = re.compile(r"^[ |+]*([\w.]+(?:Error|Exception|Group): .*)$", re.MULTILINE)


@pytest.mark.parametrize(
    "raw", [*RAW_SPECIAL, "/static/img/café.svg".encode(), "/caf\u00e9/../pushgen.yaml".encode()]
)
def test_paths_http2_forbids_are_refused_and_the_server_keeps_serving(
    traps: TrapSite, raw: bytes
) -> None:
    """A ``:path`` with a NUL, a space or raw UTF-8 (RFC 3986 wants it percent-encoded).

    HTTP/1.1 answers 400. On HTTP/2 the stream or the connection is refused (for
    raw UTF-8 Hypercorn 0.18 fails to decode the path as ASCII and drops the
    connection). Nothing is served, the next client is answered, and whatever
    the log holds beyond access lines is one of Hypercorn's two known tracebacks.
    """
    since = len(_new_log(traps.server, 0))
    assert H1Client(traps.server.port).get(raw).status == 400
    [reply] = H2Client(traps.server.port).get_many([raw])
    assert reply.status in (None, 400, 404) and not _leaks(reply), reply
    [after] = H2Client(traps.server.port).get_many([b"/static/img/caf%C3%A9.svg"])
    assert (after.status, after.body) == (200, OUTPUT_FILES["static/img/café.svg"])
    log = _new_log(traps.server, since)
    raised = _EXCEPTION_LINE.findall(log)
    assert bool(raised) == bool(_PROBLEM.search(log)), log
    assert [line for line in raised if not _KNOWN_UPSTREAM.search(line)] == [], log


# --- manifest entries ---------------------------------------------------------------------

ESCAPING_ENTRIES = (
    "/../pushgen.yaml",
    "/static/../../pushgen.yaml",
    "/static/%2e%2e/%2e%2e/pushgen.yaml",
    "/static/%2E%2E/pushgen.yaml",
    "/static/.%2e/pushgen.yaml",
    "/static/..%2f..%2fpushgen.yaml",
    "/static/..%5c..%5cpushgen.yaml",
    "/static/./css/site.css",
    "/static/css/site.css%00.html",
    "/static\\..\\pushgen.yaml",
    "//evil.example/x.css",
    "https://evil.example/x.css",
    "static/css/site.css",
    "../pushgen.yaml",
    "/static/caf\u00e9.css",
    "/static/a b.css",
    "/static/x.css#frag",
)


def manifest_with(entry_path: str, *, in_rule: bool = False) -> tuple[str, int]:
    """A manifest whose only bad entry has path ``entry_path``, and that entry's line."""
    quoted = '"' + entry_path.replace("\\", "\\\\") + '"'
    if in_rule:
        text = (
            "version: 1\nrules:\n  - match: /docs/*\n"
            f"    add:\n      - {{path: {quoted}, as: style}}\nroutes:\n  /: []\n"
        )
        return text, 5
    text = (
        "version: 1\nroutes:\n  /:\n    - {path: /static/css/site.css, as: style}\n"
        f"    - {{path: {quoted}, as: style}}\n"
    )
    return text, 5


@pytest.mark.parametrize("in_rule", [False, True], ids=["route", "rule"])
@pytest.mark.parametrize("entry_path", ESCAPING_ENTRIES)
def test_the_loader_refuses_an_entry_that_escapes_naming_its_line(
    entry_path: str, in_rule: bool
) -> None:
    text, line = manifest_with(entry_path, in_rule=in_rule)
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "m.yaml")
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.severity) == ("m.yaml", line, "error")
    assert str(diagnostic).startswith(f"m.yaml:{line}:")


def test_pushgen_check_names_the_line_of_an_escaping_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line = manifest_with("/static/%2e%2e/%2e%2e/pushgen.yaml")
    manifest = tmp_path / "push-manifest.yaml"
    manifest.write_text(text, encoding="utf-8")
    assert main(["check", str(manifest), "--base-path", "/"]) == 1
    err = capsys.readouterr().err
    assert f"{manifest}:{line}:" in err and "leaves the site root" in err


def test_pushgen_check_flags_a_symlink_entry_that_leads_outside(
    built_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    built_site.manifest.write_text(
        "version: 1\nroutes:\n  /:\n    - {path: /static/css/site.css, as: style}\n"
        "    - {path: /static/leak.txt, as: fetch}\n",
        encoding="utf-8",
    )
    code = main(
        ["check", str(built_site.manifest), "--site", str(built_site.output), "--base-path", "/"]
    )
    err = capsys.readouterr().err
    assert code == 1
    where = re.escape(f"{built_site.manifest}:5:") + r"(\d+:)? error: "
    assert re.search(where + "entry /static/leak.txt leads outside", err), err


def test_pushgen_check_reports_an_entry_whose_escapes_are_not_utf8(
    built_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    built_site.manifest.write_text(
        "version: 1\nroutes:\n  /:\n    - {path: /static/%ff.png, as: image}\n", encoding="utf-8"
    )
    manifest, output = str(built_site.manifest), str(built_site.output)
    assert main(["check", manifest, "--site", output, "--base-path", "/"]) == 1
    assert f"{built_site.manifest}:4:" in capsys.readouterr().err


def test_the_runtime_refuses_an_escaping_manifest_naming_its_line(
    built_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line = manifest_with("/static/..%2f..%2fpushgen.yaml")
    built_site.manifest.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=rf"push-manifest\.yaml:{line}:\d+: error: path"):
        create_app(built_site.root, environ={})
    assert serve(built_site.root, build_if_stale=False, port=0) == 1
    err = capsys.readouterr().err
    assert f"push-manifest.yaml:{line}:" in err and "leaves the site root" in err


def test_a_pushed_symlink_that_leads_outside_is_a_404_not_the_file(
    start_server: object, tmp_path: Path
) -> None:
    site = make_site(tmp_path / "site")
    site.manifest.write_text(
        "version: 1\nroutes:\n  /:\n    - {path: /static/css/site.css, as: style}\n"
        "    - {path: /static/leak.txt, as: fetch}\n",
        encoding="utf-8",
    )
    process: ServerProcess = start_server(site.root, build_if_stale=False)  # type: ignore[operator]
    exchange = h2_get("127.0.0.1", process.port, "/")
    assert exchange.status == 200
    assert list(exchange.pushes) == ["/static/css/site.css", "/static/leak.txt"]
    leak = exchange.pushes["/static/leak.txt"]
    assert leak.status == 404 and b"SOURCE-ONLY" not in leak.body
    assert exchange.pushes["/static/css/site.css"].body == OUTPUT_FILES["static/css/site.css"]


# --- source folders and non-ASCII names -----------------------------------------------------


@pytest.mark.parametrize("folder", ["templates", "pages", "templates/partials"])
def test_a_source_folder_is_never_served_as_the_output(built_site: Site, folder: str) -> None:
    (built_site.root / folder).mkdir(parents=True, exist_ok=True)
    with pytest.raises(PushgenError, match="source"):
        create_app(built_site.root, output=built_site.root / folder, environ={})


NON_ASCII_SITE: dict[str, str | bytes] = {
    "pages/index.html": (
        '<!doctype html><meta charset="utf-8">'
        '<link rel="stylesheet" href="/static/css/\u00fcber.css">'
        '<script type="module" src="/static/js/\u043c\u043e\u0434\u0443\u043b\u044c.js"></script>'
        '<img src="/static/img/caf\u00e9 cr\u00e8me.png" fetchpriority=high><h1>\u00fcber</h1>\n'
    ),
    "static/css/\u00fcber.css": (
        '@import "\u65e5\u672c.css";\n'
        "@font-face { font-family: F; src: url(../fonts/\u0161rift.woff2) format('woff2') }\n"
    ),
    "static/css/\u65e5\u672c.css": "h1 { font-family: F }\n",
    "static/fonts/\u0161rift.woff2": b"wOF2" + bytes(range(256)) * 4,
    "static/js/\u043c\u043e\u0434\u0443\u043b\u044c.js": 'import "./\u00e9t\u00e9.js";\n',
    "static/js/\u00e9t\u00e9.js": "export const x = 1;\n",
    "static/img/caf\u00e9 cr\u00e8me.png": b"\x89PNG not really",
}


def test_non_ascii_asset_paths_are_pushed_percent_encoded(
    start_server: object, tmp_path: Path
) -> None:
    from tests.sites import write_site

    root = write_site(tmp_path / "intl", NON_ASCII_SITE)
    assert main(["build", str(root)]) == 0
    process: ServerProcess = start_server(root)  # type: ignore[operator]
    exchange = h2_get("127.0.0.1", process.port, "/")
    assert exchange.status == 200
    expected = {
        "/static/css/%C3%BCber.css",
        "/static/css/%E6%97%A5%E6%9C%AC.css",
        "/static/fonts/%C5%A1rift.woff2",
        "/static/js/%D0%BC%D0%BE%D0%B4%D1%83%D0%BB%D1%8C.js",
        "/static/js/%C3%A9t%C3%A9.js",
    }
    assert set(exchange.pushes) == expected
    for path, pushed in exchange.pushes.items():
        assert path.isascii()
        assert pushed.status == 200, path
        assert pushed.body == (root / "_site" / unquote(path).lstrip("/")).read_bytes(), path
    # The image is hinted, not pushed; its Link target is percent-encoded ASCII too.
    link = exchange.header("link") or ""
    assert "</static/img/caf%C3%A9%20cr%C3%A8me.png>; rel=preload; as=image" in link
    assert link.isascii()
    assert not _PROBLEM.search(_new_log(process, 0))


def test_helpers_notice_a_leak() -> None:
    """The leak check itself can fail: a reply holding a marker is a leak, a 200 is not refused."""
    assert _leaks(Reply(200, b"x SOURCE-ONLY y")) == [b"SOURCE-ONLY"]
    assert not _refused(Reply(200, b""))
    assert _refused(Reply(None, outcome="closed")) and _refused(Reply(404))
    assert os.path.basename(corpus()[0].decode()) in TARGETS
