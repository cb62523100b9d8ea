"""The no-change fast path (build/nochange.py): a rebuild that changed nothing is
decided from one stat pass and writes nothing; every change a full build would see
sends the rebuild down the ordinary path, which ends as a full build does."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from pushgen.build import BuildResult, build_site, nochange
from pushgen.build.incremental import state_path
from pushgen.build.nochange import quick_path
from pushgen.config import load_config
from pushgen.errors import BuildError
from pushgen.fsutil import OutputFolderError
from pushgen.manifest.compiled import compiled_path
from pushgen.outcome import Summary
from tests.build.test_incremental import MORE_PAGES, assert_same_as_full_build, snapshot
from tests.sites import SMALL_SITE, write_site

ALL_PAGES = 3 + len(MORE_PAGES)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A built site whose quick file is saved: the first build may find its sources
    in the tick of its start stamp (just written), the second has not changed them."""
    root = write_site(tmp_path / "site", {**SMALL_SITE, **MORE_PAGES})
    build_site(load_config(root), jobs=1)
    build_site(load_config(root), jobs=1)
    assert quick_path(load_config(root)).stat().st_size > 0
    return root


def rebuild(site: Path, **options: object) -> BuildResult:
    return build_site(load_config(site), jobs=1, **options)  # type: ignore[arg-type]


def stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns)


def fast(result: BuildResult) -> bool:
    """Whether the rebuild took the fast path: it ran no phase of the ordinary build."""
    return result.unchanged and "render" not in result.phases


def test_nothing_changed_writes_nothing_and_returns_the_last_result(site: Path) -> None:
    config = load_config(site)
    before = {p: stamp(p) for p in (config.output, state_path(config), config.manifest)}
    result = rebuild(site)
    # Nothing swapped in (the output is the same folder), no state or manifest written.
    assert {p: stamp(p) for p in before} == before
    assert fast(result) and result.written and result.rendered == 0
    # The values an ordinary rebuild returns, which the fast path returns without it.
    quick_path(config).unlink()
    ordinary = rebuild(site)
    assert not fast(ordinary) and ordinary.unchanged
    assert result.pages == ordinary.pages
    assert [str(d) for d in result.diagnostics] == [str(d) for d in ordinary.diagnostics]
    assert dict(result.manifest.routes) == dict(ordinary.manifest.routes)
    assert result.manifest_text == ordinary.manifest_text
    assert result.static_files == ordinary.static_files
    assert result.summary().split(" in ")[0] == ordinary.summary().split(" in ")[0]


def test_the_diagnostics_of_the_last_build_are_said_again(site: Path) -> None:
    (site / "static" / "css" / "docs.css").write_text('@import "gone.css";\n')
    said = [str(d) for d in rebuild(site).diagnostics]
    assert any("gone.css" in d for d in said)
    assert [str(d) for d in rebuild(site).diagnostics] == said  # saves the quick file
    result = rebuild(site)
    assert fast(result) and [str(d) for d in result.diagnostics] == said
    # --strict stops on them: the ordinary rebuild says so.
    with pytest.raises(BuildError):
        rebuild(site, strict=True)


CHANGES = {
    "a page deleted": lambda s: (s / "pages" / "about.html").unlink(),
    "a page added": lambda s: (s / "pages" / "new.html").write_text("<!doctype html><p>new\n"),
    "a folder renamed": lambda s: (s / "pages" / "p").rename(s / "pages" / "q"),
    "a template edited": lambda s: (s / "templates" / "partials" / "nav.html").write_text("<nav/>"),
    "a static file deleted": lambda s: (s / "static" / "css" / "print.css").unlink(),
    "a static file added": lambda s: (s / "static" / "new.txt").write_text("new\n"),
    "an empty static folder": lambda s: (s / "static" / "empty").mkdir(),
    "pushgen.yaml changed": lambda s: (s / "pushgen.yaml").write_text("context:\n  title: Big\n"),
    "an output page deleted": lambda s: (s / "_site" / "about.html").unlink(),
    "an output page edited": lambda s: (s / "_site" / "about.html").write_text("mine"),
    "the schema deleted": lambda s: (s / "push-manifest.schema.json").unlink(),
    "the compiled manifest deleted": lambda s: (s / ".push-manifest.yaml.pgc").unlink(),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_a_full_build_would_see_is_seen(site: Path, tmp_path: Path, change: str) -> None:
    CHANGES[change](site)
    result = rebuild(site)
    assert not fast(result)
    assert_same_as_full_build(site, result, tmp_path)
    settles(site)


def settles(site: Path) -> None:
    """The rebuild that changes nothing after a change saves the quick file (a full
    build did already), and the next is fast again."""
    assert fast(rebuild(site)) or fast(rebuild(site))


def test_an_edit_with_the_same_size_and_mtime_is_seen(site: Path) -> None:
    """make's and ninja's trap: the same size, the mtime set back (or within one tick
    of the clock). The ctime, and the content of a file changed within RACY_NS of
    the build, tell."""
    page = site / "pages" / "about.html"
    st = page.stat()
    page.write_text(page.read_text().replace("About", "Abuot"))
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (page.stat().st_size, page.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    # Not fast. (The ordinary rebuild then judges the page by its size and mtime,
    # dependencies.py, and renders nothing: that is its rule, not this path's.)
    assert not fast(rebuild(site))


def test_an_output_not_older_than_the_closing_stamp_is_compared_by_content(site: Path) -> None:
    """An output whose mtime is not older than the stamp taken after the build (as
    one written in that clock tick; here dated ahead) has its content saved, and a
    rebuild compares it before it trusts the stat."""
    schema = site / "push-manifest.schema.json"
    future = time.time_ns() + 3600 * 10**9
    os.utime(schema, ns=(future, future))
    assert not fast(rebuild(site))  # the schema's stat changed; this build saves it racy
    quick = quick_path(load_config(site))
    blob = quick.read_bytes()
    head, _, body = blob.partition(b"\n")
    saved = json.loads(head)
    assert str(schema) in saved["racy"]
    assert fast(rebuild(site))  # the content compared: the same
    saved["racy"][str(schema)] = "0" * 64  # the stats as saved, the content not
    quick.write_bytes(json.dumps(saved).encode() + b"\n" + body)
    assert not fast(rebuild(site))


def test_a_hand_edit_to_the_manifest_is_checked(site: Path) -> None:
    manifest = site / "push-manifest.yaml"
    text = manifest.read_text()
    assert text.count("rules: []\n") == 1
    rule = "rules:\n  - match: /about.html\n    add:\n      - {path: /static/gone.png, as: image}\n"
    manifest.write_text(text.replace("rules: []\n", rule))
    result = rebuild(site)
    assert not fast(result)
    assert any("gone.png" in str(d) for d in result.diagnostics)
    assert rule in manifest.read_text()


def test_a_file_put_into_the_output_is_refused_as_before(site: Path) -> None:
    (site / "_site" / "p" / "stray.html").write_text("x")
    with pytest.raises(OutputFolderError, match="not written by pushgen"):
        rebuild(site)


def test_check_and_full_never_take_it(site: Path) -> None:
    assert not rebuild(site, write=False).written
    full = rebuild(site, full=True)
    assert not fast(full) and full.rendered == ALL_PAGES
    assert fast(rebuild(site))  # a full build saves it


def test_a_changing_rebuild_saves_none(site: Path) -> None:
    (site / "pages" / "about.html").write_text("<!doctype html><p>edited\n")
    assert rebuild(site).rendered == 1
    assert not quick_path(load_config(site)).exists()
    settles(site)


def test_a_source_changed_as_the_build_ran_is_not_vouched_for(site: Path) -> None:
    """A source whose mtime is not older than the build's start stamp may have been
    edited after the build read it: nothing is saved."""
    page = site / "pages" / "about.html"
    page.write_text(page.read_text().replace("About", "Later"))
    future = time.time_ns() + 3600 * 10**9
    os.utime(page, ns=(future, future))
    assert rebuild(site).rendered == 1
    assert not fast(rebuild(site))  # changed nothing, but the page is still "late"
    assert not quick_path(load_config(site)).exists()


def test_another_pushgen_version_takes_the_ordinary_path(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nochange, "_version", lambda: "99.0")
    assert not fast(rebuild(site))
    settles(site)


def test_a_failed_build_is_not_taken_for_no_change(site: Path) -> None:
    output = snapshot(site)
    (site / "pages" / "about.html").write_text('{% extends "base.html" %}{% block body %}{{ 1/0 }}')
    with pytest.raises(BuildError):
        rebuild(site)
    assert snapshot(site) == output
    # The quick file stays (the output is as it was), and the page still differs from it.
    with pytest.raises(BuildError):
        rebuild(site)


def test_a_linked_folder_of_pages_is_not_vouched_for(site: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(site / "pages" / "p", elsewhere)
    shutil.rmtree(site / "pages" / "p")
    (site / "pages" / "p").symlink_to(elsewhere, target_is_directory=True)
    rebuild(site)
    (elsewhere / "1.html").write_text("<!doctype html><p>changed\n")
    assert not fast(rebuild(site))


def test_a_rebuild_while_another_build_writes_is_refused_as_before(site: Path) -> None:
    """The fast path takes the build lock too: it does not answer from an output that
    another build is replacing."""
    import fcntl

    from pushgen.build import BuildLockHeld

    with open(site / "._site.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242")
        held.flush()
        with pytest.raises(BuildLockHeld, match=r"\(pid 4242\)"):
            rebuild(site)
    assert fast(rebuild(site))


def test_the_state_key_changes_with_any_of_pushgens_code(tmp_path: Path) -> None:
    """A scanner's new rule (pushgen/scan/) must not reuse old scans, nor the fast path
    answer from them: the key both use stamps every module, not build/'s alone."""
    import subprocess
    import sys

    import pushgen

    copy = tmp_path / "code"
    shutil.copytree(
        Path(pushgen.__file__).parent,
        copy / "pushgen",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    site = write_site(tmp_path / "site", SMALL_SITE)
    script = (
        "import sys; from pushgen.config import load_config;"
        " from pushgen.build.state import config_key; print(config_key(load_config(sys.argv[1])))"
    )

    def key() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, str(site)],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return done.stdout.strip()

    before = key()
    assert key() == before
    scanner = copy / "pushgen" / "scan" / "css.py"
    scanner.write_text(scanner.read_text(encoding="utf-8") + "\n# a new rule\n", encoding="utf-8")
    assert key() != before


def test_the_fast_path_decodes_the_manifest_only_when_asked(site: Path) -> None:
    """The summary's counts come from the quick file: the compiled manifest (most of
    the fast path's time when decoded up front) is decoded when first used."""
    config = load_config(site)
    quick_path(config).unlink()
    ordinary = rebuild(site)  # saves the quick file again
    result = rebuild(site)
    assert fast(result)
    counts = dataclasses.replace(Summary.of_result(result), seconds=ordinary.seconds)
    assert counts == Summary.of_result(ordinary)
    assert result.summary().split(" in ")[0] == ordinary.summary().split(" in ")[0]
    assert result._decoded is None  # type: ignore[attr-defined]
    # Replaced after the lock was released (by a later build, say): the YAML the
    # fast path read under the lock is the truth, and is parsed instead.
    compiled_path(config.manifest).write_bytes(b"not a compiled manifest")
    assert dict(result.manifest.routes) == dict(ordinary.manifest.routes)
    assert result.pages == ordinary.pages
