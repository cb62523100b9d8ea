"""``pushgen init``: start a site, or a pushgen.yaml beside a Quart app; never overwrites a file.

pushgen/init.py writes the files and says what it did; this module prints it.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["init"]


@click.command()
@click.argument("folder", type=click.Path(path_type=Path), default=".")
@click.option(
    "--app",
    metavar="MODULE:APP",
    help="Record this Quart app in FOLDER/pushgen.yaml [the app FOLDER/app.py defines, if any].",
)
def init(folder: Path, app: str | None) -> None:
    """Start a site in FOLDER (a layout, a page, a stylesheet with a web font, a module script).

    Beside a Quart app (--app, or an app.py defining one) it writes only a
    pushgen.yaml naming the app. Never overwrites a file.
    """
    from ..init import init_site

    click.echo(init_site(folder, app=app).report(folder), err=True)
