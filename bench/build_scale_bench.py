"""Time and peak memory per page of a full build at two sizes (issue 27, "100,000 pages").

Makes the site of bench/shapes.py's ``default`` shape at ``--small`` and ``--large``
pages and builds each once, a fresh ``pushgen build -j1`` under ``/usr/bin/time -v``
(one process: its own wall time and peak resident memory). Prints both, per page, and
the ratios large/small; the goal is linear (time per page and peak RSS per page no
higher at the large size) and a peak RSS of at most 1 GB. With ``--trace``, the large
build runs once more in-process under :mod:`tracemalloc`: the traced memory of each
phase, and the largest holders near the build's peak (where to look when the goal is
missed).

    python bench/build_scale_bench.py --small 10000 --large 100000
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shapes import make_site

REPO = Path(__file__).resolve().parents[1]
_GOAL_RSS = 1 << 30


@dataclass(frozen=True, slots=True)
class Run:
    """One full build: its size, wall and CPU (user + system) seconds, peak resident bytes."""

    pages: int
    seconds: float
    cpu: float
    peak_rss: int


def _wall(text: str) -> float:
    """The seconds of ``/usr/bin/time -v``'s "Elapsed (wall clock) time" ([h:]m:s)."""
    found = re.search(r"Elapsed \(wall clock\) time \([^)]*\): ([0-9:.]+)", text)
    if found is None:
        raise SystemExit(f"no wall time in /usr/bin/time's report:\n{text}")
    seconds = 0.0
    for part in found.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def build(work: Path, pages: int) -> Run:
    """Make and build the site of ``pages`` pages under ``work``, once; the run."""
    site = make_site(work / f"site-{pages}", pages)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "pushgen", "build", str(site), "-j1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the build of {pages} pages failed:\n{done.stderr[-4000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): ([0-9]+)", done.stderr)
    if rss is None:
        raise SystemExit(f"no peak RSS in /usr/bin/time's report:\n{done.stderr}")
    cpu = sum(
        float(m.group(1))
        for m in re.finditer(r"(?:User|System) time \(seconds\): ([0-9.]+)", done.stderr)
    )
    return Run(pages, _wall(done.stderr), cpu, int(rss.group(1)) * 1024)


# Run in the traced build's process: the traced memory at the end of each phase (and
# its peak within it), and a snapshot taken by a thread each time the traced memory
# grew by 4% since the last one, so the last is taken near the build's peak, not at
# its end (where the manifest's text and the compiled form are gone).
_TRACE = """
import contextlib, sys, threading, time, tracemalloc
tracemalloc.start(8)
from pushgen.build import pipeline
from pushgen.cli import main
phase, log, best, done = pipeline.PhaseClock.phase, [], [0, None, ""], threading.Event()
@contextlib.contextmanager
def timed(self, name, total=None):
    tracemalloc.reset_peak()
    with phase(self, name, total):
        yield
    log.append((name, *tracemalloc.get_traced_memory()))
pipeline.PhaseClock.phase = timed
def watch():
    while not done.wait(0.2):
        current = tracemalloc.get_traced_memory()[0]
        if current > best[0] * 1.04:
            best[:] = [current, tracemalloc.take_snapshot(), log[-1][0] if log else ""]
threading.Thread(target=watch, daemon=True).start()
code = main(["build", sys.argv[1], "-j1", "-q"])
done.set()
for name, current, peak in log:
    print(f"{name:12s} {current / 2**20:7.1f} MB at its end, {peak / 2**20:7.1f} MB its peak")
print(f"snapshot at {best[0] / 2**20:.1f} MB traced, after phase {best[2]!r}:")
left_out = (tracemalloc.__file__, "<frozen importlib._bootstrap*>")  # the code itself
snapshot = best[1].filter_traces([tracemalloc.Filter(False, name) for name in left_out])
for stat in snapshot.statistics("traceback")[:15]:
    where = " <- ".join(str(frame) for frame in reversed(list(stat.traceback)[-4:]))
    print(f"{stat.size / 2**20:8.2f} MB {stat.count:9d} blocks  {where}")
sys.exit(code)
"""


def trace(work: Path, pages: int) -> str:
    """Traced memory by phase, and the largest holders near the peak of an
    in-process build of ``pages`` pages (tracemalloc, by traceback)."""
    site = make_site(work / f"traced-{pages}", pages)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _TRACE, str(site)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=10000)
    parser.add_argument("--large", type=int, default=100000)
    parser.add_argument(
        "--trace",
        action="store_true",
        help="tracemalloc the large build: by phase, holders at the peak",
    )
    args = parser.parse_args(argv)
    load = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="build-scale-") as tmp:
        small, large = build(Path(tmp), args.small), build(Path(tmp), args.large)
        traced = trace(Path(tmp), args.large) if args.trace else ""
    end = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average {' '.join(load)} at the start, {' '.join(end)} at the end")
    print("| pages | wall (s) | CPU (s) | CPU ms per page | peak RSS (MB) | KB per page |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in (small, large):
        print(
            f"| {run.pages} | {run.seconds:.1f} | {run.cpu:.1f} | {1000 * run.cpu / run.pages:.2f}"
            f" | {run.peak_rss / 2**20:.0f} | {run.peak_rss / 1024 / run.pages:.1f} |"
        )
    per_page = (large.cpu / large.pages) / (small.cpu / small.pages)
    print(
        f"CPU time per page {per_page:.2f}x at {large.pages} pages against {small.pages};"
        f" peak RSS {large.peak_rss / small.peak_rss:.2f}x for {large.pages / small.pages:.0f}x"
        f" the pages; goal: time per page <= 1.0x, peak RSS <= 1 GB"
        f" ({'met' if large.peak_rss <= _GOAL_RSS else 'missed'})"
    )
    if traced:
        print(traced, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
