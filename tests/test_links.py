"""One base-path rule for every room: the site's settings, a built folder's and the runtime's.

``pushgen.links.normalise_base_path`` is the rule; ``pushgen.yaml``'s
``base_path``, ``pushgen scan --base-path`` and the runtime's ``base_path``
option all go through it, so a build writes the prefix a server serves under.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.config import load_config
from pushgen.links import normalise_base_path
from pushgen.sources.folder import folder_config

CASES = [
    ("/", "/"),
    ("", "/"),
    ("blog", "/blog/"),
    ("/blog", "/blog/"),
    ("blog/", "/blog/"),
    ("/docs/v2/", "/docs/v2/"),
    ("//blog//", "/blog/"),
]


@pytest.mark.parametrize(("written", "expected"), CASES)
def test_normalise_base_path(written: str, expected: str) -> None:
    assert normalise_base_path(written) == expected


@pytest.mark.parametrize(("written", "expected"), [c for c in CASES if c[0]])
def test_the_settings_and_a_folder_use_the_same_rule(
    tmp_path: Path, written: str, expected: str
) -> None:
    # (pushgen.yaml refuses an empty base_path before the rule: see test_config.)
    (tmp_path / "pushgen.yaml").write_text(f'base_path: "{written}"\n', encoding="utf-8")
    assert load_config(tmp_path).base_path == expected
    folder = folder_config(tmp_path, tmp_path / "push-manifest.yaml", base_path=written)
    assert folder.base_path == expected
