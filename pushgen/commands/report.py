"""``pushgen report``: the whole site's push plan as one self-contained HTML page.

The command prints and picks the exit code; pushgen/report/ makes the page and
raises :class:`~pushgen.errors.PushgenError` subclasses that ``main`` prints.
"""

from __future__ import annotations

from pathlib import Path

import click

from .shared import manifest_option

__all__ = ["report"]


@click.command()
@manifest_option
@click.option(
    "--site",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=".",
    show_default=True,
    help="The site: its pages give the chains, its output the sizes; or a folder"
    " another generator built, with -m.",
)
@click.option(
    "--verify",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A `pushgen verify --json` result: what the browser fetched, per route.",
)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="HTML file.")
def report(manifest: Path | None, site: Path, verify: Path | None, output: Path) -> None:
    """Write the whole site's push plan as one self-contained HTML page (docs/report.md)."""
    from ..report import site_report, write_report

    made = site_report(site, manifest=manifest, verify=verify)
    write_report(output, made)
    click.echo(f"wrote {output}: {made.summary()}", err=True)
