"""URL path -> file and size of an output folder: the one lookup build, CLI and runtime share."""

from __future__ import annotations

from pathlib import Path

from pushgen.site_files import file_size


def _output(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "static").mkdir(parents=True)
    (out / "index.html").write_bytes(b"<p>home</p>")
    (out / "static" / "a.css").write_bytes(b"p{}")
    (out / ".env").write_bytes(b"SECRET=1")
    (tmp_path / "outside.css").write_bytes(b"x" * 100)
    (out / "static" / "out.css").symlink_to(tmp_path / "outside.css")
    return out


def test_a_file_and_an_index_page_have_their_sizes(tmp_path: Path) -> None:
    out = _output(tmp_path)
    assert file_size(out, "/static/a.css") == 3
    assert file_size(out, "/") == len(b"<p>home</p>")
    assert file_size(out, "/base/static/a.css", base_path="/base/") == 3


def test_nothing_outside_the_folder_a_dotfile_or_a_folder_has_a_size(tmp_path: Path) -> None:
    out = _output(tmp_path)
    # A link leading out of the output, a dotfile, a folder, a
    # missing file and a path outside the base path name no file of the site.
    for path in ("/static/out.css", "/.env", "/static", "/static/b.css", "/../outside.css"):
        assert file_size(out, path) is None, path
    assert file_size(out, "/static/a.css", base_path="/base/") is None


def test_a_sibling_has_the_containment_of_its_file(tmp_path: Path) -> None:
    """Failed on main (no find_sibling: the server only stat()ed NAME.br, links out included)."""
    from pushgen.site_files import find_file, find_sibling

    out = _output(tmp_path)
    static = out / "static"
    (static / "a.css.br").symlink_to(tmp_path / "outside.css")  # leads out
    (static / "a.css.gz").mkdir()  # not a regular file
    found = find_file(out, "/static/a.css")
    assert found is not None
    assert find_sibling(found, ".br") is None
    assert find_sibling(found, ".gz") is None
    # A link that stays inside is a sibling, at its real path, like any file of the output.
    (static / "a.css.gz").rmdir()
    (static / "real.gz").write_bytes(b"gz")
    (static / "a.css.gz").symlink_to(static / "real.gz")
    sibling = find_sibling(found, ".gz")
    assert sibling is not None and sibling.path == str((static / "real.gz").resolve())
    assert sibling.size == 2 and sibling.root == found.root
    # Nothing beside a redirect.
    (out / "docs").mkdir()
    (out / "docs" / "index.html").write_bytes(b"<p>docs</p>")
    redirect = find_file(out, "/docs")
    assert redirect is not None and redirect.kind == "redirect"
    assert find_sibling(redirect, ".br") is None
