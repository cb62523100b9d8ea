"""What ``pushgen`` imports before it knows the command (issue 27: start-up).

The group loads a command's module only when that command runs (pushgen/cli.py's
``COMMANDS``), so ``pushgen --version`` and a command's own import cost no more
than the command needs. Measured by bench/startup_bench.py; here the imports
themselves, in a fresh interpreter (a test's own process has imported everything).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.clients import REPO

HEAVY = (
    "pushgen.commands",
    "pushgen.build",
    "pushgen.runtime",
    "pushgen.manifest",
    "quart",
    "rich",
)


def _loaded_after(argv: list[str]) -> list[str]:
    script = (
        "import json, sys\n"
        "from pushgen.cli import main\n"
        f"code = main({argv!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_version_imports_no_command() -> None:
    loaded = _loaded_after(["--version"])
    assert "pushgen.cli" in loaded
    assert [name for name in loaded if name.startswith(HEAVY)] == []


@pytest.mark.parametrize("command", ["schema", "init"])
def test_a_command_imports_only_its_own_module(command: str) -> None:
    loaded = _loaded_after([command, "--help"])
    commands = {name for name in loaded if name.startswith("pushgen.commands.")}
    assert f"pushgen.commands.{command}" in commands
    # Not the server's or the builder's command modules (nor Quart) for a command that needs neither.
    assert not commands & {
        "pushgen.commands.serve",
        "pushgen.commands.build",
        "pushgen.commands.verify",
    }
    assert "quart" not in loaded


def test_every_listed_command_loads() -> None:
    import click

    from pushgen.cli import COMMANDS, cli

    context = click.Context(cli)
    assert cli.list_commands(context) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert isinstance(command, click.Command)
        assert command.name == name
    assert cli.get_command(context, "nope") is None
