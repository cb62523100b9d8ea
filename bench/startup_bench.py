"""Start-up of the ``pushgen`` command (issue 27's goal: ``pushgen --version`` <= 0.15 s).

Runs, in interleaved rounds, the bare interpreter (the floor no command can beat),
``pushgen --version`` and ``pushgen schema --help`` (one light command's module
loaded), each as a fresh process, and prints the median wall time of each with
its ratio to the floor and to the goal::

    python bench/startup_bench.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL = 0.15
REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "pushgen --version": [sys.executable, "-m", "pushgen", "--version"],
    "pushgen schema --help": [sys.executable, "-m", "pushgen", "schema", "--help"],
}


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, stdout=subprocess.DEVNULL, check=True, timeout=60)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, argv in COMMANDS.items():  # interleaved: a busy moment hits every command
            times[name].append(_time(argv))
    floor = statistics.median(times["python -c pass"])
    print(f"{rounds} interleaved rounds, median wall time of a fresh process")
    for name, measured in times.items():
        median = statistics.median(measured)
        spread = f"{min(measured):.3f}-{max(measured):.3f}"
        print(
            f"{name:24} {median:.3f} s (range {spread})  {median / floor:.2f}x the interpreter"
            f"  {median / GOAL:.2f}x the {GOAL} s goal"
        )


if __name__ == "__main__":
    main()
