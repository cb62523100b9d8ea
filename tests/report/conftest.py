"""The example site, built once, with hand rules (one of them matching ``/blog/<script>``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.config import load_config
from tests.clients import REPO

RULES = """rules:
  - match: "/docs/*"
    policy: {max_pushes: 4}
  - match: /about.html
    remove: [/static/js/analytics.js]
  - match: /blog/<script>
    add: [{path: /static/css/site.css, as: style}]
"""


def build_example(root: Path, *, rules: str = RULES) -> Path:
    """site_example copied to ``root`` and built, with ``rules`` in its manifest."""
    shutil.copytree(REPO / "site_example", root, ignore=shutil.ignore_patterns("_site", ".*"))
    config = load_config(root)
    build_site(config)
    text = config.manifest.read_text(encoding="utf-8")
    assert "rules: []\n" in text
    config.manifest.write_text(text.replace("rules: []\n", rules), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built example site with :data:`RULES`; tests must not change it."""
    return build_example(tmp_path_factory.mktemp("report") / "site_example")
