"""``pushgen serve`` that cannot start says why once: a partial manifest (one shard's,
docs/sharding.md) is one located error, the file as the build shows it, never
``error: FILE:LINE:COL: error: ...`` nor an absolute path where a relative one reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pushgen.cli import main
from tests.clients import REPO

pytestmark = pytest.mark.timeout(180)

REFUSAL = (
    "part.yaml:3:1: error: this is a partial manifest, one part of a sharded build"
    " (`--shard K/N`), not to be served or checked on its own: join every part with"
    " `pushgen merge PART... -o MANIFEST` and use that (docs/sharding.md)\n"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """site_example built whole, and beside it the partial manifest of its shard 1/2."""
    root = tmp_path_factory.mktemp("serve-messages")
    site = root / "site"
    shutil.copytree(
        REPO / "site_example", site, ignore=shutil.ignore_patterns("_site*", "push-manifest*", ".*")
    )
    assert main(["build", str(site), "--shard", "1/2", "-q"]) == 0
    shutil.move(site / "push-manifest.shard-1-of-2.yaml", root / "part.yaml")
    assert main(["build", str(site), "-q"]) == 0
    return root


@pytest.mark.parametrize("how", ["folder", "site"])
def test_a_partial_manifest_is_one_located_error(
    built: Path, how: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(built)
    capsys.readouterr()
    if how == "folder":
        argv = ["serve", "--folder", "site/_site", "-m", "part.yaml", "--port", "0"]
    else:  # the site is built and fresh: serve goes straight to the manifest
        argv = ["serve", "site", "-m", str(built / "part.yaml"), "--port", "0"]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1
    assert err == REFUSAL and "serving at" not in out


def test_a_partial_manifest_is_refused_before_building(
    built: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site whose output is stale is not built (rendering every page) only to fail on the part."""
    fresh = built / "unbuilt"
    shutil.copytree(
        REPO / "site_example",
        fresh,
        ignore=shutil.ignore_patterns("_site*", "push-manifest*", ".*"),
    )
    monkeypatch.chdir(built)
    capsys.readouterr()
    code = main(["serve", "unbuilt", "-m", "part.yaml", "--port", "0"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err == REFUSAL and "building" not in out
    assert not (fresh / "_site").exists()


def test_a_sigterm_sent_on_the_serving_line_stops_the_server_cleanly(built: Path) -> None:
    """``serving at`` is printed once SIGTERM is handled: a supervisor that stops the
    server the moment it reads that line gets exit code 0 and ``stopped``, never a
    process killed by Python's default handler (-15). Bounded: 5 tries."""
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "pushgen", "serve", "site", "--no-build", "--port", "0"]
    for _ in range(5):
        process = subprocess.Popen(
            argv, cwd=built, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        lines = []
        for raw in process.stdout:
            lines.append(raw.decode("utf-8", "replace"))
            if "serving at" in lines[-1]:
                process.send_signal(signal.SIGTERM)
                break
        rest, _ = process.communicate(timeout=60)
        said = "".join(lines) + rest.decode("utf-8", "replace")
        assert process.returncode == 0, said
        assert "pushgen: stopped" in said
