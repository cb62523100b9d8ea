"""The runtime stands apart from the build: importing it loads no build, scan or export code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.clients import REPO

# Module name prefixes the runtime must never load: the build and its sources,
# the scanners (and the parsers they need), the exporters, the CLI's other verbs.
FORBIDDEN = (
    "pushgen.build",
    "pushgen.scan",
    "pushgen.export",
    "pushgen.manifest.check",
    "pushgen.cli",
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


@pytest.mark.parametrize(
    "module", ["pushgen.quart", "pushgen.app", "pushgen.runtime.app", "pushgen.runtime.server"]
)
def test_the_runtime_loads_no_build_scan_or_export_module(module: str) -> None:
    loaded = loaded_by(module)
    bad = [m for m in loaded if m.startswith(FORBIDDEN)]
    assert bad == [], f"importing {module} loaded {bad}"


def test_the_app_factory_does_not_import_the_serve_command() -> None:
    # pushgen.serve (the command) uses the runtime; the runtime never uses it back.
    assert "pushgen.serve" not in loaded_by("pushgen.app")
    assert "pushgen.serve" not in loaded_by("pushgen.runtime.server")
