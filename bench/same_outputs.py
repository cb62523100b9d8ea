"""Do two versions of pushgen write the same bytes? Builds, scans, checks and exports, compared.

A refactoring that is meant to change no behaviour (issue 24: "manifests,
outputs, exports and error texts byte-identical") is checked here against the
code it started from::

    python bench/same_outputs.py --old dcdc052              # a commit: git archive'd here
    git archive dcdc052 pushgen > /tmp/old.tar
    python bench/same_outputs.py --old /tmp/old.tar         # or that archive
    python bench/same_outputs.py --old /tmp/old --new .     # or a folder holding pushgen/

Each version runs ``python -m pushgen`` (``PYTHONPATH`` set to its tree, so its
own package is imported, not the installed one) on a fresh copy of the same
inputs, in the same folder, so absolute paths in messages and files match:

* ``site_example``: ``pushgen build``, then ``check``;
* ``generated``: a site of ``--pages`` pages (1,000 by default; bench/shapes.py
  ``make_site``), ``pushgen build``, then ``check``;
* ``sphinx``: a folder Sphinx built (tests/generators/builders.py
  ``build_sphinx``, built once for both), ``pushgen scan``, then ``check``;
* ``app``: examples/quart_app, ``pushgen build --app app:app`` through its test
  client, then ``check``;
* ``bad``: a hand-written manifest whose route's hints are over the Link budget,
  with a type no header can carry, and a ``pushgen.yaml`` with an unknown key
  (the warning and error texts, and a failing build's exit code);

and ``pushgen export`` of each in every format either version registers
(``pushgen.export.FORMATS``; the two lists are compared too). ``--only`` picks
some of them (the smoke test runs ``site_example`` alone).

It prints one line per comparison, ``same`` or ``DIFFERENT`` with the first
differing path (or line): each command's exit code, standard output and standard
error, and per input its manifest, its schema, its output folder (every file of
it), every other file of its folder, and each export. It exits 1 on any difference.

Normalised, because they differ between any two runs by design (the rest is
compared byte for byte):

* durations a command prints (``in 1.2 s``, ``312 ms``): ``<time>``;
* the progress heartbeat (``render: 700/1000 pages ...``), printed every few
  seconds of a long phase (pushgen/console.py ``PlainProgress``): left out, as
  its count and number of lines follow the clock;
* the token naming a spare copy of the output (``._site.spare-<16 hex>``, random
  per build): ``<token>``, in paths and in text;
* the build's bookkeeping beside its output is left out: ``._site.lock`` holds
  the building process's id, ``._site.state`` (and the ``._site.state.d/`` files
  named by its hash) a fingerprint of pushgen's own source files and the output
  folders' modification times, ``._site.state.quick`` (the no-change fast path's,
  pushgen/build/nochange.py) the sources' and outputs' stats, and is saved or not
  by the clock tick the build's sources were written in.

The temporary work folder is the same for both versions (``--work``, a fresh
temporary folder by default), so its name needs no normalising.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# "0.42 s", "312 ms", "1.2s": durations a command prints.
_TIMING = re.compile(rb"\b\d+(?:\.\d+)? ?(?:s|ms|seconds)\b")
# The progress heartbeat of a long phase (pushgen/console.py PlainProgress).
_HEARTBEAT = re.compile(rb"^[\w ]+: \d+/(?:\d+|\?) pages \.\.\.\n", re.MULTILINE)
# The random token naming a spare copy of the output (pushgen/build/output.py).
_SPARE = re.compile(r"(\.spare-)[0-9a-f]{16}\b")
# The build's lock and incremental state beside an output folder (see above).
_BOOKKEEPING = re.compile(r"(^|/)\._[^/]*\.(lock|state)(\.d/|\.quick$|$)")
MANIFEST = "push-manifest.yaml"
SCHEMA = "push-manifest.schema.json"


@dataclass(frozen=True, slots=True)
class Case:
    """One input: the folder it is copied to in the run folder, and what is run on it."""

    name: str
    commands: tuple[tuple[str, ...], ...]
    # Where its manifest is, and the --site/-m arguments an export of it takes.
    export_args: tuple[str, ...]


CASES: tuple[Case, ...] = (
    Case(
        "site_example",
        (
            ("build", "site_example", "-j", "1"),
            ("check", f"site_example/{MANIFEST}", "--site", "site_example/_site"),
        ),
        ("--site", "site_example"),
    ),
    Case(
        "generated",
        (
            ("build", "generated", "-j", "1"),
            ("check", f"generated/{MANIFEST}", "--site", "generated/_site"),
        ),
        ("--site", "generated"),
    ),
    Case(
        "sphinx",
        (
            ("scan", "sphinx/html", "-m", f"sphinx/{MANIFEST}"),
            ("check", f"sphinx/{MANIFEST}", "--site", "sphinx/html"),
        ),
        ("-m", f"sphinx/{MANIFEST}", "--site", "sphinx/html"),
    ),
    Case(
        "app",
        (("build", "app", "--app", "app:app"), ("check", f"app/{MANIFEST}")),
        ("--site", "app"),
    ),
    Case(
        "bad",
        (
            ("build", "bad"),
            ("check", f"bad/{MANIFEST}", "--site", "site_example/_site"),
        ),
        ("-m", f"bad/{MANIFEST}", "--site", "site_example"),
    ),
)


@dataclass(frozen=True, slots=True)
class Run:
    """One command's exit code, standard output and standard error (normalised)."""

    argv: tuple[str, ...]
    code: int
    out: bytes
    err: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one version did: its export formats, every command it ran, every file it left."""

    formats: tuple[str, ...]
    runs: tuple[Run, ...]
    files: Mapping[str, bytes]


@dataclass(frozen=True, slots=True)
class Comparison:
    """One line of the report: what was compared, and where it first differs (None: same)."""

    what: str
    first_difference: str | None

    def line(self) -> str:
        if self.first_difference is None:
            return f"same       {self.what}"
        return f"DIFFERENT  {self.what}: {self.first_difference}"


def _budget_manifest() -> str:
    # 300 hints of 60-byte paths: over the 8 KiB Link budget, so check warns and
    # the exports cut; one entry's type holds a character a header cannot carry
    # (not ASCII: the loader refuses a control character before that).
    lines = ["version: 1", "routes:", "  /:"]
    lines += [f"    - {{path: /static/{'x' * 40}-{i:04d}.css, as: style}}" for i in range(300)]
    lines += ["  /bad.html:", '    - {path: /static/a.woff2, as: font, type: "font/wöff2"}']
    return "\n".join(lines) + "\n"


def make_inputs(inputs: Path, cases: Sequence[Case], pages: int) -> None:
    """The inputs both versions start from, made once in ``inputs``."""
    if inputs.exists():
        shutil.rmtree(inputs)
    inputs.mkdir(parents=True)
    names = {case.name for case in cases}
    if names & {"site_example", "bad"}:  # bad's exports read site_example's folder
        shutil.copytree(REPO / "site_example", inputs / "site_example", symlinks=True)
    if "generated" in names:
        from shapes import make_site

        make_site(inputs / "generated", pages)
    if "sphinx" in names:
        from tests.generators.builders import build_sphinx

        build_sphinx(inputs / "sphinx_root")
        (inputs / "sphinx").mkdir()
        shutil.move(inputs / "sphinx_root" / "sphinx-html", inputs / "sphinx" / "html")
        shutil.rmtree(inputs / "sphinx_root")
    if "app" in names:
        app = inputs / "app"
        shutil.copytree(REPO / "examples" / "quart_app", app, symlinks=True)
        # Made by this run, by each version: not carried over from the checkout.
        for made in (MANIFEST, SCHEMA):
            (app / made).unlink(missing_ok=True)
    if "bad" in names:
        bad = inputs / "bad"
        bad.mkdir()
        (bad / MANIFEST).write_text(_budget_manifest(), encoding="utf-8")
        (bad / "pushgen.yaml").write_text("base_path: /blog\nouptut: _site\n", encoding="utf-8")
        (bad / "pages").mkdir()


def old_tree(old: str, work: Path) -> Path:
    """The folder holding the old pushgen/: ``old`` itself, the archive ``old``
    extracted, or the commit ``old`` of this repository archived and extracted."""
    path = Path(old)
    if path.is_dir():
        return path.resolve()
    tree = work / "old-tree"
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    if path.is_file():
        with tarfile.open(path) as archive:
            archive.extractall(tree, filter="data")
        return tree
    archive_bytes = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", old, "pushgen"],
        capture_output=True,
        check=True,
    ).stdout
    tar = work / "old.tar"
    tar.write_bytes(archive_bytes)
    with tarfile.open(tar) as archive:
        archive.extractall(tree, filter="data")
    return tree


def _env(pythonpath: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUSHGEN_")}
    env.update(PYTHONPATH=str(pythonpath), NO_COLOR="1", COLUMNS="100")
    return env


def _formats(pythonpath: Path) -> tuple[str, ...]:
    done = subprocess.run(
        [sys.executable, "-c", "from pushgen.export import FORMATS; print(*FORMATS)"],
        env=_env(pythonpath),
        cwd=pythonpath,
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(done.stdout.split())


def commands(cases: Sequence[Case], formats: Sequence[str]) -> list[tuple[str, ...]]:
    """Every command, in order: each case's own, then its exports in every format."""
    argvs = [argv for case in cases for argv in case.commands]
    for case in cases:
        for fmt in formats:
            root = ("--root", "/srv/www") if fmt == "h2o" else ()  # h2o serves the files
            out = f"exports/{case.name}.{fmt}"
            argvs.append(("export", "-f", fmt, *case.export_args, *root, "-o", out))
    return argvs


def run_version(
    pythonpath: Path, inputs: Path, run: Path, argvs: Sequence[tuple[str, ...]]
) -> tuple[Run, ...]:
    """Run ``argvs`` with the pushgen of ``pythonpath`` in ``run``, a fresh copy of ``inputs``."""
    if run.exists():
        shutil.rmtree(run)
    shutil.copytree(inputs, run, symlinks=True)
    (run / "exports").mkdir()
    runs = []
    for argv in argvs:
        done = subprocess.run(
            [sys.executable, "-m", "pushgen", *argv],
            cwd=run,
            env=_env(pythonpath),
            capture_output=True,
            check=False,
        )
        runs.append(Run(argv, done.returncode, _normalised(done.stdout), _normalised(done.stderr)))
    return tuple(runs)


def files_of(run: Path) -> dict[str, bytes]:
    """Every file under ``run`` (names and bytes normalised), the bookkeeping left out."""
    found: dict[str, bytes] = {}
    for path in sorted(run.rglob("*")):
        rel = path.relative_to(run).as_posix()
        if path.is_symlink() or not path.is_file() or "__pycache__" in path.parts:
            continue
        if not _BOOKKEEPING.search(rel):
            found[_SPARE.sub(r"\1<token>", rel)] = _normalised(path.read_bytes())
    return found


def _normalised(data: bytes) -> bytes:
    data = _TIMING.sub(b"<time>", _HEARTBEAT.sub(b"", data))
    return _SPARE.sub(r"\1<token>", data.decode("latin-1")).encode("latin-1")


def run_all(
    pythonpath: Path, inputs: Path, run: Path, cases: Sequence[Case], formats: Sequence[str]
) -> Outcome:
    runs = run_version(pythonpath, inputs, run, commands(cases, formats))
    return Outcome(_formats(pythonpath), runs, files_of(run))


def _first_line(before: bytes, after: bytes) -> str:
    old, new = before.splitlines(), after.splitlines()
    for number, (a, b) in enumerate(zip(old, new, strict=False), 1):
        if a != b:
            return f"line {number}: {a[:80]!r} -> {b[:80]!r}"
    return f"line {min(len(old), len(new)) + 1}: one ends, the other goes on"


_STREAMS: dict[str, Callable[[Run], bytes]] = {
    "standard output": lambda r: r.out,
    "standard error": lambda r: r.err,
}


def _compare_run(before: Run, after: Run) -> Comparison:
    shown = "pushgen " + " ".join(before.argv) + f" (exit {before.code}, stdout, stderr)"
    if before.code != after.code:
        return Comparison(shown, f"exit code {before.code} -> {after.code}")
    for stream, get in _STREAMS.items():
        if get(before) != get(after):
            return Comparison(shown, f"{stream}, {_first_line(get(before), get(after))}")
    return Comparison(shown, None)


def _group(name: str, cases: Sequence[Case]) -> str:
    """Which comparison the file ``name`` (relative to the run folder) belongs to."""
    top, _, rest = name.partition("/")
    if top == "exports":
        case, _, fmt = rest.partition(".")
        return f"{case}: export {fmt} ({name})"
    if top in {case.name for case in cases}:
        base = rest.rpartition("/")[2]
        if rest.startswith("_site/"):
            return f"{top}: output ({top}/_site/)"
        if base == MANIFEST:
            return f"{top}: manifest ({name})"
        if base == SCHEMA:
            return f"{top}: schema ({name})"
        return f"{top}: every other file under {top}/"
    return f"other files ({top})"


def _compare_files(
    old: Mapping[str, bytes], new: Mapping[str, bytes], cases: Sequence[Case]
) -> list[Comparison]:
    groups: dict[str, list[str]] = {}
    for name in sorted(set(old) | set(new)):
        groups.setdefault(_group(name, cases), []).append(name)
    found = []
    for what, names in groups.items():
        first = None
        for name in names:
            if name not in new:
                first = f"{name}: written by the old version only"
            elif name not in old:
                first = f"{name}: written by the new version only"
            elif old[name] != new[name]:
                first = f"{name}: {_first_line(old[name], new[name])}"
            if first is not None:
                break
        count = f", {len(names)} files" if len(names) > 1 else ""
        found.append(Comparison(what + count, first))
    return found


def compare(old: Outcome, new: Outcome, cases: Sequence[Case]) -> list[Comparison]:
    """Every comparison of ``new`` against ``old``, in the order they are printed."""
    formats = Comparison(
        f"export formats ({', '.join(old.formats)})",
        None if old.formats == new.formats else f"{old.formats} -> {new.formats}",
    )
    runs = [_compare_run(a, b) for a, b in zip(old.runs, new.runs, strict=True)]
    return [formats, *runs, *_compare_files(old.files, new.files, cases)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--old", required=True, help="the old pushgen: a folder holding pushgen/, a tar "
        "from git archive, or a commit of this repository",
    )  # fmt: skip
    parser.add_argument("--new", type=Path, default=REPO, help="tree holding the new pushgen/")
    parser.add_argument("--work", type=Path, help="a folder of its own [a temporary one]")
    parser.add_argument("--pages", type=int, default=1000, help="pages of the generated site")
    names = [case.name for case in CASES]
    parser.add_argument("--only", action="append", choices=names, help="these inputs only [all]")
    args = parser.parse_args(argv)
    cases = [case for case in CASES if args.only is None or case.name in args.only]
    with tempfile.TemporaryDirectory(prefix="same-outputs-") as tmp:
        work = (args.work or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        old_path, new_path = old_tree(args.old, work), args.new.resolve()
        formats = sorted(set(_formats(old_path)) | set(_formats(new_path)))
        make_inputs(work / "inputs", cases, args.pages)
        old = run_all(old_path, work / "inputs", work / "run", cases, formats)
        new = run_all(new_path, work / "inputs", work / "run", cases, formats)
    found = compare(old, new, cases)
    for comparison in found:
        print(comparison.line())
    different = sum(c.first_difference is not None for c in found)
    print(f"{len(found)} comparisons, {different} DIFFERENT")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
