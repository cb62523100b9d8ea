"""Every command's ``--help``, byte for byte, against the text recorded in tests/cli_help/.

The commands moved out of pushgen/cli.py into pushgen/commands/ (issue 24) with no
change a user can see; these files were recorded before the move, and any later
change to an option or a docstring shows here as a diff to review
(``PUSHGEN_UPDATE_GOLDEN=1`` rewrites them). Click wraps help to the terminal's
width, so the test fixes it at 80 columns.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from pushgen.cli import cli, main
from tests.golden import check_golden_text

HELP = Path(__file__).parent / "cli_help"


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The argv of every command and subcommand under ``group``, the group's own first."""
    found = [path]
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


COMMANDS = _commands(cli)


def _golden(argv: tuple[str, ...]) -> Path:
    return HELP / f"{'-'.join(('pushgen', *argv))}.txt"


def test_every_command_has_its_recorded_help() -> None:
    # A new command needs its file (PUSHGEN_UPDATE_GOLDEN=1 writes it); a file whose
    # command went away is left over.
    assert {"build", "scan", "serve", "export", "import"} <= {argv[0] for argv in COMMANDS if argv}
    assert sorted(path.name for path in HELP.glob("*.txt")) == sorted(
        _golden(argv).name for argv in COMMANDS
    )


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(("pushgen", *argv)))
def test_help_text_is_unchanged(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*argv, "--help"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    check_golden_text(_golden(argv), out)
