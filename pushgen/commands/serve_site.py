"""``pushgen serve`` of a site: build when stale, create the app, find a certificate, print, run.

The command's options and checks are commands/serve.py's; this is the work it
calls (and tests and benchmarks call :func:`serve` and :func:`run_server` directly).

The runtime itself (:mod:`pushgen.runtime`) neither prints nor builds nor
returns exit codes; this module does those around it. :func:`serve` is the
command; :func:`run_server` runs any app the way it does, printing the URL to
open first.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import SiteConfig, load_config, require_site
from ..errors import BuildError, ManifestError, PushgenError
from ..runtime.server import DEFAULT_HOST, DEFAULT_PORT, listen, quic_notice, run

if TYPE_CHECKING:
    from ..runtime.certs import CertificatePair
    from ..runtime.livereload import LiveReload
    from ..runtime.quart import Options

__all__ = [
    "cannot_serve",
    "hints_summary",
    "output_is_stale",
    "run_server",
    "serve",
    "serve_app",
]


def cannot_serve(exc: PushgenError) -> int:
    """Say why the server cannot start, once, on standard error; the exit code (1).

    A manifest's problems are located diagnostics (``FILE:LINE:COL: error: ...``,
    the file as the build shows it: relative to the current folder), each said once
    as ``pushgen check`` says it; any other problem is one ``error: ...`` line.
    """
    if isinstance(exc, ManifestError):
        from dataclasses import replace

        from ..console import current_console
        from ..fsutil import display_path

        current_console().diagnostics(
            [replace(d, file=display_path(d.file)) if os.path.isabs(d.file) else d
             for d in exc.diagnostics]
        )  # fmt: skip
    else:
        print(f"error: {exc}", file=sys.stderr)
    return 1


def run_server(
    app: Any,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    certfile: str | os.PathLike[str],
    keyfile: str | os.PathLike[str],
    access_log: bool = True,
    graceful_timeout: float = 3.0,
    quic: bool = False,
    on_stop: Callable[[], None] | None = None,
) -> int:
    """Serve ``app`` on Hypercorn with HTTP/2 over TLS until Ctrl-C or SIGTERM; return
    130 after Ctrl-C (128 + SIGINT, as shells expect), 0 after SIGTERM.

    ``port=0`` picks a free port; ``quic`` adds HTTP/3 on the same port over
    UDP; ``on_stop`` is called when the server starts to stop. The first line printed to stdout is
    ``pushgen: serving at https://HOST:PORT/ ...``. Raises :class:`PushgenError`
    when the certificate cannot be used or the address cannot be bound.
    """
    listening = listen(
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        access_log=access_log,
        graceful_timeout=graceful_timeout,
        quic=quic,
    )
    if listening.quic:
        print(quic_notice(listening), flush=True)

    def ready() -> None:
        print(f"pushgen: serving at {listening.url}  (press Ctrl-C to stop)", flush=True)

    stopped_by = run(app, listening, on_stop=on_stop, on_ready=ready)
    print("pushgen: stopped", flush=True)
    return 128 + signal.SIGINT if stopped_by == signal.SIGINT else 0


def serve_app(
    app: Any,
    *,
    host: str,
    port: int,
    pair: CertificatePair | None,
    quic: bool = False,
    live_reload: LiveReload | None = None,
) -> int:
    """Print how hints go out and which certificate serves, then :func:`run_server`.

    ``pair`` is a checked certificate and key
    (:func:`pushgen.runtime.certs.certificate_pair`); None uses the development
    certificate and says whether browsers will trust it. ``live_reload``
    (``--watch`` only) wraps the app: the script in HTML, the event stream.
    """
    from ..runtime.certs import CertificatePair, dev_certificate
    from ..runtime.devca import trust_summary
    from ..runtime.quart import EXTENSION_KEY

    print(f"pushgen: {hints_summary(app.extensions[EXTENSION_KEY].options)}")
    if pair is None:
        dev = dev_certificate()
        pair = CertificatePair(dev.certfile, dev.keyfile)
        made = "created" if dev.created else "using"
        print(f"pushgen: {made} a development certificate for localhost ({dev.certfile})")
        print(f"pushgen: {trust_summary(dev.certfile)}")
    served, on_stop = app, None
    if live_reload is not None:
        served, on_stop = live_reload.wrap(app), live_reload.close
    return run_server(
        served,
        host=host,
        port=port,
        certfile=pair.certfile,
        keyfile=pair.keyfile,
        quic=quic,
        on_stop=on_stop,
    )


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


def _refuse_a_part(manifest: Path) -> None:
    """Raise the loader's located refusal when ``manifest`` is one shard's partial manifest.

    Before anything is built: a build over a part fails on it anyway, after rendering
    the whole site for nothing.
    """
    from ..manifest import load_manifest
    from ..manifest.partial import is_partial

    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # not there yet, or unreadable: the build or the server says so
    if is_partial(text):
        load_manifest(manifest)  # refuses the ``shard:`` key, at its line


def _build(config: SiteConfig) -> bool:
    from ..build import build_site

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


class _ReportPage:
    """``pushgen serve --report``'s page: the site's report, made again after a rebuild.

    The report is made at start-up; a request remakes it only when the manifest
    or the output folder changed since (a build replaces the output folder, so
    its identity changes with every build, --watch's too). A problem (a manifest
    broken while being edited) is shown on the page, never a traceback.
    """

    def __init__(self, config: SiteConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.state: tuple[object, ...] = ()
        self.body = b""
        self.page()

    def _state(self) -> tuple[object, ...]:
        out: list[object] = []
        for path in (self.config.manifest, self.config.output):
            try:
                st = path.stat()
            except OSError:
                out.append(None)
                continue
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def page(self) -> bytes:
        from html import escape

        from ..manifest import load_manifest
        from ..report import make_report, render_html

        with self.lock:
            state = self._state()
            if state != self.state:
                try:
                    report = make_report(load_manifest(self.config.manifest), config=self.config)
                    self.body = render_html(report).encode("utf-8")
                except PushgenError as exc:
                    problem = escape(str(exc))
                    page = f"<!doctype html><title>pushgen report</title><pre>{problem}</pre>"
                    self.body = page.encode("utf-8")
                self.state = state
            return self.body


def serve(
    site: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    manifest: str | os.PathLike[str] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    certfile: str | os.PathLike[str] | None = None,
    keyfile: str | os.PathLike[str] | None = None,
    build_if_stale: bool = True,
    early_hints_delay: float | None = None,
    quic: bool = False,
    report: bool = False,
    live_reload: LiveReload | None = None,
) -> int:
    """Serve the built ``site`` with push, 103 Early Hints and ``Link`` headers; return an exit code.

    Builds first when ``build_if_stale`` and the output is missing or older than
    the sources. Without ``certfile``/``keyfile`` uses the self-signed
    development certificate (:func:`pushgen.runtime.certs.dev_certificate`).
    ``early_hints_delay`` (seconds) goes to :func:`pushgen.app.create_app`; None
    leaves it to ``PUSHGEN_EARLY_HINTS_DELAY`` or the default. ``quic`` adds
    HTTP/3 on the same port over UDP. ``report`` (development) shows ``pushgen
    report``'s page at ``/_pushgen/``, made again after each rebuild.
    ``live_reload`` (``--watch``'s) reloads open pages after a rebuild
    (:mod:`pushgen.runtime.livereload`). Prints how hints
    are delivered and the URL, serves until Ctrl-C (returns 130) or SIGTERM
    (returns 0); prints the problem and returns 1 when it cannot start, and
    when ``site`` is not a site (:func:`pushgen.config.require_site`).
    """
    from ..runtime.certs import certificate_pair
    from ..runtime.factory import REPORT_PATH, create_app, mount_report

    _setup_logging()
    try:
        pair = certificate_pair(certfile, keyfile)
        config = load_config(site, output=output, manifest=manifest)
        require_site(config)
        if config.app is not None:
            # Building would render the folder's (missing) pages over the app's manifest.
            raise PushgenError(
                f"{config.config_file} names the Quart app {config.app}: `pushgen serve` serves"
                " a built site, not an app; run the app on Hypercorn, with the certificate"
                " `pushgen trust cert` prints"
            )
        _refuse_a_part(config.manifest)
        if build_if_stale and output_is_stale(config) and not _build(config):
            return 1
        app = create_app(
            config.root,
            output=config.output,
            manifest=config.manifest,
            early_hints_delay=early_hints_delay,
        )
        if report:
            mount_report(app, _ReportPage(config).page)
            print(f"pushgen: the report is at {REPORT_PATH} (--report; development only)")
        if live_reload is not None:
            print("pushgen: pages reload after each rebuild (--watch; development only)")
        return serve_app(app, host=host, port=port, pair=pair, quic=quic, live_reload=live_reload)
    except PushgenError as exc:
        return cannot_serve(exc)
    except KeyboardInterrupt:  # Ctrl-C before the server runs (while building, say)
        print("pushgen: interrupted", file=sys.stderr)
        return 130
