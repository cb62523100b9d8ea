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

__all__ = ["verify"]


@click.command()
@click.argument("site", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "-m",
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Manifest file [SITE/push-manifest.yaml].",
)
@click.option("--folder", is_flag=True, help="SITE is a folder another generator built (needs -m).")
@click.option(
    "--base-path", default="/", show_default=True, help="With --folder: URL prefix SITE is at."
)
@click.option(
    "--app", "app", metavar="MODULE:APP", help="Serve this Quart app (imported from SITE)."
)
@click.option("--routes", metavar="GLOB", help="Only the routes matching GLOB (/docs/*).")
@click.option("--max", "limit", type=click.IntRange(min=1), help="At most N routes (in order).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on standard output."
)
def verify(
    site: Path,
    manifest: Path | None,
    folder: bool,
    base_path: str,
    app: str | None,
    routes: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Load every route in headless Chromium; exit 1 when the manifest misses or wastes an asset.

    Serves SITE (or --folder DIR, or --app MODULE:APP) over HTTP/2 + TLS with its
    manifest's hints and loads each route cold, with and without them (docs/verify.md).
    """
    import json
    import time

    from ..verify import Source
    from ..verify import verify as run
    from ..verify.result import render_verdict

    if folder and app:
        raise click.UsageError("--folder and --app are two different sources: give one")
    if not site.is_dir():
        raise click.UsageError(f"folder {site} does not exist")
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
    except BuildError as exc:  # --app: the app did not import
        current_console().diagnostics(exc.diagnostics)
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    state = "ok" if result.ok else "FAILED"
    seconds = time.monotonic() - started
    click.echo(f"verified {result.manifest} in {result.browser}: {state}: {result.summary()}"
               f" in {seconds:.2f}s", err=True)  # fmt: skip
    if not result.ok:
        raise SystemExit(1)
