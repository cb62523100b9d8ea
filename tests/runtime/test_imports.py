"""The runtime stands apart from the build: importing it loads no build, scan or export code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.clients import REPO
from tests.import_graph import modules, reachable

# Module name prefixes the runtime must never load: the build and its sources,
# the scanners (and the parsers they need), the exporters, the CLI's other verbs,
# pushgen verify and the browser it drives.
FORBIDDEN = (
    "pushgen.build",
    "pushgen.scan",
    "pushgen.export",
    "pushgen.manifest.check",
    "pushgen.cli",
    "pushgen.commands",  # the commands stand on the runtime (serve), never under it
    "pushgen.report",
    "pushgen.verify",  # the browser check stands on the runtime, never under it
    "playwright",
    "lxml",
    "tinycss2",
    "watchfiles",
)


def loaded_by(module: str) -> list[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    return list(json.loads(done.stdout))


RUNTIME_ENTRY_POINTS = [
    "pushgen.asgi",
    "pushgen.quart",
    "pushgen.app",
    "pushgen.runtime.factory",
    "pushgen.runtime.server",
]


@pytest.mark.parametrize("module", RUNTIME_ENTRY_POINTS)
def test_the_runtime_loads_no_build_scan_or_export_module(module: str) -> None:
    loaded = loaded_by(module)
    bad = [m for m in loaded if m.startswith(FORBIDDEN)]
    assert bad == [], f"importing {module} loaded {bad}"


def test_the_app_factory_does_not_import_the_serve_command() -> None:
    # pushgen serve (the command, pushgen/commands/) uses the runtime; the runtime never
    # uses it back.
    for module in ("pushgen.app", "pushgen.runtime.server"):
        assert not [m for m in loaded_by(module) if m.startswith("pushgen.commands")]


@pytest.mark.parametrize("module", RUNTIME_ENTRY_POINTS)
def test_no_runtime_function_imports_the_build_later(module: str) -> None:
    # The test above sees what importing loads; a function that imports the build
    # when it runs (a lazy import) would pass it and still drag lxml into a server.
    # The import graph, read from the source, counts those too.
    reached = reachable(module) | {module}
    ours = sorted(m for m in reached if m.startswith(FORBIDDEN))
    assert ours == [], f"{module} may import {ours}"
    theirs = sorted(
        f"{m} imports {name}"
        for m in reached
        for name in modules()[m].other_imports
        if name.startswith(FORBIDDEN)
    )
    assert theirs == []
