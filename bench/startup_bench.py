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


def environment(pycache: Path | None = None) -> dict[str, str]:
    """The commands' environment: this checkout's pushgen, and bytecode as an install has it.

    With ``PYTHONDONTWRITEBYTECODE`` set (as in the sessions' shells) every run
    compiles pushgen's modules from source again (0.16 s of a build's start); an
    installed pushgen has its ``.pyc`` files. So the bench writes them under
    ``pycache`` (``PYTHONPYCACHEPREFIX``, outside the checkout) and warms them up
    with one round it does not count.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # from the site's folder too
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, check=True, timeout=60)
    return time.perf_counter() - start


def _first_page(site: Path, env: dict[str, str] | None = None) -> float:
    """Seconds from starting ``pushgen build --full -j1`` in ``site`` to its first page written.

    The page's own modification time says when it was written (a poller could
    miss it on a busy machine: the whole build can pass between two looks).
    """
    start = time.time()  # the clock of file times
    subprocess.run(
        [*PUSHGEN, "build", "--full", "-j1"],
        cwd=site,
        env=environment() if env is None else env,
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
        env = environment(Path(folder) / "pycache")
        timers: dict[str, Callable[[], float]] = {
            name: partial(_time, argv, env) for name, argv in COMMANDS.items()
        }
        timers["first page rendered"] = partial(_first_page, site, env)
        for timer in timers.values():  # the warm-up round: bytecode written, not counted
            timer()
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
