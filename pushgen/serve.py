"""Serving a built output folder: a Quart app for the files, and Hypercorn over TLS to run it.

:func:`site_app` answers a URL with a file of the output folder and nothing
else: pages by route (``/`` is ``index.html``, ``/docs/`` is
``docs/index.html``), static files with their content type, ``ETag`` and
``Last-Modified`` with 304 answers, ``Cache-Control`` and the site's
``404.html``. A path that names anything outside the folder (``..``, an
encoded ``..``, a backslash, a symbolic link leading out) or a dotfile is a 404.

:func:`run_server` runs an app on Hypercorn with HTTP/2 over TLS (ALPN ``h2``,
falling back to ``http/1.1``; RFC 9113 §3.2), prints the URL to open and stops
cleanly on Ctrl-C or SIGTERM. :func:`serve` is ``pushgen serve``: build when the
output is stale, create the app (:func:`pushgen.app.create_app`), find or make a
certificate, run.

Files are looked up on every request rather than scanned once at start-up
because ``pushgen build`` may replace the output folder while the server runs;
the lookup is a ``realpath`` and a ``stat``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import mimetypes
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote
from zlib import adler32

from quart import Quart, Response, current_app, request, send_file
from quart.typing import ResponseTypes

from .config import CONFIG_NAME, SiteConfig, load_config
from .errors import BuildError, PushgenError
from .fsutil import check_output_location
from .headers import normalise_base_path
from .urls import url_path_to_relpath

if TYPE_CHECKING:
    from hypercorn.config import Config as HypercornConfig

    from .quart import Options

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_STATIC_MAX_AGE",
    "check_output",
    "content_type",
    "hints_summary",
    "output_is_stale",
    "run_server",
    "serve",
    "site_app",
]

log = logging.getLogger("pushgen")

# Types the platform's mimetypes table may lack or get wrong. JavaScript is
# text/javascript (RFC 9239); fonts have their own top-level type (RFC 8081).
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain",
    ".xml": "application/xml",
    ".ico": "image/vnd.microsoft.icon",
}
# Pages are revalidated on every use (a 304 is cheap), so a rebuild shows at
# once; other files may be reused for an hour without asking, a compromise for
# file names that carry no content hash.
DEFAULT_STATIC_MAX_AGE = 3600
_HTML_CACHE_CONTROL = "no-cache"


def content_type(name: str) -> str:
    """The media type to serve a file called ``name`` with."""
    suffix = os.path.splitext(name)[1].lower()
    return (
        CONTENT_TYPES.get(suffix)
        or mimetypes.guess_type(name, strict=False)[0]
        or "application/octet-stream"
    )


def check_output(config: SiteConfig) -> None:
    """Refuse to serve an output folder that holds, or could hold, the site's sources.

    Raises :class:`PushgenError` when the output folder is the site folder or
    contains it, when it holds a ``pushgen.yaml``, or when it does not exist yet.
    """
    output, root = config.output, config.root
    # Serving pages/ or templates/ (or a folder in them) would send Jinja2 sources;
    # the build refuses the same folders (one check for both).
    check_output_location(
        output, root, (config.pages, config.templates, config.static), CONFIG_NAME
    )
    if not output.is_dir():
        raise PushgenError(f"no built output at {output}; run `pushgen build {root}` first")


# --- the file server ------------------------------------------------------------


def _inside(root: str, path: str) -> bool:
    return path.startswith(root + os.sep)


def _resolve(root: str, rel: str, pretty_urls: bool) -> tuple[str, str] | None:
    """``("file", abs_path)``, ``("redirect", "")`` or None for a relative URL path."""
    segments = rel.split("/")
    # Dotfiles and dot-folders (.git, .htaccess, .env) are never part of a site;
    # an empty segment ("a//b") is not a canonical URL of any file.
    if any(seg.startswith(".") for seg in segments) or "" in segments[:-1]:
        return None
    candidates = [rel + "index.html" if rel == "" or rel.endswith("/") else rel]
    if pretty_urls and rel and not rel.endswith("/") and "." not in segments[-1]:
        candidates.append(rel + ".html")
    for candidate in candidates:
        full = os.path.realpath(os.path.join(root, candidate))
        if _inside(root, full) and os.path.isfile(full):
            return "file", full
    if rel and not rel.endswith("/"):
        index = os.path.realpath(os.path.join(root, rel, "index.html"))
        if _inside(root, index) and os.path.isfile(index):
            return "redirect", ""
    return None


# Files up to this size are read whole, on the event loop: from the page cache
# that takes microseconds, far less than the six worker-thread round trips of
# Quart's streamed file body (open, seek, tell, read, tell, close), which were a
# third of a small file's request (server CPU per request under h2load, 562 µs
# before, 382 µs after; see bench/runtime_bench.py). Larger files are streamed.
_READ_WHOLE = 256 * 1024


async def _send_file(full: str, mimetype: str) -> Response:
    """What ``send_file(full, mimetype=mimetype, conditional=True)`` answers, without threads.

    The same headers (Quart's ETag format included), 304s and ranges; the file's
    size and time come from the one open file, so a file replaced meanwhile is
    never sent with another one's ETag.
    """
    try:
        with open(full, "rb") as file:
            st = os.fstat(file.fileno())
            data = file.read() if st.st_size <= _READ_WHOLE else None
    except OSError:
        data = None
    if data is None:
        return await send_file(full, mimetype=mimetype, conditional=True)
    response = current_app.response_class(data, mimetype=mimetype)
    response.content_length = len(data)
    response.last_modified = dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)
    response.cache_control.public = True
    response.set_etag(f"{st.st_mtime}-{st.st_size}-{adler32(os.fsencode(full))}")
    await response.make_conditional(request, accept_ranges=True, complete_length=len(data))
    return response


def site_app(
    output: str | os.PathLike[str],
    *,
    base_path: str = "/",
    pretty_urls: bool = False,
    static_max_age: int = DEFAULT_STATIC_MAX_AGE,
) -> Quart:
    """A Quart app that serves the files of the built ``output`` folder under ``base_path``.

    GET and HEAD only. HTML is sent with ``Cache-Control: no-cache``, other
    files with ``public, max-age=static_max_age``; every file with an ``ETag``
    and ``Last-Modified`` and a 304 to a matching conditional request. A folder
    without its slash is redirected (308) to it, so relative links in its
    ``index.html`` resolve. With ``pretty_urls`` ``/about`` serves ``about.html``.
    """
    folder = Path(output)
    base = normalise_base_path(base_path)
    # No built-in /static route: every URL is answered from the output folder.
    app = Quart("pushgen.serve", static_folder=None)
    # "/a//b" must reach the view (and 404 there), not be merged and redirected.
    app.url_map.merge_slashes = False
    # Cache-Control is set per response below; without this send_file would also
    # add a 12-hour Expires that contradicts `no-cache` on pages.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None

    async def not_found(_error: Exception) -> ResponseTypes:
        page = os.path.realpath(folder / "404.html")
        if os.path.isfile(page):
            response = await send_file(page, mimetype="text/html")
        else:
            response = Response("404 Not Found\n", mimetype="text/plain")
        response.status_code = 404
        response.headers["Cache-Control"] = _HTML_CACHE_CONTROL
        return response

    async def view(subpath: str = "") -> ResponseTypes:
        scope = request.scope
        # The site's URL space: with a base path the full path (root_path
        # included, per the ASGI spec) is matched against it; without one, the
        # path below the mount point.
        path = scope["path"] if base != "/" else request.path
        rel = url_path_to_relpath(quote(path, safe="/"), base)
        # realpath() once per request: the output may be a symlink that a
        # deploy switches, or a folder a build has just swapped.
        root = os.path.realpath(folder)
        found = None if rel is None else _resolve(root, rel, pretty_urls)
        if found is None:
            return await not_found(LookupError(path))
        kind, full = found
        if kind == "redirect":
            raw = scope.get("raw_path") or quote(scope["path"], safe="/").encode("ascii")
            location = raw.decode("latin-1") + "/"
            if request.query_string:
                location += "?" + request.query_string.decode("latin-1")
            return Response("", status=308, headers={"Location": location})
        mimetype = content_type(full)
        response = await _send_file(full, mimetype)
        response.headers["Cache-Control"] = (
            _HTML_CACHE_CONTROL if mimetype == "text/html" else f"public, max-age={static_max_age}"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    app.add_url_rule("/", "file", view, methods=["GET"], defaults={"subpath": ""})
    app.add_url_rule("/<path:subpath>", "file", view, methods=["GET"])
    app.register_error_handler(404, not_found)
    return app


# --- running ----------------------------------------------------------------------


def _listen(host: str, port: int) -> socket.socket:
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = info[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
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


async def _run(app: Quart, config: HypercornConfig) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await hypercorn_serve(app, config, shutdown_trigger=stop.wait)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def run_server(
    app: Quart,
    *,
    host: str = "127.0.0.1",
    port: int = 8443,
    certfile: str | os.PathLike[str],
    keyfile: str | os.PathLike[str],
    access_log: bool = True,
    graceful_timeout: float = 3.0,
) -> int:
    """Serve ``app`` on Hypercorn with HTTP/2 over TLS until Ctrl-C or SIGTERM; return 0.

    ``port=0`` picks a free port. The first line printed to stdout is
    ``pushgen: serving at https://HOST:PORT/ ...``. Raises :class:`PushgenError`
    when the certificate cannot be used or the address cannot be bound.
    """
    from hypercorn.config import Config

    config = Config()
    # Hypercorn closes a connection after 1,000 requests by default; an HTTP/2
    # client multiplexing a site's pages over one connection (h2load, a busy
    # proxy) should not see a GOAWAY for that.
    config.keep_alive_max_requests = 100_000
    config.certfile = os.fspath(certfile)
    config.keyfile = os.fspath(keyfile)
    # h2 first: a browser that offers both gets HTTP/2, others HTTP/1.1.
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
        sock = _listen(host, port)
    except OSError as exc:
        raise PushgenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    actual_port = sock.getsockname()[1]
    config.bind = [f"fd://{sock.detach()}"]
    print(f"pushgen: serving at {_url(host, actual_port)}  (press Ctrl-C to stop)", flush=True)
    asyncio.run(_run(app, config))
    print("pushgen: stopped", flush=True)
    return 0


# --- pushgen serve ----------------------------------------------------------------


def _newest(paths: list[Path]) -> float:
    newest = 0.0
    for top in paths:
        try:
            newest = max(newest, top.stat().st_mtime)
        except OSError:
            continue
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in dirnames + filenames:
                try:
                    newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime)
                except OSError:
                    continue
    return newest


def output_is_stale(config: SiteConfig) -> bool:
    """True when the output or manifest is missing, or a source changed after the last build.

    Sources are ``pushgen.yaml``, ``pages/``, ``templates/`` and ``static/``; the
    build time is the newest modification in the output folder or the manifest.
    """
    if not config.output.is_dir() or not config.manifest.is_file():
        return True
    sources = [config.pages, config.templates, config.static]
    if config.config_file is not None:
        sources.append(config.config_file)
    return _newest(sources) > _newest([config.output, config.manifest])


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms"


def hints_summary(options: Options) -> str:
    """One line saying how a page's hints are delivered, for the start-up output."""
    if options.early_hints and options.early_hints_delay > 0:
        early = (
            f"103 Early Hints when a page takes over {_milliseconds(options.early_hints_delay)}"
            " (--early-hints-delay 0: always)"
        )
    elif options.early_hints:
        early = "103 Early Hints on every page, at once"
    else:
        early = "no 103 Early Hints"
    link = "Link headers" if options.link_headers else "no Link headers"
    push = f"push (at most {options.max_pushes} a page)" if options.push else "no push"
    return f"{early}; {link}; {push}"


def _setup_logging() -> None:
    logger = logging.getLogger("pushgen")
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(levelname)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _build(config: SiteConfig) -> bool:
    from .build import build_site

    print(f"pushgen: building {config.root} (the output is missing or older than the sources)")
    try:
        result = build_site(config)
    except BuildError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        print("pushgen: build failed; not serving", file=sys.stderr)
        return False
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    print(f"pushgen: built {result.summary()}", flush=True)
    return True


def serve(
    site: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    manifest: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8443,
    certfile: str | os.PathLike[str] | None = None,
    keyfile: str | os.PathLike[str] | None = None,
    build_if_stale: bool = True,
    early_hints_delay: float | None = None,
) -> int:
    """Serve the built ``site`` with push, 103 Early Hints and ``Link`` headers; return an exit code.

    Builds first when ``build_if_stale`` and the output is missing or older than
    the sources. Without ``certfile``/``keyfile`` uses the self-signed
    development certificate (:func:`pushgen.certs.dev_certificate`).
    ``early_hints_delay`` (seconds) goes to :func:`pushgen.app.create_app`; None
    leaves it to ``PUSHGEN_EARLY_HINTS_DELAY`` or the default. Prints how hints
    are delivered and the URL, serves until Ctrl-C, returns 0; prints the
    problem and returns 1 when it cannot start.
    """
    from .app import create_app
    from .certs import dev_certificate
    from .quart import EXTENSION_KEY

    _setup_logging()
    try:
        if (certfile is None) != (keyfile is None):
            raise PushgenError("give both a certificate and its key, or neither")
        config = load_config(site, output=output, manifest=manifest)
        if build_if_stale and output_is_stale(config) and not _build(config):
            return 1
        app = create_app(
            config.root,
            output=config.output,
            manifest=config.manifest,
            early_hints_delay=early_hints_delay,
        )
        print(f"pushgen: {hints_summary(app.extensions[EXTENSION_KEY].options)}")
        if certfile is None or keyfile is None:
            dev = dev_certificate()
            certfile, keyfile = dev.certfile, dev.keyfile
            made = "created" if dev.created else "using"
            print(
                f"pushgen: {made} a self-signed development certificate for localhost "
                f"({certfile}); the browser will ask you to accept it"
            )
        for name in (certfile, keyfile):
            if not os.path.isfile(name):
                raise PushgenError(f"{name}: no such file")
        return run_server(app, host=host, port=port, certfile=certfile, keyfile=keyfile)
    except PushgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the server runs (while building, say)
        print("pushgen: interrupted", file=sys.stderr)
        return 130
