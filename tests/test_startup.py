"""What ``pushgen`` imports before it knows the command (issue 27: start-up).

The group loads a command's module only when that command runs (pushgen/cli.py's
``COMMANDS``), so ``pushgen --version`` and a command's own import cost no more
than the command needs. Measured by bench/startup_bench.py; here the imports
themselves, in a fresh interpreter (a test's own process has imported everything).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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


# What only serving, or a manifest rule like /blog/<slug>, needs (50-180 ms of
# imports): a build of a site whose manifest has no such rule loads none of it.
SERVER_ONLY = ("werkzeug", "quart", "hypercorn")


def _loaded_after(argv: list[str], cwd: Path = REPO) -> list[str]:
    script = (
        "import json, sys\n"
        "from pushgen.cli import main\n"
        f"code = main({argv!r})\n"
        "assert code == 0, code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # this checkout's pushgen from any folder
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


def _server_only(loaded: list[str]) -> list[str]:
    return [name for name in loaded if name.split(".")[0] in SERVER_ONLY]


def test_build_help_imports_no_server_code() -> None:
    loaded = _loaded_after(["build", "--help"])
    assert "pushgen.commands.build" in loaded
    assert _server_only(loaded) == []


def _site_with_rules(tmp_path: Path, rules: str) -> Path:
    site = tmp_path / "site"
    shutil.copytree(REPO / "site_example", site, ignore=shutil.ignore_patterns("_site", ".*"))
    manifest = site / "push-manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert "\nrules: []\n" in text  # the example's manifest: no hand-written rule yet
    manifest.write_text(text.replace("\nrules: []\n", f"\nrules:\n{rules}"), encoding="utf-8")
    return site


def test_a_build_without_quart_style_rules_imports_no_werkzeug(tmp_path: Path) -> None:
    site = _site_with_rules(
        tmp_path, "  - match: /docs/*\n    add: [{path: /static/css/site.css, as: style}]\n"
    )
    loaded = _loaded_after(["build", "--full", "-j1"], cwd=site)
    assert "pushgen.build.pipeline" in loaded  # it did build
    assert (site / "_site" / "index.html").is_file()
    assert _server_only(loaded) == []


def test_a_quart_style_rule_still_loads_werkzeug_and_applies(tmp_path: Path) -> None:
    # The other side of the same laziness: a rule with a variable is compiled by
    # Werkzeug (manifest/werkzeug_rule.py) and still decides what its routes push.
    site = _site_with_rules(
        tmp_path, "  - match: /docs/<page>\n    add: [{path: /static/img/grid.svg, as: image}]\n"
    )
    loaded = _loaded_after(["build", "--full", "-j1"], cwd=site)
    assert "werkzeug.routing" in loaded
    assert "quart" not in loaded
    explained = subprocess.run(
        [sys.executable, "-m", "pushgen", "explain", "/docs/install"],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "/static/img/grid.svg" in explained.stdout


def test_the_bench_times_the_first_page_this_checkout_writes(tmp_path: Path) -> None:
    from tests.test_bench_smoke import load

    site = tmp_path / "site"
    shutil.copytree(REPO / "site_example", site, ignore=shutil.ignore_patterns("_site", ".*"))
    seconds = load("startup_bench")._first_page(site)
    assert seconds > 0  # a page written after the build started, not one left from before
    assert (site / "_site" / "index.html").is_file()


def test_a_module_of_the_build_package_does_not_import_the_pipeline() -> None:
    """``pushgen merge`` needs build/merge.py, not the pipeline, renderer and Jinja2 that
    ``pushgen.build``'s names come from (they load on first use); the names still work."""
    script = (
        "import json, sys\n"
        "import pushgen.build.merge\n"
        "before = sorted(sys.modules)\n"
        "from pushgen.build import build_site\n"
        "print(json.dumps([before, build_site.__module__]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    before, home = json.loads(done.stdout.splitlines()[-1])
    assert [m for m in before if m in ("pushgen.build.pipeline", "jinja2")] == []
    assert home == "pushgen.build.pipeline"
