"""A damaged, unreadable or hostile state costs a build its head start, nothing more
(issue 22, items 3 and 6b).

Each attack of the issue's run is made on a built site whose output holds
pushgen's own ``.br``/``.gz`` siblings (what made every build fail on c19f3c3:
without the state they were "not written by pushgen"), then ``pushgen build`` runs
through the real CLI, with and without ``--full``. Each build exits 0, says once
that the state was damaged (naming the state's folder), builds everything and
publishes the page added meanwhile; nothing outside the state is read or written,
and the user's files stay.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pushgen.build.incremental import BuildState, StateDamage, load_state
from pushgen.build.state_files import MAX_STATE_FILE_BYTES, part_file
from pushgen.cli import main
from pushgen.config import load_config
from tests.sites import SMALL_SITE, write_site

# A stylesheet large enough to be precompressed: the output holds its siblings.
SITE: dict[str, str | bytes] = {
    **SMALL_SITE,
    "static/css/docs.css": "pre { font-family: monospace; white-space: pre-wrap }\n" * 40,
}
NEW_PAGE = '{% extends "base.html" %}{% block body %}<p>New</p>{% endblock %}\n'
DAMAGED = "the previous build's state does not validate (damaged or edited)"


def build(site: Path, *args: str) -> int:
    return main(["build", str(site), "--jobs", "1", *args])


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = write_site(tmp_path / "site", SITE)
    assert build(root) == 0
    assert build(root) == 0  # a spare too
    assert (root / "_site" / "static" / "css" / "docs.css.br").is_file()
    return root


def folder(site: Path) -> Path:
    return site / "._site.state.d"


def header(site: Path) -> dict[str, object]:
    value = json.loads((site / "._site.state").read_bytes())
    assert isinstance(value, dict)
    return value


def part(site: Path, name: str) -> Path:
    parts = header(site)["parts"]
    assert isinstance(parts, dict)
    return folder(site) / str(parts[name])


def tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``: a file's bytes, a link's target."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = f"-> {os.readlink(path)}"
            elif path.is_file():
                out[rel] = path.read_bytes()
    return out


# --- the attacks: each damages the state of ``site``; ``outside`` is a folder of the
# attacker's beside it, holding what a build that followed a link would read.


def empty_part(site: Path, outside: Path) -> None:
    part(site, "outputs").write_bytes(b"")  # as a crash leaves a part never synced


def truncated_part(site: Path, outside: Path) -> None:
    path = part(site, "assets")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damaged_header(site: Path, outside: Path) -> None:
    data = (site / "._site.state").read_bytes()
    (site / "._site.state").write_bytes(b"\x00\xff" + data[2:])


def symlinked_folder(site: Path, outside: Path) -> None:
    # A whole, valid state outside: a build that followed the link would find it
    # good and build only what changed, saying nothing.
    shutil.rmtree(outside)
    shutil.move(folder(site), outside)
    folder(site).symlink_to(outside, target_is_directory=True)


def climbing_part_name(site: Path, outside: Path) -> None:
    value = header(site)
    parts = value["parts"]
    assert isinstance(parts, dict)
    blob = part(site, "outputs").read_bytes()
    (outside / part_file("outputs", blob)).write_bytes(blob)
    parts["outputs"] = f"../{outside.name}/{part_file('outputs', blob)}"
    (site / "._site.state").write_text(json.dumps(value))


def nested_part(site: Path, outside: Path) -> None:
    blob = b"[" * 200_000 + b"]" * 200_000
    value = header(site)
    parts = value["parts"]
    assert isinstance(parts, dict)
    parts["outputs"] = part_file("outputs", blob)
    (folder(site) / parts["outputs"]).write_bytes(blob)
    (site / "._site.state").write_text(json.dumps(value))


def dev_zero_part(site: Path, outside: Path) -> None:
    path = part(site, "outputs")
    path.unlink()
    path.symlink_to("/dev/zero")  # on c19f3c3: read whole, MemoryError at 2.7 GB


def folder_part(site: Path, outside: Path) -> None:
    path = part(site, "templates")
    path.unlink()
    path.mkdir()
    (path / "x").write_text("a folder where a part was")


ATTACKS: dict[str, Callable[[Path, Path], None]] = {
    "empty part": empty_part,
    "truncated part": truncated_part,
    "damaged header": damaged_header,
    "symlinked state folder": symlinked_folder,
    "../ part name": climbing_part_name,
    "nested-JSON part": nested_part,
    "/dev/zero part": dev_zero_part,
    "part that is a folder": folder_part,
}


@pytest.mark.parametrize("full", [False, True], ids=["build", "build --full"])
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_damaged_state_is_a_warning_and_a_full_build_that_publishes(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], attack: str, full: bool
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("the attacker's, or a victim's")
    mine = folder(site) / "notes.txt"
    mine.write_text("mine")  # the user's file in the state's folder
    ATTACKS[attack](site, outside)
    before = tree(outside)
    (site / "pages" / "new.html").write_text(NEW_PAGE)
    capsys.readouterr()

    assert build(site, *(["--full"] if full else [])) == 0
    out, err = capsys.readouterr()
    said = [line for line in (out + err).splitlines() if DAMAGED in line]
    if full:
        assert said == []  # --full does not use the state: nothing to say of it
    else:
        assert len(said) == 1, out + err
        assert said[0].startswith(f"{folder(site)}: warning: ")
        assert "this build built everything" in said[0]
    assert "Traceback" not in err
    assert (site / "_site" / "new.html").read_text().count("<p>New</p>") == 1
    assert "/new.html" in (site / "push-manifest.yaml").read_text()
    assert (site / "_site" / "static" / "css" / "docs.css.br").is_file()
    assert tree(outside) == before  # nothing outside read (a build would trust it) or written
    assert mine.read_text() == "mine"


# What a build cannot repair: it removes only the files it wrote.
LASTING = {"symlinked state folder": "._site.state.d", "part that is a folder": "templates."}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_the_build_after_keeps_a_state_again(site: Path, tmp_path: Path, attack: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    ATTACKS[attack](site, outside)
    assert build(site) == 0
    state = load_state(load_config(site))
    if attack in LASTING:
        # Never written through or removed: no state is kept while it is there,
        # and every build says so, and what to do.
        assert isinstance(state, StateDamage)
        assert state.file.startswith(LASTING[attack])
        assert state.why.endswith("no state is kept while it is there (remove it)")
        blocker = site / "._site.state.d"
        if attack == "part that is a folder":
            blocker /= state.file
            assert (blocker / "x").is_file()
            shutil.rmtree(blocker)
        else:
            assert blocker.is_symlink()
            blocker.unlink()
        assert build(site) == 0
        state = load_state(load_config(site))
    assert isinstance(state, BuildState)
    assert not list(folder(site).glob("*.tmp"))


@pytest.mark.parametrize(
    ("attack", "file", "why"),
    [
        ("empty part", "outputs.", "empty"),
        ("truncated part", "assets.", "not JSON (cut short or damaged)"),
        ("damaged header", "._site.state", "not JSON (cut short or damaged)"),
        ("symlinked state folder", "._site.state.d", "a symbolic link"),
        ("../ part name", "._site.state", "not what a build writes"),
        ("nested-JSON part", "outputs.", "nested deeper than a build writes"),
        ("/dev/zero part", "outputs.", "a symbolic link"),
        ("part that is a folder", "templates.", "a folder, not a file"),
    ],
)
def test_the_damage_names_the_file_and_what_it_is(
    site: Path, tmp_path: Path, attack: str, file: str, why: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    ATTACKS[attack](site, outside)
    damage = load_state(load_config(site))
    assert isinstance(damage, StateDamage)
    assert damage.folder == folder(site)
    assert damage.file.startswith(file)
    assert damage.why.startswith(why)


def test_a_part_above_the_bound_is_damaged_unread(site: Path) -> None:
    path = part(site, "page_files")
    with path.open("r+b") as fh:
        fh.truncate(MAX_STATE_FILE_BYTES + 1)  # sparse: no disk used
    damage = load_state(load_config(site))
    assert isinstance(damage, StateDamage)
    assert damage.why == f"larger than {MAX_STATE_FILE_BYTES // 2**20} MiB"
    assert build(site) == 0


def test_a_fifo_in_place_of_a_part_is_refused_without_waiting(site: Path) -> None:
    path = part(site, "static")
    path.unlink()
    os.mkfifo(path)  # a plain open would wait for a writer forever
    damage = load_state(load_config(site))
    assert isinstance(damage, StateDamage)
    assert damage.why == "not a regular file"


# --- the siblings: known as pushgen's without the state, a user's file never ----------


def test_without_any_state_the_own_siblings_are_pushgens(site: Path) -> None:
    shutil.rmtree(folder(site))
    (site / "._site.state").unlink()
    (site / "pages" / "new.html").write_text(NEW_PAGE)
    assert build(site) == 0
    assert (site / "_site" / "new.html").is_file()


@pytest.mark.parametrize("name", ["docs.css.gz", "site.css.br", "docs.css.zst"])
def test_a_file_of_the_user_beside_them_still_stops_the_build_and_stays(
    site: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    # site.css is too small to be compressed: a site.css.br is no sibling pushgen
    # wrote; a docs.css.gz put there by hand lacks its source's mtime.
    part(site, "outputs").write_bytes(b"")
    mine = site / "_site" / "static" / "css" / name
    mine.write_bytes(b"mine")
    capsys.readouterr()
    assert build(site) == 1
    assert build(site, "--full") == 1
    err = capsys.readouterr().err
    assert f"{mine}: not written by pushgen" in err
    assert mine.read_bytes() == b"mine"


# --- written durably ------------------------------------------------------------------


def test_the_parts_and_their_folder_are_synced_before_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On c19f3c3 no part was synced: a crash could leave a header naming empty parts.
    # The real calls run; they are recorded on the way (paths through /proc/self/fd).
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path, **fds: int | None) -> None:
        events.append(("replace", Path(dst).name))
        real_replace(src, dst, **fds)

    root = write_site(tmp_path / "site", SITE)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    assert build(root) == 0
    monkeypatch.undo()
    named = header(root)["parts"]
    assert isinstance(named, dict)
    parts = set(named.values())
    synced = [path for kind, path in events if kind == "fsync"]
    order = [f"{kind} {path}" for kind, path in events]
    put = {name: order.index(f"replace {name}") for name in parts}
    for name in parts:  # each part's bytes before its name
        tmp = next(p for p in synced if Path(p).name.startswith(f"{name}.") and p.endswith(".tmp"))
        assert order.index(f"fsync {tmp}") < put[name]
    folder_synced = order.index(f"fsync {folder(root)}")
    header_put = order.index("replace ._site.state")
    assert max(put.values()) < folder_synced < header_put
    assert order.index(f"fsync {root}", header_put) > header_put  # the header's name


def test_a_part_left_by_a_killed_save_of_this_process_is_replaced(site: Path) -> None:
    # A save writes each part to NAME.PID.tmp first; a killed save of a process
    # with this pid may have left one (with anything in it). It is replaced, not
    # renamed into place as it is, and none is left behind.
    parts = [p.name for p in folder(site).iterdir()]
    for name in parts:
        (folder(site) / f"{name}.{os.getpid()}.tmp").write_bytes(b"half a part")
    assert build(site, "--full") == 0  # the same parts again, each written anew
    assert isinstance(load_state(load_config(site)), BuildState)
    named = header(site)["parts"]
    assert isinstance(named, dict)
    assert sorted(p.name for p in folder(site).iterdir()) == sorted(named.values())
    assert len(set(parts) & set(named.values())) > len(parts) // 2  # most were the same
