"""Sharded builds and scans (``--shard K/N``) joined by ``pushgen merge`` (docs/sharding.md).

Each shard runs as its own process, as CI jobs would; the joined manifest must be
the one-machine build's byte for byte, and the shards' outputs together its output.
"""

from __future__ import annotations

import filecmp
import hashlib
import re
import shutil
from pathlib import Path

import pytest

from pushgen.build.shard import Shard, ShardError
from pushgen.cli import main
from pushgen.manifest.compiled import compiled_path
from tests.clients import REPO, run_pushgen
from tests.test_bench_smoke import load

N = 3


def _copy_example(root: Path) -> Path:
    site = root / "site"
    # Without what a build of the checkout left (its output, state and lock).
    shutil.copytree(REPO / "site_example", site, ignore=shutil.ignore_patterns("_site*", "._site*"))
    return site


def _run(cwd: Path, *args: str) -> str:
    done = run_pushgen(cwd, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the in-process runs' relative paths


def _refused(capsys: pytest.CaptureFixture[str], *args: str, code: int = 1) -> str:
    """Run ``pushgen ARGS`` in this process; what it said, once it exited with ``code``."""
    capsys.readouterr()
    assert main(list(args)) == code
    captured = capsys.readouterr()
    return " ".join((captured.out + captured.err).split())  # however the console wrapped it


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _build_shards(site: Path, *, processes: bool = True) -> list[Path]:
    """Build the N shards of ``site``, each in its own process (or in this one); their
    partial manifests."""
    for k in range(1, N + 1):
        if processes:
            _run(site.parent, "build", site.name, "--shard", f"{k}/{N}")
        else:
            assert main(["build", str(site), "--shard", f"{k}/{N}"]) == 0
    return [site / f"push-manifest.shard-{k}-of-{N}.yaml" for k in range(1, N + 1)]


def _sharded_equals_single(tmp_path: Path, site: Path) -> None:
    # The one-machine build (in this process), from a copy: its manifest is the one
    # merge writes into. The shards are separate processes, as CI jobs are.
    single = tmp_path / "single"
    shutil.copytree(site, single)
    assert main(["build", str(single)]) == 0
    parts = _build_shards(site)
    assert main(["merge", *(str(p) for p in parts), "-o", str(site / "push-manifest.yaml")]) == 0
    assert (site / "push-manifest.yaml").read_bytes() == (
        single / "push-manifest.yaml"
    ).read_bytes()
    # And its compiled form, which the runtime, check and explain load.
    assert compiled_path(site / "push-manifest.yaml").read_bytes() == (
        compiled_path(single / "push-manifest.yaml").read_bytes()
    )
    # Pages split, static files in every shard identically: together the one output.
    union: dict[str, bytes] = {}
    pages = []
    for k in range(1, N + 1):
        tree = _tree(site / f"_site.shard-{k}-of-{N}")
        for rel, data in tree.items():
            assert union.setdefault(rel, data) == data, rel
        pages.append({rel for rel in tree if rel.endswith(".html")})
    assert union == _tree(single / "_site")
    assert all(pages), "every shard has pages"
    assert sum(len(p) for p in pages) == len(set().union(*pages))


def test_sharded_example_site_is_the_single_build(tmp_path: Path) -> None:
    _sharded_equals_single(tmp_path, _copy_example(tmp_path))


def test_sharded_generated_site_is_the_single_build(tmp_path: Path) -> None:
    site = load("shapes").SHAPES["default"](tmp_path / "site", 300)
    _sharded_equals_single(tmp_path, site)


def test_sharded_scan_is_the_single_scan(tmp_path: Path) -> None:
    site = _copy_example(tmp_path)
    assert main(["build", "site"]) == 0
    folder = tmp_path / "built"
    shutil.copytree(site / "_site", folder)
    assert main(["scan", "built", "-m", "single.yaml"]) == 0
    for k in range(1, N + 1):  # each in its own process
        _run(tmp_path, "scan", "built", "--shard", f"{k}/{N}", "-m", f"part-{k}.yaml")
    parts = [f"part-{k}.yaml" for k in range(1, N + 1)]
    assert main(["merge", *parts, "-o", "merged.yaml"]) == 0
    assert (tmp_path / "merged.yaml").read_bytes() == (tmp_path / "single.yaml").read_bytes()
    assert filecmp.cmp(folder / "index.html", site / "_site" / "index.html", shallow=False)


def test_merge_keeps_the_rules_of_the_manifest(tmp_path: Path) -> None:
    # In this process: separate ones are proven above.
    site = _copy_example(tmp_path)
    manifest = site / "push-manifest.yaml"
    rules = "rules:\n  - match: /about/\n    remove: [/static/js/analytics.js]\n"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("rules: []\n", rules, 1), encoding="utf-8")
    single = tmp_path / "single"
    shutil.copytree(site, single)
    assert main(["build", str(single)]) == 0
    parts = _build_shards(site, processes=False)
    assert main(["merge", *(str(p) for p in parts), "-o", str(manifest)]) == 0
    assert rules in manifest.read_text(encoding="utf-8")
    assert manifest.read_bytes() == (single / "push-manifest.yaml").read_bytes()


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The partial manifests of the example site in N parts (read, never changed)."""
    return _build_shards(_copy_example(tmp_path_factory.mktemp("parts")), processes=False)


def _forged(tmp_path: Path, part: Path, old: str, new: str) -> Path:
    forged = tmp_path / part.name.replace("shard", "forged")
    text = part.read_text(encoding="utf-8")
    assert old in text
    forged.write_text(text.replace(old, new, 1), encoding="utf-8")
    return forged


def test_merge_refuses_a_missing_or_repeated_part(
    tmp_path: Path, parts: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.yaml"
    said = _refused(capsys, "merge", str(parts[0]), str(parts[2]), "-o", str(out))
    assert f"{parts[0].name}:3:1: error: part 2 is missing of 3" in said
    said = _refused(capsys, "merge", str(parts[0]), str(parts[1]), str(parts[1]), "-o", str(out))
    assert f"{parts[1].name}:3:1: error: part 2 of 3 is given twice" in said
    assert "part 3 is missing of 3" in said
    assert not out.exists()


def test_merge_refuses_parts_of_another_n_or_site(
    tmp_path: Path, parts: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.yaml"
    other_n = _forged(tmp_path, parts[2], "part: 3, of: 3", "part: 3, of: 4")
    said = _refused(capsys, "merge", *(str(p) for p in parts[:2]), str(other_n), "-o", str(out))
    assert f"{other_n.name}:3:1: error: part 3 of 4, but" in said
    other_site = _forged(tmp_path, parts[2], "config: ", "config: 0")
    said = _refused(capsys, "merge", *(str(p) for p in parts[:2]), str(other_site), "-o", str(out))
    assert "built with other settings" in said
    assert not out.exists()


def test_merge_refuses_a_changed_pushgen_yaml(
    tmp_path: Path, parts: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = _copy_example(tmp_path)
    config = site / "pushgen.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("site_name: pushgen", "site_name: other"), encoding="utf-8")
    assert main(["build", "site", "--shard", f"3/{N}"]) == 0
    other = site / f"push-manifest.shard-3-of-{N}.yaml"
    said = _refused(capsys, "merge", *(str(p) for p in parts[:2]), str(other), "-o", "m.yaml")
    assert f"{other.relative_to(tmp_path)}:3:1: error: built with other settings" in said


def test_merge_refuses_overlapping_routes(
    tmp_path: Path, parts: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Part 1's routes presented as part 3's: every one of them is in two parts.
    overlap = _forged(tmp_path, parts[0], "part: 1, of: 3", "part: 3, of: 3")
    said = _refused(capsys, "merge", *(str(p) for p in parts[:2]), str(overlap), "-o", "m.yaml")
    assert "is in two parts (also" in said
    assert f"{overlap.name}:" in said


def test_merge_writes_over_nothing_pushgen_did_not_write(
    tmp_path: Path, parts: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "notes.yaml"
    mine.write_text("title: my notes\n", encoding="utf-8")
    said = _refused(capsys, "merge", *(str(p) for p in parts), "-o", str(mine))
    assert "notes.yaml:1:1: error:" in said
    assert mine.read_text(encoding="utf-8") == "title: my notes\n"
    # Nor is a part a manifest to merge into, nor a plain manifest a part.
    said = _refused(capsys, "merge", *(str(p) for p in parts), "-o", str(parts[0]))
    assert "-o names a partial manifest" in said
    said = _refused(capsys, "merge", str(mine), "-o", "m.yaml")
    assert "not a partial manifest" in said


def test_shard_writes_over_no_manifest_of_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _copy_example(tmp_path)
    before = (site / "push-manifest.yaml").read_bytes()
    mine = site / "mine.yaml"
    mine.write_text("title: my notes\n", encoding="utf-8")
    said = _refused(capsys, "build", "site", "--shard", "1/2", "-m", str(mine))
    assert "mine.yaml exists and is not a partial manifest" in said
    assert mine.read_text(encoding="utf-8") == "title: my notes\n"
    said = _refused(capsys, "build", "site", "--shard", "1/2", "-o", str(site / "_site"), code=2)
    assert "a shard writes one of its own" in said
    assert (site / "push-manifest.yaml").read_bytes() == before
    assert not (site / "_site").exists()


@pytest.mark.parametrize("command", ["check", "serve"])
def test_a_partial_manifest_is_not_served(
    tmp_path: Path, parts: list[Path], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", str(parts[0])]
    if command == "serve":
        built = tmp_path / "built"
        (built / "static").mkdir(parents=True)
        (built / "index.html").write_text("<!doctype html><title>x</title>", encoding="utf-8")
        args = ["serve", "--folder", str(built), "-m", str(parts[0]), "--port", "0"]
    said = _refused(capsys, *args)
    assert ":3:1: error: this is a partial manifest, one part of a sharded build" in said
    assert "pushgen merge PART... -o MANIFEST" in said


@pytest.mark.parametrize("spec", ["0/3", "4/3", "3", "a/b", "1/0"])
def test_shard_spec_names_a_part(spec: str) -> None:
    with pytest.raises(ShardError, match="--shard"):
        Shard.parse(spec)


def test_a_page_stays_in_its_shard_when_others_come() -> None:
    routes = [f"/p/{i}/" for i in range(200)]
    shard = Shard.parse("2/4")
    before = {r for r in routes if shard.owns(r)}
    after = {r for r in [*routes, *(f"/new/{i}/" for i in range(50))] if shard.owns(r)}
    assert before == {r for r in after if not r.startswith("/new/")}
    assert 20 < len(before) < 80  # the hash spreads them
    owners = [sum(Shard(k, 4).owns(r) for k in range(1, 5)) for r in routes]
    assert owners == [1] * len(routes)


def _signed(text: str) -> str:
    """``text`` with its ``routes:`` line's checksum made that of its block (a forged signature)."""
    head, line, body = re.split(r"^(routes:[^\n]*\n)", text, maxsplit=1, flags=re.MULTILINE)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
    return head + re.sub(r"sha256:[0-9a-f]{12}", f"sha256:{digest}", line) + body


_FIRST_ROUTE = re.compile(r"^  /[^\n]*:$", re.MULTILINE)


@pytest.mark.parametrize(
    ("new", "said"),
    [
        # A hand edit inside the routes (the checksum no longer holds): read as YAML.
        ("    - {path: /x.css, as: nonsense}", "error: 'nonsense' is not a Fetch destination"),
        # A signed block with a key no route can be, or one the loader refuses.
        ('  "1abc":', "error: route '1abc' must be a URL path starting with '/'"),
        ('  "/a\\u0001":', "holds a control character (U+0001)"),
        # Outside the routes: an unknown top-level key.
        ("extra: 1", "error: unknown key 'extra'"),
    ],
    ids=["edited", "not-a-path", "control", "unknown-key"],
)
def test_merge_refuses_a_part_wrong_anywhere_at_its_line(
    tmp_path: Path, parts: list[Path], capsys: pytest.CaptureFixture[str], new: str, said: str
) -> None:
    # The routes of a part the writer signed are read by their lines (routes_block.py),
    # everything else as YAML: either way a bad part is refused where it is wrong.
    text = parts[1].read_text(encoding="utf-8")
    first = _FIRST_ROUTE.search(text)
    assert first is not None
    if new.startswith("    - "):  # an entry added under the first route
        text = text[: first.end() + 1] + new + "\n" + text[first.end() + 1 :]
    elif new.startswith("  "):  # the first route's key replaced, and the block signed again
        text = _signed(text[: first.start()] + new + text[first.end() :])
    else:
        text = text.replace("version: 1\n", f"version: 1\n{new}\n", 1)
    forged = tmp_path / "forged.yaml"
    forged.write_text(text, encoding="utf-8")
    line = text.splitlines().index(new) + 1
    out = tmp_path / "m.yaml"
    refused = _refused(capsys, "merge", str(parts[0]), str(forged), str(parts[2]), "-o", str(out))
    assert f"forged.yaml:{line}:" in refused
    assert said in refused
    assert not out.exists()
