"""Running an ASGI app on Hypercorn with HTTP/2 over TLS (and HTTP/3), and stopping it cleanly.

With ``quic=True`` HTTP/3 (RFC 9114) listens on the same port number over UDP
(Hypercorn's ``quic_bind``, which needs ``aioquic``: ``pip install
'pushgen[h3]'``), and every response carries Hypercorn's ``Alt-Svc:
h3=":PORT"; ma=3600`` (RFC 7838), which is how a browser that first connected
over TCP learns that it may switch.

What a browser does with that Alt-Svc depends on who signed the certificate.
Chromium (156, checked with its net-log) opens QUIC through Alt-Svc only to a
server whose certificate chains to a *public* root: for a certificate from a
locally installed root (``pushgen trust install``, mkcert) its QUIC verifier
fails the handshake (CERTIFICATE_VERIFY_FAILED, although the same chain
verifies with no error over TCP: ``is_issued_by_known_root`` is false), marks h3
broken for the origin and stays on h2; pinning the key
(``--ignore-certificate-errors-spki-list``) does not change that. Only an
origin named in ``--origin-to-force-quic-on`` is exempt, so in development
Chromium speaks h3 to ``pushgen serve --quic`` only when started with that flag
(and the local CA trusted or the key pinned): :func:`chromium_h3` is that
command line. Nothing in pushgen's certificate decides it (its chain verifies
with no error).

Nothing here prints, builds or returns an exit code: ``pushgen serve``
(:mod:`pushgen.commands.serve_site`) does those around :func:`listen` and :func:`run`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PushgenError
from .devca import spki_hash

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ChromiumH3",
    "Listening",
    "chromium_h3",
    "listen",
    "quic_notice",
    "refuse_shared_quic_socket",
    "run",
    "shared_quic_socket",
]

# Loopback by default: a development server is not exposed until asked to be.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443


@dataclass(frozen=True, slots=True)
class Listening:
    """A bound socket handed to a Hypercorn configuration, and the URL it answers at."""

    config: Any  # hypercorn.config.Config (Hypercorn ships no type information)
    port: int
    url: str
    quic: bool = False


def _bind(host: str, port: int, kind: int = socket.SOCK_STREAM) -> socket.socket:
    info = socket.getaddrinfo(host, port, type=kind, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = info[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        if kind == socket.SOCK_STREAM:
            sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"https://{host}:{port}/"


def listen(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    certfile: str | os.PathLike[str],
    keyfile: str | os.PathLike[str],
    access_log: bool = True,
    graceful_timeout: float = 3.0,
    quic: bool = False,
) -> Listening:
    """Check the certificate and bind ``host:port`` (0 picks a free port) for :func:`run`.

    With ``quic`` also binds UDP ``host:port`` (the same number) for HTTP/3.
    Raises :class:`PushgenError` when the certificate cannot be used, the
    address cannot be bound, or ``quic`` is asked for without ``aioquic``.
    """
    from hypercorn.config import Config

    if quic:
        try:
            import aioquic  # noqa: F401  (Hypercorn imports it only when serving)
        except ImportError as exc:
            raise PushgenError(
                "--quic needs aioquic: pip install 'pushgen[h3]' (or pip install aioquic)"
            ) from exc

    config = Config()
    # Hypercorn closes a connection after 1,000 requests by default; an HTTP/2
    # client multiplexing a site's pages over one connection (h2load, a busy
    # proxy) should not see a GOAWAY for that.
    config.keep_alive_max_requests = 100_000
    config.certfile = os.fspath(certfile)
    config.keyfile = os.fspath(keyfile)
    # h2 first: a browser that offers both gets HTTP/2, others HTTP/1.1 (RFC 9113 §3.2).
    config.alpn_protocols = ["h2", "http/1.1"]
    config.accesslog = "-" if access_log else None
    config.errorlog = "-"
    config.graceful_timeout = graceful_timeout
    try:
        config.create_ssl_context()
    except (OSError, ValueError) as exc:
        raise PushgenError(
            f"cannot use the certificate {certfile} with key {keyfile}: {exc}"
        ) from exc
    # Bind here rather than in Hypercorn so that port 0 can be reported.
    try:
        sock = _bind(host, port)
    except OSError as exc:
        raise PushgenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    actual_port = sock.getsockname()[1]
    if quic:
        # The same port number: Alt-Svc may name another port, but one number
        # for both is what a firewall rule and a reader expect.
        try:
            udp = _bind(host, actual_port, socket.SOCK_DGRAM)
        except OSError as exc:
            sock.close()
            raise PushgenError(
                f"cannot listen for HTTP/3 on UDP {host}:{actual_port}: {exc.strerror or exc}"
            ) from exc
        config.quic_bind = [f"fd://{udp.detach()}"]
    config.bind = [f"fd://{sock.detach()}"]
    return Listening(config, actual_port, _url(host, actual_port), quic)


@dataclass(frozen=True, slots=True)
class ChromiumH3:
    """The Chromium flags that make it load a ``--quic`` server over HTTP/3 in development.

    ``origin`` (``host:port``) goes to ``--origin-to-force-quic-on``: QUIC from
    the first request, no Alt-Svc needed, and the one exemption from Chromium's
    rule that QUIC needs a publicly trusted certificate. ``spki`` pins the
    server's key (``--ignore-certificate-errors-spki-list``), so the command works
    whether or not the local CA is installed. A throwaway ``--user-data-dir``,
    because a Chromium already running on the default profile would open the
    page in that process and ignore every flag.
    """

    origin: str
    spki: str
    url: str

    @property
    def flags(self) -> tuple[str, ...]:
        """The two flags, without the profile folder (Playwright makes its own)."""
        return (
            f"--origin-to-force-quic-on={self.origin}",
            f"--ignore-certificate-errors-spki-list={self.spki}",
        )

    @property
    def command(self) -> str:
        """A shell command line that opens :attr:`url` over HTTP/3."""
        return " ".join(("chromium", '--user-data-dir="$(mktemp -d)"', *self.flags, self.url))


def chromium_h3(listening: Listening) -> ChromiumH3:
    """The Chromium flags for ``listening`` (its URL's host and port, its certificate's key)."""
    host = listening.url.removeprefix("https://").rsplit(":", 1)[0]
    return ChromiumH3(
        f"{host}:{listening.port}", spki_hash(listening.config.certfile), listening.url
    )


def quic_notice(listening: Listening) -> str:
    """What ``pushgen serve --quic`` prints at start: the port, and how to see h3 in Chromium."""
    return (
        f"pushgen: HTTP/3 on UDP port {listening.port} (Alt-Svc advertises it; browsers"
        " switch to it by themselves only for a certificate from a public CA)\n"
        f"pushgen: to test HTTP/3 in Chromium: {chromium_h3(listening).command}"
    )


async def _serve(
    app: Any,
    config: Any,
    on_stop: Callable[[], None] | None,
    on_ready: Callable[[], None] | None,
) -> int | None:
    from hypercorn.asyncio import serve as hypercorn_serve

    stop = asyncio.Event()
    received: list[int] = []  # which signal stopped the server: the CLI's exit code says it

    def stopped_by(signum: int) -> None:
        received.append(signum)
        stop.set()

    async def stopping() -> None:
        await stop.wait()
        if on_stop is not None:
            on_stop()

    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stopped_by, signum)
    if on_ready is not None:
        on_ready()  # only now: a SIGTERM from here on stops the server cleanly
    try:
        await hypercorn_serve(app, config, shutdown_trigger=stopping)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
    return received[0] if received else None


def run(
    app: Any,
    listening: Listening,
    *,
    on_stop: Callable[[], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int | None:
    """Serve ``app`` on ``listening`` until Ctrl-C or SIGTERM; return the signal that stopped it.

    ``on_ready`` is called once the signals are handled (the socket is already
    listening): the place to say the server is up, since a SIGTERM sent on reading
    that line must find the handler, not Python's default, which kills the process.
    ``on_stop`` is called on the server's loop as soon as the server starts to
    stop, before Hypercorn waits for open streams (live reload ends its event
    streams there).
    """
    return asyncio.run(_serve(app, listening.config, on_stop, on_ready))


def _option(argv: Sequence[str], short: str, long: str) -> str | None:
    """The last value of an option in an argparse command line (``-w 4``, ``-w4``, ``--workers=4``)."""
    value = None
    for i, word in enumerate(argv):
        if word in (short, long) and i + 1 < len(argv):
            value = argv[i + 1]
        elif word.startswith(long + "="):
            value = word[len(long) + 1 :]
        elif short and word.startswith(short) and not word.startswith("--") and len(word) > 2:
            value = word[len(short) :]
    return value


def shared_quic_socket(argv: Sequence[str]) -> int:
    """How many Hypercorn workers would share one QUIC socket, from Hypercorn's command line.

    0 when ``argv`` is not Hypercorn's, has no ``--quic-bind``, or one worker.
    Hypercorn (0.18, ``hypercorn/run.py``) binds every socket once in the parent
    and hands the same ones to each worker: for TCP the kernel gives each new
    connection to one worker, but a UDP socket's datagrams go to whichever worker
    reads next, so one QUIC connection's packets are spread over workers that do
    not know it (Chromium: time-outs and ERR_QUIC_PROTOCOL_ERROR, 3 of 20 page
    loads with 4 workers; issue 28).
    """
    # `hypercorn ...` runs .../bin/hypercorn; `python -m hypercorn ...` .../hypercorn/__main__.py.
    if not argv or "hypercorn" not in (Path(argv[0]).name, Path(argv[0]).parent.name):
        return 0
    args = argv[1:]
    if _option(args, "", "--quic-bind") is None:
        return 0
    try:
        workers = int(_option(args, "-w", "--workers") or 1)
    except ValueError:
        return 0  # Hypercorn itself refuses that
    return workers if workers > 1 else 0


def refuse_shared_quic_socket(argv: Sequence[str] | None = None) -> None:
    """Stop a Hypercorn worker started with ``--workers`` above 1 and ``--quic-bind``.

    The message goes to stderr and the worker exits with 1 (``SystemExit``: no
    traceback), so Hypercorn stops them all rather than serve HTTP/3 that fails
    now and then.
    """
    workers = shared_quic_socket(sys.argv if argv is None else argv)
    if workers:
        raise SystemExit(
            f"pushgen: hypercorn --workers {workers} with --quic-bind: the workers would share"
            " one UDP socket, and a QUIC connection's packets would reach workers that do not"
            " know it (browsers see time-outs and QUIC errors). Serve HTTP/3 with --workers 1,"
            " or let a proxy or CDN in front speak HTTP/3 to browsers (docs/deploy.md, HTTP/3)."
        )
