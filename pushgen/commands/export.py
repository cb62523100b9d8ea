"""``pushgen export`` and ``pushgen import``: the manifest to and from other servers' formats.

pushgen/export/ makes the text and the diagnostics (cuts are warnings); these
commands print them, write the file and pick the exit code.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..config import load_config
from ..console import current_console
from ..errors import counted
from .shared import manifest_option

__all__ = ["export_command", "import_command"]


@click.command("export")
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
@manifest_option
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
    from ..build.provenance import require_manifest
    from ..export import FORMATS, export_manifest
    from ..fsutil import atomic_write
    from ..manifest import load_manifest
    from ..site_files import file_size

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
        policy=config.policy,
    )
    current_console().diagnostics(result.diagnostics)
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


@click.command("import")
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
    from ..export.push_manifest import import_push_manifest
    from ..fsutil import atomic_write

    if not route.startswith("/"):
        raise click.UsageError(f"--route is a URL path like / or /app/, not {route!r}")
    if output is not None and output.exists() and not force:
        raise click.UsageError(f"{output} exists; give --force to overwrite it")
    result = import_push_manifest(
        source.read_bytes(), filename=str(source), route=route, base_path=base_path
    )
    current_console().diagnostics(result.diagnostics)
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
