"""The generators' built sites, each built and scanned once per session, on first use.

``built("hugo")`` builds tests/generators' Hugo site into the session's tmp folder
(tests/generators/builders.py), scans it with ``pushgen scan`` (checking that the
scan changed no file of it) and returns the :class:`~tests.generators.builders.Built`;
later calls return the same. A generator that is not installed here skips the test
that asked for it, naming what to install.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pushgen.cli import main
from tests.generators.builders import BUILDERS, Built, Missing
from tests.sources.test_folder import snapshot


class _Sites:
    """Build-and-scan on first use, once per session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.done: dict[str, Built | Missing] = {}

    def __call__(self, name: str) -> Built:
        if name not in self.done:
            self.done[name] = self._build(name)
        result = self.done[name]
        if isinstance(result, Missing):
            pytest.skip(str(result))
        return result

    def _build(self, name: str) -> Built | Missing:
        folder = self.root / name
        folder.mkdir()
        try:
            site = BUILDERS[name](folder)
        except Missing as missing:
            return missing
        before = snapshot(site.folder)
        assert main(site.scan_args()) == 0, name
        assert snapshot(site.folder) == before, name  # scanned as it is
        return site


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Built]:
    """``built(name)``: that generator's site, built and scanned (see the module's docstring)."""
    return _Sites(tmp_path_factory.mktemp("generators"))


@pytest.fixture(scope="session")
def generated(built: Callable[[str], Built]) -> dict[str, Built]:
    """The Read the Docs Sphinx site and the MkDocs Material site (the first two generators)."""
    return {name: built(name) for name in ("sphinx", "mkdocs")}
