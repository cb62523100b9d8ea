"""A rebuild sees an edit that keeps the file's size and sets its old mtime back
(``touch -d``, ``os.utime``, a tool that restores mtimes): the state keeps each
source's ctime and inode beside its size and mtime, as the no-change fast path's
digest does (state.TemplateFile); and the quick file is saved under the build lock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pushgen.build import BuildResult, build_site, nochange
from pushgen.build.nochange import Before, quick_path
from pushgen.build.output import BuildLockHeld
from pushgen.config import load_config
from tests.build.test_incremental import MORE_PAGES, assert_same_as_full_build
from tests.sites import SMALL_SITE, write_site


def rebuild(site: Path, **options: object) -> BuildResult:
    return build_site(load_config(site), jobs=1, **options)  # type: ignore[arg-type]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A built site whose last rebuild changed a page: it left no quick file, so the
    next rebuild is the ordinary one, judged against the state."""
    root = write_site(tmp_path / "site", {**SMALL_SITE, **MORE_PAGES})
    rebuild(root)
    rebuild(root)
    (root / "pages" / "p" / "0.html").write_text((root / "pages/p/0.html").read_text() + " ")
    assert rebuild(root).rendered == 1
    assert not quick_path(load_config(root)).exists()
    return root


def forge(path: Path, old: str, new: str) -> None:
    """Edit ``path`` keeping its size, then set its atime and mtime back."""
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)


EDITS = {
    "template": ("templates/partials/nav.html", "Home", "Hone"),
    "page": ("pages/about.html", "About", "Abort"),
    "static file": ("static/css/print.css", "black", "white"),
}


@pytest.mark.parametrize("full", [False, True], ids=["rebuild", "full"])
@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_an_edit_with_the_old_size_and_mtime_is_built(
    site: Path, tmp_path: Path, edit: tuple[str, str, str], full: bool
) -> None:
    rel, old, new = edit
    forge(site / rel, old, new)
    result = rebuild(site, full=full)
    assert_same_as_full_build(site, result, tmp_path)
    if rel.startswith("static/"):
        assert (site / "_site" / rel).read_text() == (site / rel).read_text()


def test_the_quick_file_is_saved_under_the_build_lock(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that starts while the last one saves its quick file is refused: were
    it to run, the quick file saved after it would vouch for what it replaced."""
    said: list[str] = []  # what the build that starts during the save met
    save = nochange._save

    def saving(config: object, before: Before, result: BuildResult) -> bool:
        if not said:
            said.append("started")
            try:
                rebuild(site)
                said.append("built")
            except BuildLockHeld:
                said.append("refused")
        return save(config, before, result)  # type: ignore[arg-type]

    monkeypatch.setattr(nochange, "_save", saving)
    assert rebuild(site).unchanged
    assert said == ["started", "refused"]


def test_a_site_saved_just_before_its_build_is_unchanged_at_the_next(tmp_path: Path) -> None:
    # Sources written in the clock tick the build locks in were not vouched for
    # (state.BuildState.vouch), so the next build read them again and rendered
    # their pages: "unchanged" was false in 40% of these pairs. The lock now waits
    # for the file system's clock to tick (output._next_tick) before any source is
    # stat-ed, and a source changed before it is older than the build's start.
    for attempt in range(8):
        root = write_site(tmp_path / f"site{attempt}", SMALL_SITE)
        rebuild(root)
        again = rebuild(root)
        assert again.unchanged and again.rendered == 0, attempt
