"""The ``pushgen`` command: parses arguments, calls the library, prints, returns an exit code.

Exit codes: 0 success, 1 errors (or a stale manifest under ``--check``), 2 usage,
130 interrupted (Ctrl-C), as shells report a process SIGINT stopped.
"""

from __future__ import annotations

import difflib
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .commands.report import report
from .commands.trust import trust
from .commands.verify import verify
from .config import SiteConfig, load_config, require_site
from .console import current_console, output_options
from .errors import BuildError, Diagnostic, ManifestError, PushgenError, counted
from .model import HtmlLimits
from .outcome import Summary
from .runtime.server import DEFAULT_HOST, DEFAULT_PORT

if TYPE_CHECKING:
    from .build.sources.resolve import SourceResult
    from .progress import Progress

__all__ = ["cli", "main"]


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    current_console().diagnostics(diagnostics)


# The -m option of every command that reads or writes the manifest.
_manifest_option = click.option(
    "-m",
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Manifest file [SITE/push-manifest.yaml].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pushgen")
def cli() -> None:
    """Push a page's critical assets before the browser asks: build a push manifest, serve it."""


@cli.command()
@click.argument("site", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder [SITE/_site].",
)
@_manifest_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1, nothing written).")
@click.option(
    "--check",
    is_flag=True,
    help="Build in memory; exit 1 with a diff if the manifest on disk is stale.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes [chosen from the first pages' cost and the idle cores].",
)
@click.option(
    "--force", is_flag=True, help="Overwrite hand edits made inside the generated routes."
)
@click.option(
    "--full", is_flag=True, help="Render and scan everything, ignoring the last build's state."
)
@click.option(
    "--watch",
    is_flag=True,
    help="After building, rebuild whenever a source changes (Ctrl-C stops).",
)
@click.option(
    "--app",
    "app",
    metavar="MODULE:APP",
    help="Render this Quart app through its test client instead of SITE's pages"
    " (MODULE:factory() calls a factory) [app: in pushgen.yaml].",
)
@output_options("build")
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="With --app: give up a page or asset the app has not answered in full by then"
    " [request_timeout: in pushgen.yaml, 30].",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1),
    metavar="BYTES",
    help="With --app: stop reading a page or asset past this size"
    " [max_body: in pushgen.yaml, 50000000].",
)
def build(
    site: Path,
    output: Path | None,
    manifest: Path | None,
    strict: bool,
    check: bool,
    jobs: int | None,
    force: bool,
    full: bool,
    watch: bool,
    app: str | None,
    request_timeout: float | None,
    max_body: int | None,
) -> None:
    """Render SITE, find every asset each page needs, write the output and the manifest."""
    from .build import build_site

    if not site.is_dir():
        raise click.UsageError(f"site folder {site} does not exist")
    config = load_config(site, output=output, manifest=manifest)
    console = current_console()
    if watch and console.options.format == "json":
        raise click.UsageError("--format json prints one document: no --watch")
    if app or config.app:
        if watch or output is not None:
            raise click.UsageError("--app renders the app in memory: no -o, no --watch")
        config = replace(
            config,
            request_timeout=request_timeout or config.request_timeout,
            max_body=max_body or config.max_body,
        )
        _build_app(config, app=app, strict=strict, check=check, force=force)
        return
    if request_timeout is not None or max_body is not None:
        raise click.UsageError(
            "--request-timeout and --max-body bound the requests of --app builds"
        )
    require_site(config)
    try:
        with console.progress() as progress:
            result = build_site(
                config,
                strict=strict,
                write=not check,
                force=force,
                full=full,
                jobs=jobs,
                progress=progress,
            )
    except BuildError as exc:
        _print_diagnostics(exc.diagnostics)
        errors = counted(len(exc.diagnostics), "error")
        console.failure(f"build failed: {errors}; previous output left as it was")
        console.report("build", "failed", Summary.of_diagnostics(exc.diagnostics))
        raise SystemExit(1) from None
    _print_diagnostics(result.diagnostics)
    summary = Summary.of_result(result, len(result.pages))
    if check:
        _check_stale(config.manifest, result.manifest_text, "pushgen build", summary)
        return
    if result.unchanged:
        console.info(f"nothing changed since the last build: {result.summary()}")
    else:
        console.info(f"built {config.output} and {config.manifest}: {result.summary()}")
    console.report(
        "build",
        "errors" if result.error_diagnostics else "ok",
        summary,
        manifest=config.manifest,
        written=result.written,
        unchanged=result.unchanged,
        phases=result.phases,
    )
    if result.error_diagnostics and not watch:
        # Written all the same (the rest of the site is fine), but not a success.
        raise SystemExit(1)
    if watch:
        from .build.watch import watch_and_build

        click.echo(f"watching {config.root} for changes (Ctrl-C stops)", err=True)
        watch_and_build(config, report=_report, jobs=jobs)
        # With no stop event, watching ends only on Ctrl-C.
        raise SystemExit(_INTERRUPTED)


def _build_app(
    config: SiteConfig, *, app: str | None, strict: bool, check: bool, force: bool
) -> None:
    """``pushgen build --app``: the manifest of a Quart app (pushgen/build/sources/app.py)."""
    from .build.sources.app import build_app

    _run_source(
        lambda progress: build_app(
            config, app=app, strict=strict, write=not check, force=force, progress=progress
        ),
        config.manifest,
        check=check,
        failed="build failed",
        done="built {manifest} from the app",
        command="pushgen build --app",
    )


def _run_source(
    run: Callable[[Progress], SourceResult],
    manifest: Path,
    *,
    check: bool,
    failed: str,
    done: str,
    command: str,
) -> None:
    """Run a source (pushgen/build/sources/), print what it found, exit 1 on errors or a stale --check."""
    console = current_console()
    name = command.removeprefix("pushgen ")
    try:
        with console.progress() as progress:
            result = run(progress)
    except BuildError as exc:
        _print_diagnostics(exc.diagnostics)
        errors = counted(len(exc.diagnostics), "error")
        console.failure(f"{failed}: {errors}; nothing written")
        console.report(name, "failed", Summary.of_diagnostics(exc.diagnostics))
        raise SystemExit(1) from None
    _print_diagnostics(result.diagnostics)
    summary = Summary.of_result(result, result.pages)
    if check:
        _check_stale(manifest, result.manifest_text, command, summary)
        return
    console.info(f"{done.format(manifest=manifest)}: {result.summary()}")
    console.report(
        name,
        "errors" if result.errors else "ok",
        summary,
        manifest=manifest,
        written=result.written,
    )
    if result.errors:
        raise SystemExit(1)


def _check_stale(manifest: Path, text: str, command: str, summary: Summary) -> None:
    """``--check``: print the diff and exit 1 when ``manifest`` on disk is not ``text``."""
    from .manifest.writer import same_but_source

    console = current_console()
    name = command.removeprefix("pushgen ")
    try:
        current = manifest.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    # One source run two ways (`build --app X`, or plain `build` with `app: X` in
    # pushgen.yaml) names itself differently on the routes line: not a change.
    if not same_but_source(current, text):
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{manifest} (on disk)",
            tofile=f"{manifest} (built)",
        )
        console.diff("".join(diff))
        console.failure(f"stale: {manifest} differs from a fresh build; run `{command}`")
        console.report(name, "stale", summary, manifest=manifest)
        raise SystemExit(1)
    console.info(f"up to date: {manifest}; {summary}")
    console.report(name, "ok", summary, manifest=manifest)


def _report(outcome: object) -> None:
    """Print what a rebuild in watch mode did."""
    if isinstance(outcome, BuildError):
        _print_diagnostics(outcome.diagnostics)
        click.echo("rebuild failed; previous output left as it was", err=True)
    elif isinstance(outcome, PushgenError):
        click.echo(f"error: {outcome}", err=True)
    else:
        from .build import BuildResult

        assert isinstance(outcome, BuildResult)
        _print_diagnostics(outcome.diagnostics)
        click.echo(
            f"rebuilt ({counted(outcome.rendered, 'page')} rendered): {outcome.summary()}", err=True
        )


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-m",
    "--manifest",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Manifest file to write (outside FOLDER unless you want it served).",
)
@click.option("--base-path", default="/", show_default=True, help="URL prefix FOLDER is served at.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1, nothing written).")
@click.option(
    "--check",
    is_flag=True,
    help="Scan in memory; exit 1 with a diff if the manifest on disk is stale.",
)
@click.option(
    "--force", is_flag=True, help="Overwrite hand edits made inside the generated routes."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes [chosen from the first pages' cost and the idle cores].",
)
@click.option(
    "--max-page-bytes",
    type=click.IntRange(min=1),
    default=HtmlLimits().max_page_bytes,
    show_default=True,
    help="A larger page is left out of the manifest (an error says which).",
)
@click.option(
    "--max-attributes",
    type=click.IntRange(min=1),
    default=HtmlLimits().max_attributes,
    show_default=True,
    help="A page with an element that has more attributes is left out (an error says where).",
)
@output_options("scan")
def scan(
    folder: Path,
    manifest: Path,
    base_path: str,
    strict: bool,
    check: bool,
    force: bool,
    jobs: int | None,
    max_page_bytes: int,
    max_attributes: int,
) -> None:
    """Write the manifest of FOLDER, a site another generator built (Sphinx, MkDocs, Hugo, ...).

    Every .html file is a page at the URL FOLDER serves it at, every other file an
    asset at its own URL. Nothing in FOLDER is changed.
    """
    from .build.sources.folder import folder_config, scan_folder

    if not folder.is_dir():
        raise click.UsageError(f"folder {folder} does not exist")
    limits = HtmlLimits(max_page_bytes=max_page_bytes, max_attributes=max_attributes)
    config = folder_config(folder, manifest, base_path=base_path, html_limits=limits)
    _run_source(
        lambda progress: scan_folder(
            config, strict=strict, write=not check, force=force, jobs=jobs, progress=progress
        ),
        config.manifest,
        check=check,
        failed="scan failed",
        done=f"scanned {folder} into {{manifest}}",
        command="pushgen scan",
    )


@cli.command()
@click.argument("site", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Built output folder [SITE/_site].",
)
@_manifest_option
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
    " 0 sends a 103 on every page at once [PUSHGEN_EARLY_HINTS_DELAY, or 0.002].",
)
@click.option(
    "--folder",
    is_flag=True,
    help="SITE is a folder another generator built (see `pushgen scan`): serve it as it is"
    " with the manifest given by -m.",
)
@click.option(
    "--base-path", default="/", show_default=True, help="With --folder: URL prefix SITE is at."
)
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
    from .serve import serve as run

    if (certfile is None) != (keyfile is None):
        raise click.UsageError("--cert and --key go together")
    if folder:
        from .commands.serve_folder import serve_folder

        if manifest is None:
            raise click.UsageError("--folder needs the manifest: -m MANIFEST (from `pushgen scan`)")
        if output is not None or watch or report:
            raise click.UsageError("--folder serves SITE as it is: no -o, --watch or --report")
        if not site.is_dir():
            raise click.UsageError(f"folder {site} does not exist")
        from .build.provenance import require_manifest

        require_manifest(manifest, None, site, folder=True)
        raise SystemExit(
            serve_folder(
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
        )
    if not site.is_dir():
        raise click.UsageError(f"site folder {site} does not exist")
    stop = threading.Event()
    if watch:
        # The output folder is swapped atomically and the manifest is watched by
        # the server, so a rebuild in this thread is picked up by the next request.
        from .build.watch import watch_and_build

        config = load_config(site, output=output, manifest=manifest)
        require_site(config)
        threading.Thread(
            target=watch_and_build,
            args=(config,),
            kwargs={"report": _report, "stop": stop},
            name="pushgen-watch",
            daemon=True,
        ).start()

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
    )
    stop.set()
    raise SystemExit(code)


@cli.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "--site",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Built output folder: check every file is there.",
)
@click.option(
    "--base-path", default=None, help="URL prefix of the site [from SITE/pushgen.yaml, or /]."
)
@output_options("check")
def check(manifest: Path | None, output: Path | None, base_path: str | None) -> None:
    """Validate a push manifest: syntax, keys, values, paths, files, rules. Exit 1 on errors."""
    from .build.provenance import require_manifest
    from .manifest.check import check_manifest

    config = load_config(".") if manifest is None or base_path is None else None
    path = manifest if manifest is not None else config.manifest  # type: ignore[union-attr]
    require_manifest(path, config)
    base = base_path if base_path is not None else (config.base_path if config else "/")
    diagnostics = check_manifest(path, output=output, base_path=base)
    _print_diagnostics(diagnostics)
    summary = Summary.of_diagnostics(diagnostics)
    console = current_console()
    (console.failure if summary.errors else console.info)(f"{path}: {summary}")
    console.report("check", "errors" if summary.errors else "ok", summary, manifest=path)
    if summary.errors:
        raise SystemExit(1)


@cli.command()
@click.argument("route")
@_manifest_option
@click.option(
    "--site",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The site, or the folder `pushgen scan` scanned, to recover why each asset is needed.",
)
@click.option(
    "--base-path", default="/", show_default=True, help="For a scanned folder: its URL prefix."
)
def explain(route: str, manifest: Path | None, site: Path, base_path: str) -> None:
    """Say why each entry of ROUTE is there, and whether it is pushed, hinted or dropped."""
    from .build.explain import explain_route
    from .build.provenance import explain_source, require_manifest, written_by
    from .manifest import load_manifest

    if not route.startswith("/"):
        raise click.UsageError(f"ROUTE is a URL path like / or /docs/, not {route!r}")
    if not site.is_dir():
        raise click.UsageError(f"site folder {site} does not exist")
    config = load_config(site, manifest=manifest)
    path = require_manifest(manifest if manifest is not None else config.manifest, config, site)
    writer = written_by(path)
    source = explain_source(site, config, path, writer, base_path=base_path)
    explanation = explain_route(
        load_manifest(path), route, source.site, folder=source.folder, app=source.app, writer=writer
    )
    click.echo(explanation.render(), nl=False)
    if not explanation.decisions and explanation.page is None:
        raise SystemExit(1)


@cli.command()
@click.option("--json-output", is_flag=True, help="The schema of --format json's document instead.")
def schema(json_output: bool) -> None:
    """Print the JSON Schema of push manifests (editors use it through the modeline)."""
    from .manifest.schema import schema_text
    from .outcome import outcome_schema_text

    click.echo(outcome_schema_text() if json_output else schema_text(), nl=False)


@cli.command("export")
@click.option(
    "-f",
    "--format",
    "format_",
    required=True,
    type=click.Choice(
        ["netlify", "cloudflare", "firebase", "nginx", "h2o", "apache", "json", "push-manifest"]
    ),
    help="Target: a CDN headers file, a web server config, a JSON map or push_manifest.json.",
)
@_manifest_option
@click.option(
    "--site",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The site: its pushgen.yaml gives the manifest, pretty_urls and the output folder.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write [standard output].",
)
@click.option("--root", help="Document root on the server (h2o serves the files itself).")
@click.option(
    "--max-pushes",
    type=click.IntRange(min=0),
    help="Pushes per response at most [nginx: 10, its http2_max_concurrent_pushes].",
)
@click.option(
    "--no-push",
    is_flag=True,
    help="Write no push instructions (nginx 1.25.1 and later cannot push).",
)
@click.option(
    "--skip-patterns",
    is_flag=True,
    help="Leave out pattern rules the format cannot express instead of failing.",
)
def export_command(
    format_: str,
    manifest: Path | None,
    site: Path,
    output: Path | None,
    root: str | None,
    max_pushes: int | None,
    no_push: bool,
    skip_patterns: bool,
) -> None:
    """Write the manifest's Link headers (and pushes) for a CDN or web server. Cuts are warnings."""
    from .build.provenance import require_manifest
    from .export import FORMATS, export_manifest
    from .fsutil import atomic_write
    from .manifest import load_manifest
    from .site_files import file_size

    config = load_config(site, manifest=manifest)

    def size_of(path: str) -> int | None:
        return file_size(config.output, path, base_path=config.base_path)

    result = export_manifest(
        load_manifest(require_manifest(config.manifest, config, site)),
        format_,
        root=root,
        pretty_urls=config.pretty_urls,
        push=not no_push,
        max_pushes=max_pushes,
        skip_patterns=skip_patterns,
        size_of=size_of,
    )
    _print_diagnostics(result.diagnostics)
    if not result.ok:
        click.echo(
            f"export failed: {counted(len(result.errors), 'error')}; nothing written", err=True
        )
        raise SystemExit(1)
    if output is None:
        click.echo(result.text, nl=False)
    else:
        atomic_write(output, result.text.encode("utf-8"))
    where = output if output is not None else "standard output"
    # A "cut" is a route, rule or entry the format cannot carry (each was a warning above).
    left = (
        f"{len(result.cuts)} left out (routes, rules or entries the format cannot carry,"
        " named above)"
        if result.cuts
        else "everything carried"
    )
    click.echo(f"exported {config.manifest} as {FORMATS[format_]} to {where}: {left}", err=True)


@cli.command("import")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Manifest to write [standard output].",
)
@click.option(
    "--base-path",
    default="/",
    show_default=True,
    help="URL folder the file's relative keys and paths are in (prpl-server's basePath).",
)
@click.option(
    "--route",
    default="/",
    show_default=True,
    help="Route of a single-file manifest (one page's resources).",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT when it exists.")
def import_command(
    source: Path, output: Path | None, base_path: str, route: str, force: bool
) -> None:
    """Make a pushgen manifest from a push_manifest.json (http2-push-manifest, polymer, prpl-server)."""
    from .export.push_manifest import import_push_manifest
    from .fsutil import atomic_write

    if not route.startswith("/"):
        raise click.UsageError(f"--route is a URL path like / or /app/, not {route!r}")
    if output is not None and output.exists() and not force:
        raise click.UsageError(f"{output} exists; give --force to overwrite it")
    result = import_push_manifest(
        source.read_bytes(), filename=str(source), route=route, base_path=base_path
    )
    _print_diagnostics(result.diagnostics)
    if not result.ok:
        click.echo("import failed; nothing written", err=True)
        raise SystemExit(1)
    if output is None:
        click.echo(result.text, nl=False)
    else:
        atomic_write(output, result.text.encode("utf-8"))
    entries = sum(len(assets) for assets in result.routes.values())
    where = output if output is not None else "standard output"
    entries_text = f"{entries} {'entry' if entries == 1 else 'entries'}"
    routes = counted(len(result.routes), "route")
    click.echo(f"imported {source} to {where}: {routes}, {entries_text} (as rules)", err=True)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path), default=".")
@click.option(
    "--app",
    metavar="MODULE:APP",
    help="Record this Quart app in FOLDER/pushgen.yaml [the app FOLDER/app.py defines, if any].",
)
def init(folder: Path, app: str | None) -> None:
    """Start a site in FOLDER (a layout, a page, a stylesheet with a web font, a module script).

    Beside a Quart app (--app, or an app.py defining one) it writes only a
    pushgen.yaml naming the app. Never overwrites a file.
    """
    from .init import init_site

    click.echo(init_site(folder, app=app).report(folder), err=True)


cli.add_command(report)
cli.add_command(trust)
cli.add_command(verify)


# The exit code of a command Ctrl-C stopped: 128 + SIGINT, what shells report.
_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="pushgen",
            standalone_mode=False,
        )
    except click.exceptions.Abort:  # click's translation of KeyboardInterrupt (and EOF)
        click.echo("interrupted", err=True)
        return _INTERRUPTED
    except click.UsageError as exc:
        exc.show()
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ManifestError as exc:
        _print_diagnostics(exc.diagnostics)
        return 1
    except PushgenError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
