"""``pushgen verify``: the manifest checked against what headless Chromium fetches.

The command prints and picks the exit code; pushgen/verify/ serves the site, drives
the browser and compares (docs/verify.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from ..console import current_console
from ..errors import BuildError
from .shared import folder_base_path_option, manifest_option

__all__ = ["verify"]


def _rtt_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    from ..verify.timing import parse_rtt

    if value is not None and parse_rtt(value) is None:
        raise click.BadParameter(f"{value!r} is not a round trip > 0: write 100ms or 0.1s")
    return parse_rtt(value) if value is not None else None


@click.command()
@click.argument("site", type=click.Path(file_okay=False, path_type=Path), default=".")
@manifest_option
@click.option("--folder", is_flag=True, help="SITE is a folder another generator built (needs -m).")
@folder_base_path_option
@click.option(
    "--app",
    "app",
    metavar="MODULE:APP",
    help="Serve this app: Quart, or any ASGI app (Starlette, FastAPI, Django); imported from SITE.",
)
@click.option("--routes", metavar="GLOB", help="Only the routes matching GLOB (/docs/*).")
@click.option("--max", "limit", type=click.IntRange(min=1), help="At most N routes (in order).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on standard output."
)
@click.option(
    "--timing",
    is_flag=True,
    help="Then time each route with and without the hints"
    " through a delay line: first paint, web-font text, LCP (docs/performance.md).",
)
@click.option(
    "--rtt",
    callback=_rtt_option,
    metavar="TIME",
    help="With --timing: the delay line's round trip, 100ms or 0.1s [100ms].",
)
@click.option("--runs", type=click.IntRange(min=1),
              help="With --timing: cold loads per route and way, medians [5].")  # fmt: skip
def verify(
    site: Path,
    manifest: Path | None,
    folder: bool,
    base_path: str,
    app: str | None,
    routes: str | None,
    limit: int | None,
    as_json: bool,
    timing: bool,
    rtt: float | None,
    runs: int | None,
) -> None:
    """Load every route in headless Chromium; exit 1 when the manifest misses or wastes an asset.

    Serves SITE (or --folder DIR, or --app MODULE:APP) over HTTP/2 + TLS with its
    manifest's hints and loads each route cold, with and without them (docs/verify.md).
    """
    import dataclasses
    import json
    import time

    from ..verify import Source
    from ..verify import verify as run
    from ..verify.result import render_verdict

    if folder and app:
        raise click.UsageError("--folder and --app are two different sources: give one")
    if not site.is_dir():
        raise click.UsageError(f"folder {site} does not exist")
    if not timing and (rtt is not None or runs is not None):
        raise click.UsageError("--rtt and --runs go with --timing")
    kind: Literal["site", "folder", "app"] = "folder" if folder else "app" if app else "site"
    source = Source(kind, site, manifest, base_path, app or "")
    started = time.monotonic()
    try:
        result = run(
            source,
            routes=routes,
            limit=limit,
            progress=lambda v: click.echo(render_verdict(v), nl=False, err=True),
        )
    except BuildError as exc:  # --app: the app did not import, or is no ASGI app
        current_console().diagnostics(exc.diagnostics)
        raise SystemExit(1) from None
    if timing:
        from ..verify.timing import time_source

        timed = time_source(source, routes=routes, limit=limit, rtt_ms=rtt or 100.0,
                            runs=runs or 5, progress=lambda line: click.echo(line, err=True))  # fmt: skip
        click.echo(timed.render(), nl=False, err=True)
        result = dataclasses.replace(result, timing=timed.to_json())
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    state = "ok" if result.ok else "FAILED"
    seconds = time.monotonic() - started
    click.echo(f"verified {result.manifest} in {result.browser}: {state}: {result.summary()}"
               f" in {seconds:.2f}s", err=True)  # fmt: skip
    if not result.ok:
        raise SystemExit(1)
