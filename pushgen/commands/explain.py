"""``pushgen explain ROUTE``: why each entry of a route is there, and what is done with it.

pushgen/build/explain.py recovers the chains and renders the text; this module
prints it and picks the exit code.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..config import load_config
from .shared import manifest_option

__all__ = ["explain"]


@click.command()
@click.argument("route")
@manifest_option
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
    from ..build.explain import explain_route
    from ..build.provenance import explain_source, require_manifest, written_by
    from ..manifest.compiled import read_manifest

    if not route.startswith("/"):
        raise click.UsageError(f"ROUTE is a URL path like / or /docs/, not {route!r}")
    if not site.is_dir():
        raise click.UsageError(f"site folder {site} does not exist")
    config = load_config(site, manifest=manifest)
    path = require_manifest(manifest if manifest is not None else config.manifest, config, site)
    writer = written_by(path)
    source = explain_source(site, config, path, writer, base_path=base_path)
    explanation = explain_route(
        read_manifest(path), route, source.site, folder=source.folder, app=source.app, writer=writer
    )
    click.echo(explanation.render(), nl=False)
    if not explanation.decisions and explanation.page is None:
        raise SystemExit(1)
