"""``pushgen check``: validate a push manifest, print its problems, exit 1 on errors.

pushgen/manifest/check.py returns the diagnostics; this module prints them.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..config import load_config
from ..console import current_console, output_options
from ..outcome import Summary

__all__ = ["check"]


@click.command()
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
@click.option(
    "--compile",
    "compile_",
    is_flag=True,
    help="When valid, also write the compiled form the runtime loads (.MANIFEST.pgc).",
)
@output_options("check")
def check(
    manifest: Path | None, output: Path | None, base_path: str | None, compile_: bool
) -> None:
    """Validate a push manifest: syntax, keys, values, paths, files, rules. Exit 1 on errors."""
    from ..build.provenance import require_manifest
    from ..manifest.check import check_manifest

    config = load_config(".") if manifest is None or base_path is None else None
    path = manifest if manifest is not None else config.manifest  # type: ignore[union-attr]
    require_manifest(path, config)
    base = base_path if base_path is not None else (config.base_path if config else "/")
    diagnostics = check_manifest(path, output=output, base_path=base)
    current_console().diagnostics(diagnostics)
    summary = Summary.of_diagnostics(diagnostics)
    console = current_console()
    (console.failure if summary.errors else console.info)(f"{path}: {summary}")
    if compile_ and not summary.errors:
        _compile(path)
    console.report("check", "errors" if summary.errors else "ok", summary, manifest=path)
    if summary.errors:
        raise SystemExit(1)


def _compile(path: Path) -> None:
    """Write the compiled form of the manifest at ``path`` (after a hand edit, without a build)."""
    from ..manifest.compiled import compiled_path, write_compiled

    target = compiled_path(path)
    written = write_compiled(path, path.read_bytes().decode("utf-8"))
    if written.current:
        current_console().info(f"{target}: compiled, the runtime loads it")
    else:
        current_console().failure(
            f"{target}: not written (a file pushgen did not write is there, or the folder"
            " cannot be written); the runtime reads the YAML"
        )
        raise SystemExit(1)
