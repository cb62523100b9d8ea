"""The pre-commit hooks (.pre-commit-hooks.yaml) and docs/ci.md's local hook, run by pre-commit.

pre-commit runs here on a sample git repository holding a site. A hook of
``language: python`` would make pre-commit build a virtualenv and install
pushgen's repository into it, which needs the network; so each shipped hook runs
as a local hook of ``language: system`` with every other key as shipped, and
pushgen is this checkout's (PYTHONPATH) through the test's virtualenv.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pushgen.cli import main
from tests.clients import REPO
from tests.sites import SMALL_SITE, write_site

pytest.importorskip("pre_commit", reason="needs pre-commit")

HOOKS: list[dict[str, Any]] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
BY_ID = {hook["id"]: hook for hook in HOOKS}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding a built site (its output ignored) and its manifest."""
    root = write_site(tmp_path / "repo", SMALL_SITE)
    (root / ".gitignore").write_text("_site/\n")
    assert main(["build", str(root), "-q"]) == 0
    git(root, "init", "-q")
    git(root, "add", "-A")
    return root


def local_hook(hook_id: str, **extra: Any) -> dict[str, Any]:
    """A shipped hook as a local one run from this environment (see the module docs)."""
    hook = dict(BY_ID[hook_id], language="system", **extra)
    return {"repos": [{"repo": "local", "hooks": [hook]}]}


def pre_commit(repo: Path, config: dict[str, Any] | str) -> subprocess.CompletedProcess[str]:
    text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
    (repo / ".pre-commit-config.yaml").write_text(text)
    git(repo, "add", "-A")
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "PYTHONPATH": str(REPO),
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
        "HOME": str(repo.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def stale(repo: Path) -> None:
    """Change a stylesheet so that the committed manifest is stale."""
    (repo / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    (repo / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")


def test_the_hooks_are_build_scan_and_check_each_a_valid_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert list(BY_ID) == ["pushgen-build-check", "pushgen-scan-check", "pushgen-check"]
    for hook in HOOKS:
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        program, *args = hook["entry"].split()
        assert program == "pushgen"
        assert main([*args, "--help"]) == 0, hook["id"]
        re.compile(hook.get("files", ""))
    capsys.readouterr()


def test_the_build_hook_passes_then_fails_with_the_diff_when_stale(repo: Path) -> None:
    done = pre_commit(repo, local_hook("pushgen-build-check"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"pushgen build --check\)\.+Passed", done.stdout), done.stdout
    stale(repo)
    done = pre_commit(repo, local_hook("pushgen-build-check"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert "+    - {path: /static/css/extra.css, as: style}" in done.stdout
    assert "stale: " in done.stdout and "run `pushgen build`" in done.stdout


def test_the_build_hook_runs_for_a_sites_sources_and_manifest_only() -> None:
    hook = re.compile(BY_ID["pushgen-build-check"]["files"])
    assert all(hook.search(p) for p in ("pages/index.html", "static/css/site.css", "pushgen.yaml"))
    assert hook.search("docs/site/templates/base.html") and hook.search("push-manifest.yaml")
    assert not any(hook.search(p) for p in ("README.md", ".gitignore", "src/pages.py"))


def test_the_scan_hook_checks_the_folder_its_args_name(repo: Path) -> None:
    assert main(["scan", str(repo / "_site"), "-m", str(repo / "scanned.yaml"), "-q"]) == 0
    config = local_hook("pushgen-scan-check", args=["_site", "-m", "scanned.yaml"])
    done = pre_commit(repo, config)
    assert done.returncode == 0, done.stdout + done.stderr
    (repo / "_site" / "new.html").write_text('<link rel="stylesheet" href="/static/css/print.css">')
    done = pre_commit(repo, config)
    assert done.returncode == 1 and "scanned.yaml differs from a fresh build" in done.stdout


def test_the_check_hook_fails_on_an_invalid_manifest(repo: Path) -> None:
    assert pre_commit(repo, local_hook("pushgen-check")).returncode == 0
    manifest = repo / "push-manifest.yaml"
    lines = manifest.read_text().splitlines(keepends=True)
    entry = next(
        i for i, line in enumerate(lines) if line.startswith("    - {") and "style" in line
    )
    lines[entry] = lines[entry].replace("as: style", "as: styel")
    manifest.write_text("".join(lines))
    done = pre_commit(repo, local_hook("pushgen-check"))
    assert done.returncode == 1
    assert "'styel' is not a Fetch destination; did you mean 'style'?" in done.stdout


def test_the_local_hook_of_docs_ci_md_runs(repo: Path) -> None:
    docs = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- pre-commit-local -->\n```yaml\n(.*?)```", docs, re.DOTALL)
    assert block is not None
    local = yaml.safe_load(block.group(1))["repos"][0]["hooks"][0]
    shipped = {k: v for k, v in BY_ID[local["id"]].items() if k not in ("description", "language")}
    assert {k: v for k, v in local.items() if k != "language"} == shipped  # the same hook
    assert pre_commit(repo, block.group(1)).returncode == 0
    stale(repo)
    assert pre_commit(repo, block.group(1)).returncode == 1
