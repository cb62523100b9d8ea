"""``pushgen build`` (and ``--app``, ``--check``, ``--watch``): render, resolve, write, report.

The command prints, shows progress and picks the exit code; pushgen/build/ and its
sources (pushgen/sources/, through pushgen/build/from_source.py) return one kind of
result (:class:`~pushgen.build.result.BuildResult`) and raise
:class:`~pushgen.errors.BuildError` with the diagnostics. :func:`run_source`,
:func:`check_stale` and :func:`report_rebuild` are shared with ``pushgen scan`` and
``pushgen serve --watch``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..config import SiteConfig, load_config, require_site
from ..console import current_console, output_options
from ..errors import BuildError, PushgenError, counted
from ..outcome import Summary
from .shared import (
    INTERRUPTED,
    force_option,
    jobs_option,
    manifest_option,
    shard_option,
    strict_option,
)

if TYPE_CHECKING:
    from ..build.result import BuildResult
    from ..build.shard import Shard
    from ..progress import Progress

__all__ = ["build", "check_stale", "report_rebuild", "run_source"]


@click.command()
@click.argument("site", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder [SITE/_site].",
)
@manifest_option
@strict_option
@click.option(
    "--check",
    is_flag=True,
    help="Build in memory; exit 1 with a diff if the manifest on disk is stale.",
)
@jobs_option
@force_option
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
    help="Render this Quart app through its test client, or any ASGI app through httpx,"
    " instead of SITE's pages (MODULE:factory() calls a factory) [app: in pushgen.yaml].",
)
@shard_option
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
    shard: Shard | None,
) -> None:
    """Render SITE, find every asset each page needs, write the output and the manifest."""
    if not site.is_dir():
        raise click.UsageError(f"site folder {site} does not exist")
    config = load_config(site, output=output, manifest=manifest)
    if shard is not None:
        if check or watch or app or config.app:
            raise click.UsageError(
                "--shard builds a part of a site's pages: no --check, --watch, app"
            )
        config = _shard_config(site, config, shard, output=output, manifest=manifest)
        _build_shard(config, shard, strict=strict, jobs=jobs)
        return
    if watch and current_console().options.format == "json":
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
    _build_site(config, strict=strict, check=check, jobs=jobs, force=force, full=full, watch=watch)


def _build_site(
    config: SiteConfig,
    *,
    strict: bool,
    check: bool,
    jobs: int | None,
    force: bool,
    full: bool,
    watch: bool,
) -> None:
    """``pushgen build`` of a pushgen site (pushgen/build/pipeline.py), then ``--watch``."""
    from ..build import build_site

    run_source(
        lambda progress: build_site(
            config,
            strict=strict,
            write=not check,
            force=force,
            full=full,
            jobs=jobs,
            progress=progress,
        ),
        config.manifest,
        check=check,
        failed="build failed",
        kept="previous output left as it was",
        done=f"built {config.output} and {{manifest}}",
        command="pushgen build",
        watch=watch,
    )
    if watch:
        from ..build.watch import watch_and_build

        click.echo(f"watching {config.root} for changes (Ctrl-C stops)", err=True)
        watch_and_build(config, report=report_rebuild, jobs=jobs)
        # With no stop event, watching ends only on Ctrl-C.
        raise SystemExit(INTERRUPTED)


def _shard_config(
    site: Path, config: SiteConfig, shard: Shard, *, output: Path | None, manifest: Path | None
) -> SiteConfig:
    """A shard's output and partial manifest: its own (``_site.shard-2-of-4``, ...) unless
    -o and -m name others, never the one-machine build's (its state stays its own)."""
    whole = load_config(site)
    if output is None:
        config = replace(config, output=shard.beside(whole.output))
    elif config.output == whole.output:
        raise click.UsageError(
            "--shard: -o is the site's own output; a shard writes one of its own"
        )
    if manifest is None:
        config = replace(config, manifest=shard.beside(whole.manifest))
    elif config.manifest == whole.manifest:
        raise click.UsageError("--shard: -m is the site's manifest; a shard writes a partial one")
    return config


def _build_shard(config: SiteConfig, shard: Shard, *, strict: bool, jobs: int | None) -> None:
    """``pushgen build --shard K/N``: this part's pages, a full build into an output and a
    partial manifest of its own (docs/sharding.md)."""
    from ..build import build_site

    require_site(config)
    run_source(
        lambda progress: build_site(
            config, strict=strict, full=True, jobs=jobs, progress=progress, shard=shard
        ),
        config.manifest,
        check=False,
        failed=f"build of shard {shard.part}/{shard.of} failed",
        kept="previous output left as it was",
        done=f"built shard {shard.part}/{shard.of} into {config.output} and {{manifest}}",
        command="pushgen build",
    )


def _build_app(
    config: SiteConfig, *, app: str | None, strict: bool, check: bool, force: bool
) -> None:
    """``pushgen build --app``: the manifest of a Quart app (pushgen/sources/quart_app.py)
    or any other ASGI app (pushgen/sources/asgi_app.py)."""
    from ..build.from_source import build_app

    run_source(
        lambda progress: build_app(
            config, app=app, strict=strict, write=not check, force=force, progress=progress
        ),
        config.manifest,
        check=check,
        failed="build failed",
        done="built {manifest} from the app",
        command="pushgen build --app",
    )


def run_source(
    run: Callable[[Progress], BuildResult],
    manifest: Path,
    *,
    check: bool,
    failed: str,
    done: str,
    command: str,
    kept: str = "nothing written",
    watch: bool = False,
) -> None:
    """Run a build of any source, print what it found, exit 1 on errors or a stale --check.

    The one place a build's result is reported: ``failed`` and ``kept`` make the
    line of a build that stopped, ``done`` (``{manifest}`` filled in) the line of
    one that finished; with ``watch`` errors in the input do not end the command.
    """
    console = current_console()
    name = command.removeprefix("pushgen ")
    try:
        with console.progress() as progress:
            result = run(progress)
    except BuildError as exc:
        console.diagnostics(exc.diagnostics)
        errors = counted(len(exc.diagnostics), "error")
        console.failure(f"{failed}: {errors}; {kept}")
        console.report(name, "failed", Summary.of_diagnostics(exc.diagnostics))
        raise SystemExit(1) from None
    console.diagnostics(result.diagnostics)
    summary = Summary.of_result(result)
    if check:
        check_stale(manifest, result.manifest_text, command, summary)
        return
    if result.unchanged:
        console.info(f"nothing changed since the last build: {result.summary()}")
    else:
        console.info(f"{done.format(manifest=manifest)}: {result.summary()}")
    console.report(
        name,
        "errors" if result.error_diagnostics else "ok",
        summary,
        manifest=manifest,
        written=result.written,
        unchanged=result.unchanged,
        phases=result.phases,
    )
    if result.error_diagnostics and not watch:
        # Written all the same (the rest of the site is fine), but not a success.
        raise SystemExit(1)


def check_stale(manifest: Path, text: str, command: str, summary: Summary) -> None:
    """``--check``: print the diff and exit 1 when ``manifest`` on disk is not ``text``."""
    from ..manifest.writer import same_but_source

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


def report_rebuild(outcome: object) -> None:
    """Print what a rebuild in watch mode did."""
    if isinstance(outcome, BuildError):
        current_console().diagnostics(outcome.diagnostics)
        click.echo("rebuild failed; previous output left as it was", err=True)
    elif isinstance(outcome, PushgenError):
        click.echo(f"error: {outcome}", err=True)
    else:
        from ..build.result import BuildResult

        assert isinstance(outcome, BuildResult)
        current_console().diagnostics(outcome.diagnostics)
        click.echo(
            f"rebuilt ({counted(outcome.rendered, 'page')} rendered): {outcome.summary()}", err=True
        )
