"""A full disk or a read-only output: one line saying so, the previous output intact
(issue 11, item 14)."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.config import load_config
from pushgen.fsutil import OutputWriteError
from tests.output import problem_lines
from tests.sites import SMALL_SITE, write_site


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def run_build(site: Path, out: Path, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "pushgen", "build", str(site), "-o", str(out), "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_file_size,
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = problem_lines(done.stderr)  # the phases that ended before the failure aside
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs: a disk that really fills (needs the right to mount)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_file_too_large_for_the_limit_stops_the_build_in_one_line(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", SMALL_SITE)
    out = tmp_path / "out"
    assert run_build(site, out).returncode == 0
    before, manifest = tree(out), (site / "push-manifest.yaml").read_bytes()
    (site / "static" / "big.bin").write_bytes(b"x" * 200_000)
    (site / "pages" / "about.html").write_text("<p>changed</p>" * 100)
    done = run_build(site, out, limit=100_000)  # RLIMIT_FSIZE: EFBIG, Python ignores SIGXFSZ
    assert_one_line_error(done, "File too large", "nothing was replaced")
    assert tree(out) == before
    assert (site / "push-manifest.yaml").read_bytes() == manifest
    assert run_build(site, out).returncode == 0  # and the next build works
    assert (out / "static" / "big.bin").stat().st_size == 200_000


def test_a_full_disk_stops_the_build_in_one_line(tmp_path: Path, tmpfs: Path) -> None:
    site = write_site(tmp_path / "site", SMALL_SITE)
    out = tmpfs / "out"
    assert run_build(site, out).returncode == 0
    before = tree(out)
    (site / "static" / "big.bin").write_bytes(os.urandom(600_000))  # more than the disk holds
    done = run_build(site, out)
    assert_one_line_error(done, "No space left on device", "free some space")
    assert tree(out) == before
    assert not [p.name for p in tmpfs.iterdir() if ".staging-" in p.name]


def test_a_read_only_output_stops_the_build_in_one_line(tmp_path: Path, tmpfs: Path) -> None:
    site = write_site(tmp_path / "site", SMALL_SITE)
    out = tmpfs / "out"
    assert run_build(site, out).returncode == 0
    before = tree(out)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    (site / "pages" / "about.html").write_text("<p>changed</p>")
    done = run_build(site, out)
    assert_one_line_error(done, "Read-only file system", "nothing was replaced")
    assert tree(out) == before


def test_the_error_carries_its_facts(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", SMALL_SITE)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputWriteError) as exc:
        build_site(load_config(site, output=blocker / "out"), jobs=1)
    assert exc.value.errno is not None
    assert not exc.value.replaced
    assert blocker.read_text() == "not a folder"


def run_scan(folder: Path, manifest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pushgen", "scan", str(folder), "-m", str(manifest)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_scan_whose_manifest_cannot_be_written_stops_in_one_line(
    tmp_path: Path, tmpfs: Path
) -> None:
    folder = write_site(tmp_path / "site", SMALL_SITE) / "static"
    manifest = tmpfs / "push-manifest.yaml"
    assert run_scan(folder, manifest).returncode == 0
    before = tree(tmpfs)
    (folder / "page.html").write_text('<link rel="stylesheet" href="/css/site.css">')
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    done = run_scan(folder, manifest)
    assert_one_line_error(
        done, f"{manifest}: cannot write: Read-only file system", "nothing was written"
    )
    assert tree(tmpfs) == before


def test_a_scan_whose_schema_cannot_be_written_says_the_manifest_is(tmp_path: Path) -> None:
    folder = write_site(tmp_path / "site", SMALL_SITE) / "static"
    (tmp_path / "push-manifest.schema.json").mkdir()  # a folder where the schema goes
    done = run_scan(folder, tmp_path / "push-manifest.yaml")
    schema = tmp_path / "push-manifest.schema.json"
    assert_one_line_error(
        done, f"{schema}: cannot write: Is a directory", "the manifest is written"
    )
    assert (tmp_path / "push-manifest.yaml").read_text().count("routes:") >= 1
    assert schema.is_dir() and not list(schema.iterdir())
