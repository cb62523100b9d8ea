"""Do two versions of pushgen write the same bytes? Builds, scans, checks and exports, compared.

A refactoring that is meant to change no behaviour (issue 24: "manifests,
outputs, exports and error texts byte-identical") is checked here against the
code it started from::

    git -C /work/main archive COMMIT pushgen | tar -x -C /tmp/old
    python bench/same_outputs.py --old /tmp/old --new . --work /tmp/same

Each version runs ``python -m pushgen`` (with ``PYTHONPATH`` set to its tree)
on fresh copies of the same inputs, in the same folder, so absolute paths in
messages match:

* site_example, ``pushgen build``;
* a generated site (bench/shapes.py ``make_site``, ``--pages``, 200 by default);
* a Sphinx site (tests/generators/builders.py ``build_sphinx``,
  built once for both), ``pushgen scan``;
* examples/quart_app, ``pushgen build`` (its pushgen.yaml names the app);
* a hand-written manifest whose route's hints are over the Link budget, with a
  type no header can carry, and a ``pushgen.yaml`` with an unknown key (the
  warning and error texts);

then ``pushgen check`` and ``pushgen export`` in every format of each. Every
file under the work folder, and each command's exit code, standard output and
standard error, must be the same bytes for both; the differences are listed.
Timings printed by a command (``in 1.2 s``) are masked, and the build's own
bookkeeping beside its output is left out: ``._site.lock`` holds the building
process's id, ``._site.state`` (and the ``._site.state.d/`` files named by its
key) a fingerprint of pushgen's own source and the output folders' modification
times, which differ between any two builds and any two versions by design.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FORMATS = ("netlify", "cloudflare", "firebase", "nginx", "h2o", "apache", "json", "push-manifest")
# "0.42 s", "312 ms", "1.2s": the only bytes two runs may differ in.
_TIMING = re.compile(rb"\b\d+(?:\.\d+)? ?(?:s|ms|seconds)\b")
# The build's lock and incremental state beside an output folder (see above).
_BOOKKEEPING = re.compile(r"(^|/)\._[^/]*\.(lock|state)(\.d/|$)")


@dataclass(frozen=True, slots=True)
class Run:
    """One command's exit code, standard output and standard error (timings masked)."""

    argv: tuple[str, ...]
    code: int
    out: bytes
    err: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one version did: every command it ran and every file it left in the work folder."""

    runs: tuple[Run, ...]
    files: Mapping[str, bytes]


def _budget_manifest() -> str:
    # 300 hints of 60-byte paths: over the 8 KiB Link budget, so check warns and
    # the exports cut; one entry's type holds a character a header cannot carry
    # (not ASCII: the loader refuses a control character before that).
    lines = ["version: 1", "routes:", "  /:"]
    lines += [f"    - {{path: /static/{'x' * 40}-{i:04d}.css, as: style}}" for i in range(300)]
    lines += ["  /bad.html:", '    - {path: /static/a.woff2, as: font, type: "font/wöff2"}']
    return "\n".join(lines) + "\n"


def _inputs(work: Path, pages: int) -> Path:
    """The inputs both versions start from, made once under ``work/inputs``."""
    from shapes import make_site

    from tests.generators.builders import build_sphinx

    inputs = work / "inputs"
    if inputs.exists():
        shutil.rmtree(inputs)
    shutil.copytree(REPO / "site_example", inputs / "site_example")
    make_site(inputs / "generated", pages)
    shutil.copytree(REPO / "examples" / "quart_app", inputs / "quart_app")
    build_sphinx(inputs / "sphinx_root")
    shutil.move(inputs / "sphinx_root" / "sphinx-html", inputs / "sphinx")
    shutil.rmtree(inputs / "sphinx_root")
    bad = inputs / "bad"
    bad.mkdir()
    (bad / "push-manifest.yaml").write_text(_budget_manifest(), encoding="utf-8")
    (bad / "pushgen.yaml").write_text("base_path: /blog\nouptut: _site\n", encoding="utf-8")
    (bad / "pages").mkdir()
    return inputs


def _commands() -> list[tuple[str, ...]]:
    """Every command, run in the work folder ``run/`` (a copy of the inputs)."""
    commands: list[tuple[str, ...]] = [
        ("build", "site_example", "-j", "1"),
        ("build", "generated", "-j", "1"),
        ("scan", "sphinx", "-m", "sphinx.yaml"),
        ("build", "quart_app"),
        ("build", "bad"),
        ("check", "site_example/push-manifest.yaml", "--site", "site_example/_site"),
        ("check", "generated/push-manifest.yaml", "--site", "generated/_site"),
        ("check", "quart_app/push-manifest.yaml"),
        ("check", "sphinx.yaml", "--site", "sphinx"),
        ("check", "bad/push-manifest.yaml", "--site", "site_example/_site"),
    ]
    sites = {
        "site_example": ("--site", "site_example"),
        "generated": ("--site", "generated"),
        "quart_app": ("--site", "quart_app"),
        "sphinx": ("-m", "sphinx.yaml", "--site", "sphinx"),
        "bad": ("-m", "bad/push-manifest.yaml", "--site", "site_example"),
    }
    for name, site in sites.items():
        for fmt in FORMATS:
            root = ("--root", "/srv/www") if fmt == "h2o" else ()  # h2o serves the files
            commands.append(("export", "-f", fmt, *site, *root, "-o", f"exports/{name}.{fmt}"))
    return commands


def _run_version(pythonpath: Path, inputs: Path, run: Path) -> Outcome:
    if run.exists():
        shutil.rmtree(run)
    shutil.copytree(inputs, run, symlinks=True)
    (run / "exports").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUSHGEN_")}
    env.update(PYTHONPATH=str(pythonpath), NO_COLOR="1", COLUMNS="100")
    runs: list[Run] = []
    for argv in _commands():
        done = subprocess.run(
            [sys.executable, "-m", "pushgen", *argv], cwd=run, env=env, capture_output=True
        )
        runs.append(Run(argv, done.returncode, _masked(done.stdout), _masked(done.stderr)))
    files = {
        str(path.relative_to(run)): path.read_bytes()
        for path in sorted(run.rglob("*"))
        if path.is_file()
        and not path.is_symlink()
        and "__pycache__" not in path.parts
        and not _BOOKKEEPING.search(str(path.relative_to(run)))
    }
    return Outcome(tuple(runs), files)


def _masked(text: bytes) -> bytes:
    return _TIMING.sub(b"<time>", text)


def differences(old: Outcome, new: Outcome) -> list[str]:
    """Every way ``new`` differs from ``old``: a command's result, a file missing or changed."""
    found: list[str] = []
    for before, after in zip(old.runs, new.runs, strict=True):
        shown = "pushgen " + " ".join(before.argv)
        for what, get in _FIELDS.items():
            if get(before) != get(after):
                found.append(f"{shown}: {what} differs: {get(before)!r} -> {get(after)!r}")
    for name in sorted(set(old.files) | set(new.files)):
        if name not in new.files:
            found.append(f"{name}: written by the old version only")
        elif name not in old.files:
            found.append(f"{name}: written by the new version only")
        elif old.files[name] != new.files[name]:
            found.append(f"{name}: differs")
    return found


_FIELDS: dict[str, Callable[[Run], object]] = {
    "exit code": lambda r: r.code,
    "standard output": lambda r: r.out,
    "standard error": lambda r: r.err,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="tree holding the old pushgen/")
    parser.add_argument("--new", type=Path, default=REPO, help="tree holding the new pushgen/")
    parser.add_argument("--work", type=Path, required=True, help="a folder of its own to work in")
    parser.add_argument("--pages", type=int, default=200, help="pages of the generated site")
    parser.add_argument("--list", action="store_true", help="also each command and its exit code")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    inputs = _inputs(work, args.pages)
    old = _run_version(args.old.resolve(), inputs, work / "run")
    new = _run_version(args.new.resolve(), inputs, work / "run")
    found = differences(old, new)
    codes = sorted({r.code for r in old.runs})
    print(
        f"{len(old.runs)} commands (exit codes {codes}), {len(old.files)} files and "
        f"{sum(map(len, old.files.values())):,} bytes compared: {len(found)} differences"
    )
    for line in found:
        print("  " + line)
    if args.list:
        for run in new.runs:
            last = (run.err.strip().splitlines() or [b""])[-1].decode(errors="replace")
            print(f"  exit {run.code}: pushgen {' '.join(run.argv)}  | {last[:100]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
