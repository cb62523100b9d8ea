"""``pushgen merge PART... -o MANIFEST``: the partial manifests of a sharded build joined.

The command prints and picks the exit code; pushgen/build/merge.py checks and
joins the parts (docs/sharding.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from ..console import current_console
from ..errors import ManifestError, counted
from .shared import force_option

__all__ = ["merge"]


@click.command()
@click.argument("parts", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "manifest",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The site's manifest: its routes are replaced, its rules and comments kept.",
)
@force_option
def merge(parts: tuple[Path, ...], manifest: Path, force: bool) -> None:
    """Join the partial manifests PARTS of `build --shard K/N` (or `scan --shard K/N`) into one.

    Every part of one sharded build, each once, is needed; the result is the
    manifest a one-machine build of the site writes, byte for byte.
    """
    from ..build.merge import merge_parts
    from ..manifest.compiled import write_compiled

    console = current_console()
    try:
        merged = merge_parts(parts, manifest, force=force)
    except ManifestError as exc:
        console.diagnostics(exc.diagnostics)
        console.failure(f"merge failed: {counted(len(exc.diagnostics), 'error')}; nothing written")
        raise SystemExit(1) from None
    # The compiled form first, as a build writes it: a server reloading on the YAML finds it ready.
    compiled = write_compiled(manifest, merged.finished.text)
    merged.finished.write()
    if compiled.problem is not None:
        console.diagnostics([compiled.problem])
    routes = counted(merged.routes, "route")
    console.info(f"merged {counted(merged.parts, 'part')} into {manifest}: {routes}")
