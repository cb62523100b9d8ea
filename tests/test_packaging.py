"""The package as a user meets it on an index: licence, classifiers, the Python versions CI runs."""

from __future__ import annotations

import re
import tomllib

from tests.clients import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_license_file_goes_with_the_license_expression() -> None:
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 pushgen contributors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_classifiers_name_the_pythons_ci_runs_and_no_licence() -> None:
    classifiers = PROJECT["classifiers"]
    assert classifiers == sorted(classifiers)
    versions = {c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c)}
    assert versions == {"3.11", "3.12", "3.13"}
    assert PROJECT["requires-python"] == ">=3.11"
    assert "Framework :: AsyncIO" in classifiers
    assert "Topic :: Internet :: WWW/HTTP :: HTTP Servers" in classifiers
    # PEP 639: the licence is the `license` expression alone.
    assert not any(c.startswith("License ::") for c in classifiers)
    scripts = (REPO / "scripts" / "test").read_text(encoding="utf-8")
    assert ".venv-3.13/bin/python -m pytest" in scripts
