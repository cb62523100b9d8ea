"""Incremental builds: redo only what changed, and end byte-identical to a full build."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pushgen.build import BuildResult, build_site
from pushgen.build.incremental import BuildState, load_state
from pushgen.config import load_config
from pushgen.fsutil import OUTPUT_MARKER, OutputFolderError
from tests.sites import SMALL_SITE, write_site

MORE_PAGES = {
    f"pages/p/{i}.html": '{% extends "base.html" %}{% block body %}<p>'
    + str(i)
    + "</p>{% endblock %}"
    for i in range(5)
}
MORE_PAGES["pages/plain.html"] = (
    "<!doctype html><title>plain</title><link rel=stylesheet href=/static/css/docs.css>\n"
)


@pytest.fixture(params=["first rebuild", "with a spare"])
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A built site; the second build of one keeps the output it replaced as the spare."""
    root = write_site(tmp_path / "site", {**SMALL_SITE, **MORE_PAGES})
    build_site(load_config(root), jobs=1)
    if request.param == "with a spare":
        build_site(load_config(root), jobs=1)
        assert len(spares(root)) == 1
    return root


def spares(site: Path) -> list[Path]:
    return sorted(site.glob("._site.spare-*"))


def rebuild(site: Path) -> BuildResult:
    return build_site(load_config(site), jobs=1)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file and folder of the output and the manifest, by relative path."""
    out = {}
    for dirpath, _, filenames in os.walk(root / "_site"):
        out[f"folder {Path(dirpath).relative_to(root)}"] = b""
        for name in filenames:
            path = Path(dirpath, name)
            out[str(path.relative_to(root))] = path.read_bytes()
    out["push-manifest.yaml"] = (root / "push-manifest.yaml").read_bytes()
    return out


def assert_same_as_full_build(
    site: Path, result: BuildResult, tmp_path: Path, *, state_warning: str | None = None
) -> None:
    """The rebuild's output, manifest and diagnostics are a full build's; with
    ``state_warning``, the rebuild also said (first or last) that the state failed
    its checks, with a message containing it."""
    diagnostics = [str(d) for d in result.diagnostics]
    if state_warning is not None:
        said = [d for d in diagnostics if state_warning in d]
        assert len(said) == 1 and said[0] in (diagnostics[0], diagnostics[-1])
        diagnostics.remove(said[0])
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(
        site, fresh, ignore=shutil.ignore_patterns("_site", "._site*", "push-manifest.yaml")
    )
    full = build_site(load_config(fresh), jobs=1, full=True)
    assert snapshot(site) == snapshot(fresh)
    assert diagnostics == [str(d) for d in full.diagnostics]


def test_nothing_changed_renders_nothing(site: Path, tmp_path: Path) -> None:
    result = rebuild(site)
    assert result.rendered == 0
    assert len(result.pages) == 9
    assert_same_as_full_build(site, result, tmp_path)


def test_one_page_changed_renders_only_that_page(site: Path, tmp_path: Path) -> None:
    (site / "pages" / "p" / "3.html").write_text(
        '{% extends "base.html" %}{% block body %}<img src="/static/img/bg.png">{% endblock %}'
    )
    result = rebuild(site)
    assert result.rendered == 1
    assert "/static/img/bg.png" in (site / "_site" / "p" / "3.html").read_text()
    assert_same_as_full_build(site, result, tmp_path)


def test_a_partial_changed_renders_every_page_that_includes_it(site: Path, tmp_path: Path) -> None:
    (site / "templates" / "partials" / "nav.html").write_text("<nav>changed</nav>\n")
    result = rebuild(site)
    assert result.rendered == 8  # all but plain.html, which uses no template
    assert_same_as_full_build(site, result, tmp_path)


def test_a_stylesheet_edit_that_keeps_its_references_changes_no_page(
    site: Path, tmp_path: Path
) -> None:
    (site / "static" / "css" / "base.css").write_text(
        (site / "static" / "css" / "base.css").read_text() + "\nh1 { color: red }\n"
    )
    result = rebuild(site)
    assert result.rendered == 0
    assert "color: red" in (site / "_site" / "static" / "css" / "base.css").read_text()
    assert_same_as_full_build(site, result, tmp_path)


def test_a_stylesheet_with_new_references_re_resolves_its_pages(site: Path, tmp_path: Path) -> None:
    (site / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    (site / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")
    result = rebuild(site)
    assert result.rendered == 0
    assert "/static/css/extra.css" in [a.path for a in result.manifest.routes["/plain.html"]]
    assert_same_as_full_build(site, result, tmp_path)


def test_a_missing_file_that_appears_clears_its_warning(site: Path, tmp_path: Path) -> None:
    (site / "static" / "css" / "docs.css").write_text('@import "later.css";\n')
    assert any("later.css" in str(d) for d in rebuild(site).warnings)
    (site / "static" / "css" / "later.css").write_text("p { margin: 0 }\n")
    result = rebuild(site)
    assert not result.warnings
    assert_same_as_full_build(site, result, tmp_path)


def test_adding_a_page_and_changing_config_rebuild_everything(site: Path, tmp_path: Path) -> None:
    (site / "pages" / "new.html").write_text('{% extends "base.html" %}')
    assert rebuild(site).rendered == 10
    (site / "pushgen.yaml").write_text("context:\n  title: Renamed\n")
    result = rebuild(site)
    assert result.rendered == 10
    assert_same_as_full_build(site, result, tmp_path)


def test_an_include_by_expression_makes_the_page_depend_on_every_template(
    site: Path, tmp_path: Path
) -> None:
    (site / "pages" / "dynamic.html").write_text(
        '{% set name = "partials/" ~ "nav.html" %}{% include name %}'
    )
    rebuild(site)
    (site / "templates" / "partials" / "nav.html").write_text("<nav>again</nav>\n")
    result = rebuild(site)
    assert "<nav>again</nav>" in (site / "_site" / "dynamic.html").read_text()
    assert_same_as_full_build(site, result, tmp_path)


def test_a_deleted_output_page_is_rendered_again(site: Path, tmp_path: Path) -> None:
    had_spare = bool(spares(site))
    (site / "_site" / "about.html").unlink()
    result = rebuild(site)
    # The spare holds the same file: it comes back from there without a render.
    assert result.rendered == (0 if had_spare else 1)
    assert (site / "_site" / "about.html").is_file()
    assert_same_as_full_build(site, result, tmp_path)


def test_the_spare_shares_every_file_with_the_output(site: Path) -> None:
    (site / "pages" / "p" / "3.html").write_text("<p>changed</p>")
    (site / "static" / "css" / "docs.css").write_text("pre { margin: 0 }\n")
    (site / "static" / "img" / "bg.png").unlink()
    rebuild(site)
    [spare] = spares(site)
    output = site / "_site"

    def inodes(root: Path) -> dict[str, int]:
        return {
            str(path.relative_to(root)): path.stat().st_ino
            for path in root.rglob("*")
            if path.is_file()
        }

    assert inodes(spare) == inodes(output)


def test_a_file_put_in_the_output_by_hand_stops_the_build_and_stays(site: Path) -> None:
    # On main such files were deleted with the spare two builds later (issue 11, item 1).
    (site / "_site" / "notes.txt").write_text("mine")
    (site / "_site" / "static" / "extra").mkdir()
    (site / "_site" / "static" / "extra" / "x.css").write_text("")
    for round_ in range(3):
        (site / "pages" / "p" / "3.html").write_text(f"<p>{round_}</p>")
        with pytest.raises(OutputFolderError, match="not written by pushgen"):
            rebuild(site)
        assert (site / "_site" / "notes.txt").read_text() == "mine"
        assert (site / "_site" / "static" / "extra" / "x.css").exists()


def test_a_removed_static_folder_leaves_no_empty_folder(site: Path, tmp_path: Path) -> None:
    shutil.rmtree(site / "static" / "js" / "lib")  # app.js now imports a missing file
    result = rebuild(site)
    assert not (site / "_site" / "static" / "js" / "lib").exists()
    assert_same_as_full_build(site, result, tmp_path)
    # The output the folder was removed from became the spare: the builds that
    # start from it do not bring the folder back either.
    for round_ in range(2):
        (site / "pages" / "p" / "3.html").write_text(f"<p>{round_}</p>")
        result = rebuild(site)
        assert not (site / "_site" / "static" / "js" / "lib").exists()
    assert_same_as_full_build(site, result, tmp_path)


def test_a_new_empty_static_folder_is_made_and_the_spare_kept(site: Path, tmp_path: Path) -> None:
    (site / "static" / "empty").mkdir()  # a full build makes the site's empty folders
    result = rebuild(site)
    assert (site / "_site" / "static" / "empty").is_dir()
    [spare] = spares(site)
    assert (spare / "static" / "empty").is_dir()
    assert_same_as_full_build(site, result, tmp_path)
    (site / "pages" / "p" / "3.html").write_text("<p>changed</p>")
    result = rebuild(site)
    assert_same_as_full_build(site, result, tmp_path)


def test_without_its_spare_a_build_still_matches_a_full_build(site: Path, tmp_path: Path) -> None:
    for spare in spares(site):
        shutil.rmtree(spare)
    (site / "pages" / "p" / "3.html").write_text("<p>changed</p>")
    result = rebuild(site)
    assert result.rendered == 1
    assert_same_as_full_build(site, result, tmp_path)


def test_a_spare_no_state_names_is_removed(site: Path) -> None:
    stray = site / "._site.spare-0123456789abcdef"
    stray.mkdir()
    (stray / OUTPUT_MARKER).write_text("")
    (stray / "index.html").write_text("old")
    rebuild(site)
    assert not stray.exists()
    assert len(spares(site)) == 1


def test_a_corrupt_state_file_means_a_full_build(site: Path, tmp_path: Path) -> None:
    (site / "._site.state").write_bytes(b"not a pickle")
    result = rebuild(site)
    assert result.rendered == 9
    assert_same_as_full_build(
        site, result, tmp_path, state_warning="not JSON (cut short or damaged); this build built"
    )


def pages_of(state: BuildState) -> dict[str, tuple[object, ...]]:
    return {k: (p.saved_scan(), p.found, p.touched, p.diagnostics) for k, p in state.pages.items()}


def test_a_rebuild_rewrites_the_state_of_what_it_changed_only(site: Path) -> None:
    config = load_config(site)
    before = load_state(config)
    assert isinstance(before, BuildState)
    pages_before = pages_of(before)  # read now: the rebuild removes the files it replaces
    (site / "pages" / "p" / "3.html").write_text("<p>changed</p>")
    rebuild(site)
    after = load_state(config)
    assert isinstance(after, BuildState)
    rewritten = {name for name, file in after._files.items() if file != before._files[name]}
    shard = next(i for i, pages in enumerate(after._shards) if "p/3.html" in pages)
    # page_files: the size and mtime of the page's new output file; its scans'
    # shard: the page's new scan (the other pages' scans as they were).
    assert rewritten == {"templates", f"pages-{shard}", f"scans-{shard}", "page_files"}
    # Only the files the header names are left.
    folder = site / "._site.state.d"
    assert {p.name for p in folder.iterdir()} == set(after._files.values())
    pages_after = pages_of(after)
    assert pages_after["p/3.html"] != pages_before["p/3.html"]
    assert {k: v for k, v in pages_after.items() if k != "p/3.html"} == {
        k: v for k, v in pages_before.items() if k != "p/3.html"
    }


def test_an_older_manifest_put_back_gets_every_route_written_anew(
    site: Path, tmp_path: Path
) -> None:
    manifest = site / "push-manifest.yaml"
    older = manifest.read_text()
    (site / "pages" / "about.html").write_text(
        '{% extends "base.html" %}{% block body %}<img src="/static/img/bg.png">{% endblock %}'
    )
    rebuild(site)
    manifest.write_text(older)  # say, `git checkout push-manifest.yaml`
    (site / "pages" / "p" / "3.html").write_text("<p>changed</p>")
    result = rebuild(site)
    # about.html did not change since the state was saved, but the manifest's
    # text for it is the older one: it must not be copied over.
    assert "/static/img/bg.png" in [a.path for a in result.manifest.routes["/about.html"]]
    assert "/static/img/bg.png" in manifest.read_text().split("/about.html:")[1].split("\n  /")[0]
    assert_same_as_full_build(site, result, tmp_path)


def test_a_file_gone_from_the_spare_is_made_again(site: Path, tmp_path: Path) -> None:
    rebuild(site)  # leaves a spare equal to the output
    [spare] = spares(site)
    (spare / "about.html").unlink()
    (spare / "static" / "css" / "docs.css").unlink()
    result = rebuild(site)
    assert (site / "_site" / "about.html").is_file()
    assert (site / "_site" / "static" / "css" / "docs.css").is_file()
    assert_same_as_full_build(site, result, tmp_path)
