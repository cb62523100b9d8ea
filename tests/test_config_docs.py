"""docs/config.md documents every key pushgen.yaml accepts, and nothing else (issue 23).

The keys are declared once, in pushgen/config.py; a key added there without a
heading in the reference, or a heading left after its key went, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from pushgen import config

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "config.md"


def documented() -> set[str]:
    text = REFERENCE.read_text(encoding="utf-8")
    return set(re.findall(r"^###\s+`([a-z_.]+)`", text, re.MULTILINE))


def test_every_key_has_a_heading() -> None:
    keys = {key for key in config._KEYS if key != "push"}
    keys |= {f"push.{key}" for key in config._PUSH_KEYS}
    assert documented() == keys
