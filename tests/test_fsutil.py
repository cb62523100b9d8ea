"""fsutil.walk_sources: the one walker of a site's sources and of a built folder.

The same rules for both callers (pushgen build's static/, pages/ and templates/;
pushgen scan's folder): links followed to files inside the root only, never to
folders; links out of the root, special files, broken links and unreadable
folders reported, never followed, read or opened.

fsutil.read_regular_file and open_folder: the bounded read of a file pushgen
wrote itself and reads back (the incremental state, issue 22).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from pushgen.fsutil import FOLDER, FileRefused, open_folder, read_regular_file, walk_sources


def rels(root: Path, top: Path | None = None, **kwargs: str) -> list[str]:
    return [rel for rel, _, _ in walk_sources(top or root, root, **kwargs).files]


def skipped(root: Path, top: Path | None = None, **kwargs: str) -> dict[str, str]:
    return dict(walk_sources(top or root, root, **kwargs).skipped)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for rel in ("b.txt", "a/z.txt", "a/deep/x.txt", "c/y.txt", ".git/config", "a/.hidden"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    return root


def test_files_by_name_per_folder_depth_first_without_dotfiles(tree: Path) -> None:
    found = walk_sources(tree, tree)
    assert [rel for rel, _, _ in found.files] == ["b.txt", "a/z.txt", "a/deep/x.txt", "c/y.txt"]
    assert found.folders == ["", "a", "a/deep", "c"]
    assert found.skipped == []
    _, path, st = found.files[0]
    assert path == str(tree / "b.txt") and st.st_size == len("b.txt")


def test_a_link_to_a_file_inside_is_followed(tree: Path) -> None:
    (tree / "c" / "alias.txt").symlink_to("../a/z.txt")
    found = {rel: path for rel, path, _ in walk_sources(tree, tree).files}
    assert Path(found["c/alias.txt"]).read_text() == "a/z.txt"


def test_a_link_out_of_the_root_is_reported_not_followed(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("TOKEN")
    (tree / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (tree / "up").symlink_to(tmp_path, target_is_directory=True)
    (tree / "passwd").symlink_to("/etc/passwd")
    found = skipped(tree, root_name="the folder")
    assert found == {
        "leak.txt": f"a symbolic link to {tmp_path / 'secret.txt'}, outside the folder: not followed",
        "up": f"a symbolic link to {tmp_path}, outside the folder: not followed",
        "passwd": f"a symbolic link to {os.path.realpath('/etc/passwd')}, outside the folder: "
        "not followed",
    }
    assert "leak.txt" not in rels(tree)


def test_inside_is_the_root_not_the_folder_walked(tree: Path) -> None:
    # A site's static/ may link to a file elsewhere in the site (the root), not out of it.
    (tree / "a" / "b.txt").symlink_to(tree / "b.txt")
    assert "b.txt" in rels(tree, tree / "a")
    assert "b.txt" in skipped(tree / "a")  # with a/ as the root, b.txt is outside


def test_links_to_folders_inside_are_not_walked_and_never_loop(tree: Path) -> None:
    (tree / "a" / "loop").symlink_to(tree, target_is_directory=True)
    (tree / "a" / "self").symlink_to(".", target_is_directory=True)
    (tree / "c" / "alias").symlink_to(tree / "a", target_is_directory=True)
    found = walk_sources(tree, tree)
    assert [rel for rel, _, _ in found.files] == ["b.txt", "a/z.txt", "a/deep/x.txt", "c/y.txt"]
    assert found.skipped == []  # the folders they name are walked under their own names


def test_special_files_broken_links_and_unreadable_folders_are_reported(tree: Path) -> None:
    os.mkfifo(tree / "pipe.css")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tree / "a" / "sock"))
        (tree / "c" / "gone.txt").symlink_to(tree / "missing.txt")
        (tree / "locked").mkdir()
        (tree / "locked" / "in.txt").write_text("x")
        (tree / "locked").chmod(0)
        try:
            found = skipped(tree)
        finally:
            (tree / "locked").chmod(0o755)
    special = "not a regular file (a FIFO, device or socket): skipped"
    assert found["pipe.css"] == special and found["a/sock"] == special
    assert found["c/gone.txt"] == "a broken symbolic link: skipped"
    if os.geteuid() != 0:  # root reads any folder
        assert found["locked/"] == "cannot read the folder (Permission denied): skipped"


def test_a_missing_folder_has_no_files(tmp_path: Path) -> None:
    found = walk_sources(tmp_path / "missing", tmp_path)
    assert found.files == [] and found.folders == [] and found.skipped == []


# --- read_regular_file -------------------------------------------------------------------


def refused(path: Path, *, limit: int = 100, dir_fd: int | None = None) -> FileRefused:
    with pytest.raises(FileRefused) as exc:
        read_regular_file(str(path), limit=limit, dir_fd=dir_fd)
    return exc.value


def test_a_regular_file_up_to_the_limit_is_read(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 100)
    assert read_regular_file(str(tmp_path / "f"), limit=100) == b"x" * 100
    assert refused(tmp_path / "f", limit=99).why == "larger than 99 bytes"


def test_what_is_not_a_regular_file_of_its_own_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(b"secret")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")  # a blocking open would wait for a writer forever
    assert refused(tmp_path / "link").why == "a symbolic link"
    assert refused(tmp_path / "zero").why == "a symbolic link"
    assert refused(tmp_path / "folder").why == FOLDER
    assert refused(tmp_path / "fifo").why == "not a regular file"
    gone = refused(tmp_path / "missing")
    assert gone.missing and gone.why == "missing"


def test_a_file_is_read_through_the_folder_not_a_link_in_its_place(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "part").write_bytes(b"part")
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    fd = open_folder(tmp_path / "real")
    try:
        assert read_regular_file("part", limit=10, dir_fd=fd) == b"part"
    finally:
        os.close(fd)
    with pytest.raises(OSError):
        open_folder(tmp_path / "alias")
