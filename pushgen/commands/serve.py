"""``pushgen serve``: the command's options, checks and exit code around serve_site.py.

pushgen/commands/serve_site.py (build when stale, make the app, find a certificate, run
Hypercorn) and pushgen/commands/serve_folder.py (``--folder``) do the work; with
``--watch`` a thread rebuilds and :func:`~pushgen.commands.build.report_rebuild`
prints each rebuild.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..config import SiteConfig, load_config, require_site
from ..runtime.server import DEFAULT_HOST, DEFAULT_PORT
from .build import report_rebuild
from .shared import folder_base_path_option, manifest_option

if TYPE_CHECKING:
    from ..runtime.livereload import LiveReload

__all__ = ["serve"]


@click.command()
@click.argument("site", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Built output folder [SITE/_site].",
)
@manifest_option
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one).",
)
@click.option(
    "--cert",
    "certfile",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="TLS certificate (PEM).",
)
@click.option(
    "--key",
    "keyfile",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="TLS private key (PEM).",
)
@click.option(
    "--no-build", is_flag=True, help="Serve the output as it is, even when older than the sources."
)
@click.option(
    "--watch", is_flag=True, help="Rebuild whenever a source changes; the server picks it up."
)
@click.option(
    "--early-hints-delay",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Send a page's 103 Early Hints only when its response has not started after SECONDS;"
    " 0 sends a 103 on every page at once [PUSHGEN_EARLY_HINTS_DELAY, or 0].",
)
@click.option(
    "--folder",
    is_flag=True,
    help="SITE is a folder another generator built (see `pushgen scan`): serve it as it is"
    " with the manifest given by -m.",
)
@folder_base_path_option
@click.option(
    "--quic",
    is_flag=True,
    help="Also serve HTTP/3 on the same port over UDP, advertised by Alt-Svc"
    " (needs aioquic: pip install 'pushgen[h3]').",
)
@click.option("--report", is_flag=True, help="Development: show `pushgen report` at /_pushgen/.")
def serve(
    site: Path,
    output: Path | None,
    manifest: Path | None,
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    no_build: bool,
    watch: bool,
    early_hints_delay: float | None,
    folder: bool,
    base_path: str,
    quic: bool,
    report: bool,
) -> None:
    """Serve the built SITE over HTTP/2 + TLS with push, 103 Early Hints and Link headers."""
    from .serve_site import serve as run

    if (certfile is None) != (keyfile is None):
        raise click.UsageError("--cert and --key go together")
    if folder:
        if manifest is None:
            raise click.UsageError("--folder needs the manifest: -m MANIFEST (from `pushgen scan`)")
        if output is not None or watch or report:
            raise click.UsageError("--folder serves SITE as it is: no -o, --watch or --report")
        _serve_folder(
            site,
            manifest,
            base_path=base_path,
            host=host,
            port=port,
            certfile=certfile,
            keyfile=keyfile,
            early_hints_delay=early_hints_delay,
            quic=quic,
        )
    if not site.is_dir():
        raise click.UsageError(f"site folder {site} does not exist")
    from ..runtime.livereload import LiveReload

    stop = threading.Event()
    live_reload = LiveReload() if watch else None
    if live_reload is not None:
        _watch(load_config(site, output=output, manifest=manifest), stop, live_reload)
    code = run(
        site,
        output=output,
        manifest=manifest,
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        build_if_stale=not no_build,
        early_hints_delay=early_hints_delay,
        quic=quic,
        report=report,
        live_reload=live_reload,
    )
    stop.set()
    raise SystemExit(code)


def _serve_folder(site: Path, manifest: Path, **options: Any) -> NoReturn:
    """``--folder``: SITE served as it is with its manifest (serve_folder.py); exits."""
    from ..build.provenance import require_manifest
    from .serve_folder import serve_folder

    if not site.is_dir():
        raise click.UsageError(f"folder {site} does not exist")
    require_manifest(manifest, None, site, folder=True)
    raise SystemExit(serve_folder(site, manifest, **options))


def _watch(config: SiteConfig, stop: threading.Event, live_reload: LiveReload) -> None:
    """``--watch``: rebuild in a thread until ``stop``.

    The output folder is swapped atomically and the manifest is watched by the
    server, so a rebuild in this thread is picked up by the next request; a
    rebuild that changed the output reloads the open pages (``live_reload``).
    """
    from ..build.watch import watch_and_build
    from ..runtime.livereload import Change

    require_site(config)
    threading.Thread(
        target=watch_and_build,
        args=(config,),
        kwargs={
            "report": report_rebuild,
            "stop": stop,
            "changed": lambda files: live_reload.publish(Change(files)),
        },
        name="pushgen-watch",
        daemon=True,
    ).start()
