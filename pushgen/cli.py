"""The ``pushgen`` command: the group, its commands and :func:`main`'s exit codes.

Each command lives in its own module of pushgen/commands/ (build, scan, serve,
check, explain, schema, export and import, init, report, trust, verify): it parses
its options, calls the library, prints and picks its exit code. What they share
(``-m``) is in pushgen/commands/shared.py.

Exit codes: 0 success, 1 errors (or a stale manifest under ``--check``), 2 usage,
130 interrupted (Ctrl-C), as shells report a process SIGINT stopped.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from .commands.build import build
from .commands.check import check
from .commands.explain import explain
from .commands.export import export_command, import_command
from .commands.init import init
from .commands.report import report
from .commands.scan import scan
from .commands.schema import schema
from .commands.serve import serve
from .commands.shared import INTERRUPTED
from .commands.trust import trust
from .commands.verify import verify
from .console import current_console
from .errors import ManifestError, PushgenError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pushgen")
def cli() -> None:
    """Push a page's critical assets before the browser asks: build a push manifest, serve it."""


cli.add_command(build)
cli.add_command(scan)
cli.add_command(serve)
cli.add_command(check)
cli.add_command(explain)
cli.add_command(schema)
cli.add_command(export_command)
cli.add_command(import_command)
cli.add_command(init)
cli.add_command(report)
cli.add_command(trust)
cli.add_command(verify)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="pushgen",
            standalone_mode=False,
        )
    except click.exceptions.Abort:  # click's translation of KeyboardInterrupt (and EOF)
        click.echo("interrupted", err=True)
        return INTERRUPTED
    except click.UsageError as exc:
        exc.show()
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ManifestError as exc:
        current_console().diagnostics(exc.diagnostics)
        return 1
    except PushgenError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
