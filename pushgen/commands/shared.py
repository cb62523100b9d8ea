"""What several commands share: options (``-m``; build's and scan's ``--strict``, ``--force``
and ``-j``; ``--base-path`` of a folder) and the exit code after Ctrl-C.

Here rather than in pushgen/cli.py, which imports every command: a command that
imported cli back would close an import loop.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = [
    "INTERRUPTED",
    "folder_base_path_option",
    "force_option",
    "jobs_option",
    "manifest_option",
    "strict_option",
]

# The -m option of every command that reads or writes the manifest.
manifest_option = click.option(
    "-m",
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Manifest file [SITE/push-manifest.yaml].",
)

# build and scan: how a source's manifest is written.
strict_option = click.option(
    "--strict", is_flag=True, help="Treat warnings as errors (exit 1, nothing written)."
)
force_option = click.option(
    "--force", is_flag=True, help="Overwrite hand edits made inside the generated routes."
)
jobs_option = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes [chosen from the first pages' cost and the idle cores].",
)


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    """``--shard K/N`` as a :class:`~pushgen.build.shard.Shard` (imported when given)."""
    if value is None:
        return None
    from ..build.shard import Shard, ShardError

    try:
        return Shard.parse(value)
    except ShardError as exc:
        raise click.BadParameter(str(exc)) from None


# build and scan: one part of the pages (docs/sharding.md).
shard_option = click.option(
    "--shard",
    metavar="K/N",
    callback=_shard,
    help="Only part K of N of the pages (by a hash of each one's route or path), into a"
    " partial manifest (and a build's output) of its own; `pushgen merge` joins the parts"
    " (docs/sharding.md).",
)

# serve and verify: the URL prefix of a --folder SITE.
folder_base_path_option = click.option(
    "--base-path", default="/", show_default=True, help="With --folder: URL prefix SITE is at."
)

# The exit code of a command Ctrl-C stopped: 128 + SIGINT, what shells report.
INTERRUPTED = 130
