"""``pushgen scan``: the manifest of a folder another generator built (Sphinx, MkDocs, Hugo, ...).

The command prints and picks the exit code through :func:`~pushgen.commands.build.run_source`,
as ``pushgen build --app`` does; pushgen/sources/folder.py reads the folder and
pushgen/build/from_source.py resolves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..console import output_options
from ..model import HtmlLimits
from .build import run_source
from .shared import force_option, jobs_option, shard_option, strict_option

if TYPE_CHECKING:
    from ..build.shard import Shard

__all__ = ["scan"]


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-m",
    "--manifest",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Manifest file to write (outside FOLDER unless you want it served).",
)
@click.option("--base-path", default="/", show_default=True, help="URL prefix FOLDER is served at.")
@click.option(
    "--exclude",
    "exclude",
    multiple=True,
    metavar="GLOB",
    help="Files that are not pages (path in FOLDER; * within a folder, ** across; repeatable).",
)
@strict_option
@click.option(
    "--check",
    is_flag=True,
    help="Scan in memory; exit 1 with a diff if the manifest on disk is stale.",
)
@force_option
@jobs_option
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
@shard_option
@output_options("scan")
def scan(
    folder: Path,
    manifest: Path,
    base_path: str,
    exclude: tuple[str, ...],
    strict: bool,
    check: bool,
    force: bool,
    jobs: int | None,
    max_page_bytes: int,
    max_attributes: int,
    shard: Shard | None,
) -> None:
    """Write the manifest of FOLDER, a site another generator built (Sphinx, MkDocs, Hugo, ...).

    Every .html file is a page at the URL FOLDER serves it at, every other file an
    asset at its own URL; a template (no doctype, <html>, <head> or <body>, and
    {% %} or {{ }} markup) and the files --exclude names are not pages. Nothing in
    FOLDER is changed.
    """
    from ..build.from_source import scan_folder
    from ..sources.folder import folder_config

    if not folder.is_dir():
        raise click.UsageError(f"folder {folder} does not exist")
    if shard is not None and check:
        raise click.UsageError(
            "--shard scans a part of the pages into a partial manifest: no --check"
        )
    limits = HtmlLimits(max_page_bytes=max_page_bytes, max_attributes=max_attributes)
    config = folder_config(folder, manifest, base_path=base_path, html_limits=limits)
    run_source(
        lambda progress: scan_folder(
            config,
            strict=strict,
            write=not check,
            force=force,
            jobs=jobs,
            progress=progress,
            exclude=exclude,
            shard=shard,
        ),
        config.manifest,
        check=check,
        failed="scan failed" if shard is None else f"scan of shard {shard.part}/{shard.of} failed",
        done=f"scanned {folder} into {{manifest}}",
        command="pushgen scan",
    )
