"""Start-up of the ``pushgen`` command (issue 27's goals: ``pushgen --version``
<= 0.15 s, the first page rendered <= 0.3 s after start).

Runs, in interleaved rounds, the bare interpreter (the floor no command can beat),
``pushgen --version``, ``pushgen schema --help`` (one light command's module
loaded) and ``pushgen build --full -j1`` of a copy of site_example, each as a
fresh process, and prints the median wall time of each with its ratio to the
floor and to its goal. For the build the time is from process start to the first
page's file written (the earliest modification time of the output's pages; the
build writes them to its staging folder, then renames it), so the product
carries no hook::

    python bench/startup_bench.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PUSHGEN = [sys.executable, "-m", "pushgen"]
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "pushgen --version": [*PUSHGEN, "--version"],
    "pushgen schema --help": [*PUSHGEN, "schema", "--help"],
}
GOALS = {"first page rendered": 0.3}
DEFAULT_GOAL = 0.15


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, stdout=subprocess.DEVNULL, check=True, timeout=60)
    return time.perf_counter() - start


def _first_page(site: Path) -> float:
    """Seconds from starting ``pushgen build --full -j1`` in ``site`` to its first page written.

    The page's own modification time says when it was written (a poller could
    miss it on a busy machine: the whole build can pass between two looks).
    """
    start = time.time()  # the clock of file times
    subprocess.run(
        [*PUSHGEN, "build", "--full", "-j1"],
        cwd=site,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # this checkout's pushgen, run from the site
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=60,
    )
    first = min(page.stat().st_mtime for page in (site / "_site").rglob("*.html"))
    if first < start:
        raise SystemExit(f"pushgen build --full in {site} did not write its pages again")
    return first - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="pushgen-startup-") as folder:
        site = Path(folder) / "site"
        shutil.copytree(REPO / "site_example", site)
        timers: dict[str, Callable[[], float]] = {
            name: partial(_time, argv) for name, argv in COMMANDS.items()
        }
        timers["first page rendered"] = partial(_first_page, site)
        times: dict[str, list[float]] = {name: [] for name in timers}
        for _ in range(rounds):
            for name, timer in timers.items():  # interleaved: a busy moment hits every command
                times[name].append(timer())
    floor = statistics.median(times["python -c pass"])
    print(f"{rounds} interleaved rounds, median wall time of a fresh process")
    for name, measured in times.items():
        median = statistics.median(measured)
        goal = GOALS.get(name, DEFAULT_GOAL)
        spread = f"{min(measured):.3f}-{max(measured):.3f}"
        print(
            f"{name:24} {median:.3f} s (range {spread})  {median / floor:.2f}x the interpreter"
            f"  {median / goal:.2f}x the {goal} s goal"
        )


if __name__ == "__main__":
    main()
