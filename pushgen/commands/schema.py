"""``pushgen schema``: print the JSON Schema of push manifests, or of ``--format json``'s document."""

from __future__ import annotations

import click

__all__ = ["schema"]


@click.command()
@click.option("--json-output", is_flag=True, help="The schema of --format json's document instead.")
def schema(json_output: bool) -> None:
    """Print the JSON Schema of push manifests (editors use it through the modeline)."""
    from ..manifest.schema import schema_text
    from ..outcome import outcome_schema_text

    click.echo(outcome_schema_text() if json_output else schema_text(), nl=False)
