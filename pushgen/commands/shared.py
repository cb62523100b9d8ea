"""What several commands share: the ``-m`` option and the exit code after Ctrl-C.

Here rather than in pushgen/cli.py, which imports every command: a command that
imported cli back would close an import loop.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["INTERRUPTED", "manifest_option"]

# The -m option of every command that reads or writes the manifest.
manifest_option = click.option(
    "-m",
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Manifest file [SITE/push-manifest.yaml].",
)

# The exit code of a command Ctrl-C stopped: 128 + SIGINT, what shells report.
INTERRUPTED = 130
