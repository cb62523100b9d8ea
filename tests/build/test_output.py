"""OutputFolder on its own (pushgen/build/output.py): real folders, no build around it.

The build's tests (test_output_safety.py, test_interrupted.py) show the same rules
through ``pushgen build``; these drive the one owner of the output folder directly:
its checks, the staging folder, the swap with the manifest, the spare a next
staging folder is made from, the lock, and what it leaves alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pushgen.build.incremental import BuildState
from pushgen.build.output import BuildLockHeld, OutputFolder, Published, Staging
from pushgen.config import SiteConfig, load_config
from pushgen.fsutil import OUTPUT_MARKER, OutputFolderError
from tests.clients import REPO
from tests.sites import SMALL_SITE, write_site


@pytest.fixture
def config(tmp_path: Path) -> SiteConfig:
    return load_config(write_site(tmp_path / "site", SMALL_SITE))


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def publish(
    out: OutputFolder, files: dict[str, str], *, spare: str = "", previous: BuildState | None = None
) -> tuple[Staging, Published]:
    """One round: a staging folder holding ``files``, swapped in with a manifest naming them."""
    expected = set(files)
    staging = out.open_staging(previous, expected, expected)
    for rel in files:
        (staging.path / rel).unlink(missing_ok=True)  # a hard link to the spare's file
    for rel, text in files.items():
        (staging.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging.path / rel).write_text(text)
    folders = {""} | {rel.rpartition("/")[0] for rel in files}
    published = out.publish(
        staging.path,
        "routes: " + ",".join(sorted(files)) + "\n",
        spare=spare,
        previous=previous,
        changed=expected,
        folders=folders,
    )
    return staging, published


def test_a_first_publish_swaps_the_staging_folder_in_with_its_manifest(config: SiteConfig) -> None:
    out = OutputFolder(config)
    out.check((config.pages, config.templates, config.static))
    with out.lock():
        out.adopt(None, lambda: set())  # no output yet: nothing to look at
        staging, published = publish(out, {"index.html": "one", "static/a.css": "a"})
    assert staging.missing is None and staging.diagnostics == ()
    built = tree(config.output)
    assert built.pop(OUTPUT_MARKER).startswith(b"written by pushgen")
    assert built == {"index.html": b"one", "static/a.css": b"a"}
    assert not staging.path.exists()
    assert config.manifest.read_text() == "routes: index.html,static/a.css\n"
    assert published.spare == "" and published.spare_folders == {}
    assert set(published.output_folders) == {"", "static"}


def test_the_replaced_output_is_kept_as_the_spare_and_the_next_staging_folder_reuses_it(
    config: SiteConfig,
) -> None:
    out = OutputFolder(config)
    files = {"index.html": "one", "static/a.css": "a"}
    _, first = publish(out, files)
    previous = BuildState(key="k", output_folders=first.output_folders)
    _, second = publish(out, {**files, "index.html": "two"}, spare="ab12", previous=previous)
    spare = config.output.with_name(f".{config.output.name}.spare-ab12")
    assert second.spare == "ab12"
    # The spare was brought up to the new output, sharing its files.
    assert tree(spare) == tree(config.output)
    assert os.stat(spare / "index.html").st_ino == os.stat(config.output / "index.html").st_ino
    previous = BuildState(
        key="k",
        spare=second.spare,
        output_folders=second.output_folders,
        spare_folders=second.spare_folders,
    )
    staging = out.open_staging(previous, set(files), set(files))
    # Claimed, not copied: the spare became the staging folder, nothing to make again.
    assert staging.missing == set()
    assert not spare.exists()
    assert tree(staging.path)["index.html"] == b"two"
    out.discard(staging.path)
    assert not staging.path.exists()


def test_a_file_the_user_put_into_the_output_is_refused_and_left(config: SiteConfig) -> None:
    out = OutputFolder(config)
    publish(out, {"index.html": "one"})
    (config.output / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match=r"notes\.txt: not written by pushgen"):
        out.adopt(None, lambda: {"index.html"})
    assert (config.output / "notes.txt").read_text() == "mine"


def test_a_stray_file_in_a_killed_builds_folder_is_left_alone(config: SiteConfig) -> None:
    out = OutputFolder(config)
    stale = config.output.with_name(f".{config.output.name}.staging-1")
    (stale / "sub").mkdir(parents=True)
    (stale / OUTPUT_MARKER).write_text("")
    (stale / "index.html").write_text("old page")  # pushgen's: removed
    (stale / "sub" / "mine.txt").write_text("mine")  # not pushgen's: kept
    unmarked = config.output.with_name(f".{config.output.name}.spare-ffff")
    unmarked.mkdir()
    (unmarked / "notes.md").write_text("mine too")  # no marker: never touched
    staging = out.open_staging(None, {"index.html"}, {"index.html"})
    assert tree(stale) == {OUTPUT_MARKER: b"", "sub/mine.txt": b"mine"}
    assert tree(unmarked) == {"notes.md": b"mine too"}
    said = {d.file: d.message for d in staging.diagnostics}
    assert said[str(stale)].startswith("kept: it holds files pushgen did not write (sub/mine.txt)")
    assert said[str(unmarked)].startswith("left alone: it is not marked as pushgen's")
    out.discard(staging.path)


_KILLED_SWAP = """
import os, signal, sys
import pushgen.build.output as output
from pushgen.config import load_config
out = output.OutputFolder(load_config(sys.argv[1]))
staging = out.open_staging(None, {"index.html"}, {"index.html"})
(staging.path / "index.html").write_text("new")
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
output.swap_directory = die
out.publish(staging.path, "new manifest\\n", spare="", previous=None, changed=set(), folders={""})
"""


def test_a_swap_killed_before_the_exchange_leaves_the_old_output_and_manifest(
    config: SiteConfig,
) -> None:
    out = OutputFolder(config)
    publish(out, {"index.html": "old"})
    before, manifest = tree(config.output), config.manifest.read_text()
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_SWAP, str(config.root)],
        cwd=REPO, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert tree(config.output) == before and config.manifest.read_text() == manifest
    # The next staging folder clears the killed one (marked, only pushgen's files).
    left = list(config.output.parent.glob(f".{config.output.name}.staging-*"))
    assert len(left) == 1
    staging = out.open_staging(None, {"index.html"}, {"index.html"})
    assert staging.diagnostics == ()
    assert list(config.output.parent.glob(f".{config.output.name}.staging-*")) == [staging.path]
    out.discard(staging.path)


_HOLD_LOCK = """
import sys
from pushgen.build.output import OutputFolder
from pushgen.config import load_config
with OutputFolder(load_config(sys.argv[1])).lock():
    print("held", flush=True)
    sys.stdin.read()  # until the test closes it
"""


def test_the_lock_held_by_another_process_is_refused_with_its_pid(config: SiteConfig) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(config.root)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with pytest.raises(BuildLockHeld) as exc, OutputFolder(config).lock():
            pass
        assert exc.value.holder == str(holder.pid)
        assert f"another build is writing {config.output} (pid {holder.pid})" in str(exc.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    with OutputFolder(config).lock():  # released with the process
        pass


def test_the_checks_refuse_a_manifest_inside_the_output_and_a_users_folder(
    tmp_path: Path, config: SiteConfig
) -> None:
    inside = load_config(config.root, manifest=config.output / "push-manifest.yaml")
    with pytest.raises(OutputFolderError, match="is inside the output folder"):
        OutputFolder(inside).check(())
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("mine")
    with pytest.raises(OutputFolderError, match="was not written by pushgen"):
        OutputFolder(load_config(config.root, output=docs)).check(())
    assert (docs / "notes.md").read_text() == "mine"
