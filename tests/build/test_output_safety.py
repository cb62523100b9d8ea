"""The build only replaces or removes what it wrote (issue 11: items 1, 3, 4, 5, 7, 14)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pushgen.build import BuildResult, build_site
from pushgen.cli import main
from pushgen.config import load_config
from pushgen.errors import BuildError, PushgenError
from pushgen.fsutil import OUTPUT_MARKER, OutputFolderError
from tests.sites import SMALL_SITE, write_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", SMALL_SITE)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def spares(site: Path, name: str = "_site") -> list[Path]:
    return sorted(site.parent.glob(f".{name}.spare-*")) + sorted(site.glob(f".{name}.spare-*"))


# --- item 1: never replace or delete a folder pushgen did not make ---------------------------


def test_an_existing_folder_of_the_user_is_refused_and_kept(site: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "notes.md").write_text("mine")
    (docs / "sub" / "x.txt").write_text("also mine")
    before = tree(docs)
    for _ in range(2):  # on main the second build deleted what the first hid as the spare
        with pytest.raises(OutputFolderError, match="was not written by pushgen") as exc:
            build_site(load_config(site, output=docs), jobs=1)
        assert exc.value.folder == docs
        assert "choose another output folder" in str(exc.value)
        assert tree(docs) == before
    assert not list(tmp_path.glob(".docs.*"))  # no spare, no staging, no state


@pytest.mark.parametrize("inside", ["templates", "pages", "static", "templates/partials"])
def test_an_output_inside_the_sources_is_refused(site: Path, inside: str) -> None:
    before = tree(site)
    with pytest.raises(OutputFolderError, match="inside the site's source folder"):
        build_site(load_config(site, output=site / inside), jobs=1)
    assert tree(site) == before
    assert not list(site.rglob(".*.spare-*"))


@pytest.mark.parametrize("target", [".", "pushgen.yaml", ".."])
def test_the_site_or_its_own_files_are_refused(site: Path, target: str) -> None:
    before = tree(site)
    with pytest.raises(OutputFolderError):
        build_site(load_config(site, output=site / target), jobs=1)
    assert tree(site) == before


def test_the_cli_says_what_to_do_in_one_line(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(site), "-o", str(site / "templates"), "--jobs", "1"]) != 0
    err = capsys.readouterr().err
    assert "inside the site's source folder" in err
    assert "Traceback" not in err
    assert (site / "templates" / "base.html").is_file()


def test_an_empty_folder_is_adopted_and_marked(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    build_site(load_config(site, output=out), jobs=1)
    assert (out / "index.html").is_file()
    assert (out / OUTPUT_MARKER).is_file()
    build_site(load_config(site, output=out), jobs=1)  # its own output now


def test_rebuilds_keep_replacing_their_own_output(site: Path) -> None:
    for _ in range(3):
        build_site(load_config(site), jobs=1)
    assert (site / "_site" / OUTPUT_MARKER).is_file()
    [spare] = spares(site)
    assert (spare / OUTPUT_MARKER).is_file()


def test_a_file_put_into_the_output_stops_the_build_and_survives(site: Path) -> None:
    build_site(load_config(site), jobs=1)
    build_site(load_config(site), jobs=1)  # a spare now
    (site / "_site" / "CNAME").write_text("example.org")
    for _ in range(3):
        with pytest.raises(OutputFolderError, match="CNAME: not written by pushgen"):
            build_site(load_config(site), jobs=1)
        assert (site / "_site" / "CNAME").read_text() == "example.org"
    # Put where the message says (static/), it is published with the site.
    (site / "_site" / "CNAME").rename(site / "static" / "CNAME")
    build_site(load_config(site), jobs=1)
    assert (site / "_site" / "static" / "CNAME").read_text() == "example.org"


def test_an_exported_headers_file_in_the_output_does_not_stop_the_next_build(
    site: Path,
) -> None:
    # docs/deploy.md: put `_headers` in the publish folder as the deploy's last step.
    # Written from the manifest the next build replaces, it is pushgen's: left out
    # of the new output (export again) and dropped with the spare, never a stray.
    build_site(load_config(site), jobs=1)
    build_site(load_config(site), jobs=1)  # a spare now
    headers = site / "_site" / "_headers"
    for _ in range(2):
        manifest = str(site / "push-manifest.yaml")
        assert main(["export", "--format", "netlify", "-m", manifest, "-o", str(headers)]) == 0
        (site / "pages" / "about.html").write_text(f"<p>changed {headers.exists()}</p>")
        result = build_site(load_config(site), jobs=1)
        assert not headers.exists()
        assert not result.warnings, result.warnings
    # The spare that held it is claimed, cleaned, by the next ordinary build (one that
    # changed nothing may answer from its stat pass, build/nochange.py, and claim none).
    (site / "pages" / "about.html").write_text("<p>claimed</p>")
    build_site(load_config(site), jobs=1)
    assert not [p for p in site.rglob("_headers")]
    # A `_headers` of the user's own (no export's first line) still stops the build.
    headers.write_text("/*\n  X-Frame-Options: DENY\n")
    with pytest.raises(OutputFolderError, match="_headers: not written by pushgen"):
        build_site(load_config(site), jobs=1)
    assert headers.read_text() == "/*\n  X-Frame-Options: DENY\n"


def test_a_file_of_the_user_in_the_spare_is_never_deleted(site: Path) -> None:
    build_site(load_config(site), jobs=1)
    build_site(load_config(site), jobs=1)
    [spare] = spares(site)
    (spare / "mine.txt").write_text("mine")
    (site / "pages" / "about.html").write_text("<p>changed</p>")
    build_site(load_config(site), jobs=1)  # would claim the spare: leaves it instead
    assert (spare / "mine.txt").read_text() == "mine"
    result = build_site(load_config(site), jobs=1)  # now a stale spare: reported, kept
    assert (spare / "mine.txt").read_text() == "mine"
    assert any("pushgen did not write (mine.txt)" in d.message for d in result.warnings)
    assert not (site / "_site" / "mine.txt").exists()


def test_a_folder_an_old_pushgen_hid_as_its_spare_is_left_alone(site: Path) -> None:
    # pushgen before the marker moved an existing output folder aside like this.
    hidden = site / "._site.spare-0123456789abcdef"
    hidden.mkdir()
    (hidden / "thesis.tex").write_text("years of work")
    result = build_site(load_config(site), jobs=1)
    build_site(load_config(site), jobs=1)
    assert (hidden / "thesis.tex").read_text() == "years of work"
    assert any("not marked as pushgen's" in d.message for d in result.warnings)


def test_an_output_of_an_old_pushgen_is_adopted(site: Path) -> None:
    build_site(load_config(site), jobs=1)
    (site / "_site" / OUTPUT_MARKER).unlink()  # as an older version left it, state beside
    assert (site / "._site.state").is_file()
    build_site(load_config(site), jobs=1)
    assert (site / "_site" / OUTPUT_MARKER).is_file()


def test_serve_and_build_refuse_the_same_folders(site: Path) -> None:
    from pushgen.runtime.factory import check_output

    for bad in (site, site / "pages", site / "templates" / "partials", site / "static"):
        config = load_config(site, output=bad)
        with pytest.raises(OutputFolderError) as served:
            check_output(config)
        with pytest.raises(OutputFolderError) as built:
            build_site(config, jobs=1)
        assert str(served.value) == str(built.value)
        assert isinstance(served.value, PushgenError)


# --- item 3: a rewritten file keeps its mode, a new one gets the umask's -----------------------


@pytest.fixture
def umask_077() -> object:
    old = os.umask(0o077)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_rewritten_manifest_keeps_its_mode(site: Path, umask_077: object) -> None:
    build_site(load_config(site), jobs=1)
    manifest = site / "push-manifest.yaml"
    manifest.chmod(0o644)  # as docs/deploy.md sets it up for a server of another user
    before = manifest.read_bytes()
    (site / "pages" / "about.html").write_text(
        '<link rel="stylesheet" href="/static/css/docs.css">'
    )
    build_site(load_config(site), jobs=1)
    assert manifest.read_bytes() != before  # rewritten through a temporary file
    assert mode(manifest) == 0o644  # was 0o600 on main


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_new_files_get_the_usual_mode_under_the_umask(site: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        build_site(load_config(site), jobs=1)
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert mode(site / "push-manifest.yaml") == expected
    assert mode(site / "_site" / "index.html") == expected


# --- item 4: a manifest inside the output is refused up front ---------------------------------


def test_a_manifest_inside_the_output_is_refused_before_anything_changes(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_site(load_config(site), jobs=1)
    before = tree(site)
    (site / "pushgen.yaml").write_text(
        "context:\n  title: Small\nmanifest: _site/push-manifest.yaml\n"
    )
    # On main: the new output went live, no manifest was written, FileNotFoundError.
    assert main(["build", str(site), "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert "is inside the output folder" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    after = tree(site)
    after.pop("pushgen.yaml")
    before.pop("pushgen.yaml")
    assert after == before


# --- item 5: links out of the site are not followed, special files skipped --------------------


def messages(result: BuildResult) -> dict[str, str]:
    return {d.file: d.message for d in result.diagnostics}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("TOKEN=ci-secret")
    (folder / "page.html").write_text("<p>not the site's</p>")
    return folder


def test_links_out_of_the_site_are_not_followed(site: Path, outside: Path) -> None:
    static = site / "static"
    (static / "secret.txt").symlink_to(outside / "secret.txt")
    (static / "passwd").symlink_to("/etc/passwd")
    (static / "zero.bin").symlink_to("/dev/zero")  # on main: filled the disk
    (static / "environ").symlink_to("/proc/self/environ")
    (static / "elsewhere").symlink_to(outside, target_is_directory=True)
    (site / "pages" / "stolen.html").symlink_to(outside / "page.html")
    result = build_site(load_config(site), jobs=1)
    out = site / "_site"
    for name in ("secret.txt", "passwd", "zero.bin", "environ", "elsewhere"):
        assert not os.path.lexists(out / "static" / name)
        assert "outside the site: not followed" in messages(result)[f"static/{name}"]
    assert not (out / "stolen.html").exists()
    assert "/stolen.html" not in result.manifest.routes
    assert "outside the site" in messages(result)["pages/stolen.html"]
    assert b"ci-secret" not in b"".join(tree(out).values())


def test_links_out_of_the_site_fail_a_strict_build(site: Path, outside: Path) -> None:
    (site / "static" / "secret.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(BuildError) as exc:
        build_site(load_config(site), jobs=1, strict=True)
    assert "static/secret.txt: error: a symbolic link to" in str(exc.value)


def test_links_inside_the_site_keep_working(site: Path) -> None:
    (site / "static" / "css" / "alias.css").symlink_to("site.css")
    (site / "static" / "shared").symlink_to(site / "static" / "img", target_is_directory=True)
    (site / "pages" / "home.html").symlink_to(site / "pages" / "index.html")
    result = build_site(load_config(site), jobs=1)
    out = site / "_site"
    assert (out / "static" / "css" / "alias.css").read_bytes() == (
        site / "static" / "css" / "site.css"
    ).read_bytes()
    assert (out / "home.html").read_bytes() == (out / "index.html").read_bytes()
    assert not (out / "static" / "shared").exists()  # links to folders are not walked (as before)
    assert result.warnings == []


def test_special_files_are_skipped_and_a_fifo_never_hangs(site: Path) -> None:
    os.mkfifo(site / "static" / "pipe.css")
    os.mkfifo(site / "pages" / "pipe.html")
    os.mkfifo(site / "templates" / "pipe.html")
    result = build_site(load_config(site), jobs=1)  # on main: blocked forever in open()
    for name in ("static/pipe.css", "pages/pipe.html", "templates/pipe.html"):
        assert "not a regular file" in messages(result)[name]
    assert not os.path.lexists(site / "_site" / "static" / "pipe.css")
    assert not os.path.lexists(site / "_site" / "pipe.html")
    build_site(load_config(site), jobs=1)  # and again, incrementally


# --- item 7: an output page edited in place is noticed and restored ----------------------------


@pytest.mark.parametrize("edit", ["appended", "truncated"])
def test_an_output_page_edited_in_place_is_rendered_again(site: Path, edit: str) -> None:
    build_site(load_config(site), jobs=1)
    build_site(load_config(site), jobs=1)  # a spare sharing every file with the output
    page = site / "_site" / "about.html"
    good = page.read_bytes()
    with open(page, "r+b") as fh:  # in place: the spare's hard link sees it too
        if edit == "appended":
            fh.seek(0, os.SEEK_END)
            fh.write(b"<script>injected()</script>")
        else:
            fh.truncate(len(good) // 2)
    for rendered in (1, 0):  # on main it survived every incremental build
        result = build_site(load_config(site), jobs=1)
        assert result.rendered == rendered
        assert page.read_bytes() == good
        [spare] = spares(site)
        assert (spare / "about.html").read_bytes() == good
