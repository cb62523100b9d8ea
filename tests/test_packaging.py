"""The package as a user meets it on an index (licence, classifiers, the Python versions CI
runs, its package data), and the set-up scripts: the main job installs only what it needs
and leaves a checkout clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.clients import REPO, run_pushgen

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


def test_the_starter_site_is_package_data() -> None:
    """``pushgen init`` reads pushgen/starter/ from the installed package: every file
    there must match a package-data glob (a wheel leaves out the rest)."""
    package = REPO / "pushgen"
    globs = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["pushgen"]
    files = {p for p in (package / "starter").rglob("*") if p.is_file()}
    matched = {p for pattern in globs for p in package.glob(pattern) if p.is_file()}
    assert files and files <= matched


# Commands the Debian packages the tests alone use provide (scripts/setup --test).
_TEST_PACKAGES = ("nghttp2-client", "nginx-light", "h2o", "chromium", "libnss3-tools")


def _setup_dry_run(tmp_path: Path, *args: str) -> str:
    """What ``scripts/setup ARGS --dry-run`` would install on a machine with none of the
    test tools: a copy of the script, run with a PATH holding only what it runs."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    (root / "tests" / "node").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup", root / "scripts" / "setup")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(REPO / "tests" / "node" / "package-lock.json", root / "tests" / "node")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "id", "env", "grep", "sort", "tail", "touch", "timeout"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    (bin_dir / "python3").symlink_to(sys.executable)
    done = subprocess.run(
        [str(bin_dir / "bash"), "scripts/setup", *args, "--dry-run"],
        cwd=root, env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_main_job_installs_pushgen_and_nothing_the_tests_alone_use(tmp_path: Path) -> None:
    said = _setup_dry_run(tmp_path)
    assert "would run: .venv/bin/python -m pip install -q -e .\n" in said
    # ".venv-3.13", not "3.13": the interpreter making .venv may itself be a 3.13
    # (the suite's second run), and says so.
    for test_only in (*_TEST_PACKAGES, "[test]", "npm", "pyenv", ".venv-3.13"):
        assert test_only not in said, (test_only, said)
    said = _setup_dry_run(tmp_path / "again", "--test")
    (line,) = [x for x in said.splitlines() if "installing Debian packages:" in x]
    # nginx is looked for at /usr/sbin/nginx, which PATH does not hide.
    wanted = [p for p in _TEST_PACKAGES if p != "nginx-light" or "nginx-light" in line]
    assert line.split("packages: ", 1)[1].split() == wanted
    assert "would run: .venv/bin/python -m pip install -q -e .[test]\n" in said
    assert "npm not found" in said and "no Python 3.13 found" in said
    example = (REPO / "scripts" / "example").read_text(encoding="utf-8")
    assert "\nscripts/setup\n" in example and "--test" not in example
    assert "\nscripts/setup --test\n" in (REPO / "scripts" / "test").read_text(encoding="utf-8")


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs a git checkout")
def test_the_main_jobs_builds_leave_a_clone_clean(tmp_path: Path) -> None:
    """scripts/example's build of site_example, and the README's build of the Quart
    example, in a fresh clone: every file they write is committed as written or ignored."""
    clone = tmp_path / "clone"
    git = ["git", "-c", "safe.directory=*"]
    subprocess.run([*git, "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    done = run_pushgen(clone, "build", "site_example")
    assert done.returncode == 0, done.stderr
    done = run_pushgen(clone / "examples" / "quart_app", "build")
    assert done.returncode == 0, done.stderr
    status = subprocess.run(
        [*git, "status", "--porcelain", "--ignored=no"],
        cwd=clone, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert status.stdout == ""
