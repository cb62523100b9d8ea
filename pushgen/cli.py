"""The ``pushgen`` command: the group, its commands and :func:`main`'s exit codes.

Each command lives in its own module of pushgen/commands/ (build, scan, serve,
check, explain, schema, export and import, init, report, trust, verify): it parses
its options, calls the library, prints and picks its exit code. What they share
(``-m``) is in pushgen/commands/shared.py.

Exit codes: 0 success, 1 errors (or a stale manifest under ``--check``), 2 usage,
130 interrupted (Ctrl-C), as shells report a process SIGINT stopped.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from .errors import ManifestError, PushgenError

__all__ = ["COMMANDS", "cli", "main"]

#: Exit code of a run stopped by Ctrl-C (commands/shared.py's INTERRUPTED, kept
#: here so that the group imports no command module before it needs one).
_INTERRUPTED = 130

#: Every command of the group: its name -> "module:attribute" under pushgen/commands/.
#: A command's module (and what it imports: the build, the runtime, Quart...) is
#: loaded only when that command runs or its help is shown, so that `pushgen
#: --version` and `pushgen build` do not pay for the server's imports (issue 27).
COMMANDS: dict[str, str] = {
    "build": "build:build",
    "scan": "scan:scan",
    "serve": "serve:serve",
    "check": "check:check",
    "explain": "explain:explain",
    "schema": "schema:schema",
    "export": "export:export_command",
    "import": "export:import_command",
    "merge": "merge:merge",
    "init": "init:init",
    "report": "report:report",
    "trust": "trust:trust",
    "verify": "verify:verify",
}


class _LazyGroup(click.Group):
    """A click group that imports a command's module on first use (``COMMANDS``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(
            importlib.import_module(f".commands.{module_name}", __package__), attribute
        )
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pushgen")
def cli() -> None:
    """Push a page's critical assets before the browser asks: build a push manifest, serve it."""


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
        return _INTERRUPTED
    except click.UsageError as exc:
        exc.show()
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ManifestError as exc:
        from .console import current_console  # rich, imported when there is something to show

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
