"""Worker processes, as the build and the sources start them: how many are worth
starting, and dying with the process that started them.

How many is measured, not guessed: the first items (pages to render, pages to
scan) are done in the starting process and timed (:func:`probe`), and
:func:`choose_workers` weighs that cost against what a pool costs to start and
feed on the cores that are idle. A worker that outlived a killed build would
hold its lock and write into its folders: :func:`die_with_parent`.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "HANDOFF_S",
    "POOL_MARGIN",
    "POOL_START_S",
    "PROBE_MAX",
    "PROBE_MIN",
    "PROBE_SECONDS",
    "Probed",
    "busy_cores",
    "choose_workers",
    "cores",
    "die_with_parent",
    "probe",
]


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    # The process's own symbols hold libc's: no ctypes.util.find_library, which
    # runs `ldconfig -p` in a subprocess (in every worker, as it starts).
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def cores() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# What a pool of forked workers costs beyond the work it shares out, measured on
# the build's shapes (bench/build_bench.py --shape): starting one worker (fork,
# the executor's queues, joining it at the end: 8-10 ms for one or two workers of
# a build process), and the main process's time per page for taking a scan back
# (5-250 us unpickling and rebuilding a scan, less the 3-2,000 us of compacting
# it that the main process then saves; 20 us allows for the queue's thread).
POOL_START_S = 0.010
HANDOFF_S = 0.00002
# A pool must save at least this share of the serial time: the estimate comes
# from a handful of pages, and a loaded machine shares its cores.
POOL_MARGIN = 0.15


def choose_workers(
    pages: int,
    per_page_s: float,
    cores: int,
    *,
    busy: float = 0.0,
    start_s: float = POOL_START_S,
    handoff_s: float = HANDOFF_S,
    margin: float = POOL_MARGIN,
) -> int:
    """How many worker processes make ``pages`` jobs of ``per_page_s`` each fastest; 1 means none.

    A pure function of its inputs: ``per_page_s`` is measured (a few pages done
    serially and timed), ``cores`` is what the process may run on (:func:`cores`),
    ``busy`` how many other processes want a core meanwhile (:func:`busy_cores`).
    Workers go only on idle cores, ``round(cores - busy)`` of them: on cores
    others use, a worker gains little (measured: a 2-core machine at load 4-6
    made ``-j2`` builds slower than ``-j1``) and slows the others down.

    Serially the work takes ``pages * per_page_s``; on ``n`` workers it takes
    ``pages * per_page_s / n``, plus ``n * start_s`` to start them and
    ``pages * handoff_s`` in the main process to hand out and take back. A pool
    is chosen only when it saves more than ``margin`` of the serial time, and no
    more workers than it pays to add.
    """
    idle = min(cores, round(cores - busy))
    if pages < 2 or idle < 2 or per_page_s <= 0:
        return 1
    work = pages * per_page_s
    best, best_time = 1, work * (1 - margin)
    for n in range(2, min(idle, pages) + 1):
        estimate = n * start_s + work / n + pages * handoff_s
        if estimate < best_time:
            best, best_time = n, estimate
    return best


def busy_cores() -> float:
    """Other processes running now: Linux's count of runnable tasks less this one.

    The count of this moment (/proc/loadavg's fourth field), not the load
    average: that trails by a minute, so the workers of the build before would
    count against this one. Elsewhere, the 1-minute load average less this process.
    """
    try:
        with open("/proc/loadavg", "rb") as file:
            running = int(file.read().split()[3].split(b"/")[0])
    except (OSError, IndexError, ValueError):
        try:
            return max(0.0, os.getloadavg()[0] - 1.0)
        except OSError:  # no load average on this system
            return 0.0
    return max(0.0, running - 1.0)


# The first pages are rendered here and timed: at least PROBE_MIN of them after
# the first (which compiles the shared templates, once for every worker too),
# until PROBE_SECONDS or PROBE_MAX. A few milliseconds that are not lost: those
# pages are done.
PROBE_MIN = 4
PROBE_MAX = 32
PROBE_SECONDS = 0.03


@dataclass(frozen=True, slots=True)
class Probed:
    """What :func:`probe` found: items done, CPU seconds of each timed one, busy cores."""

    done: int
    per_item: float
    busy: float


def probe(do: Callable[[int], object], count: int) -> Probed:
    """Do items ``0, 1, ...`` of ``count`` here and time them, to choose the workers for the rest.

    At least PROBE_MIN items after the first (which fills the caches every later
    item shares, once for every worker too: it is not timed), until PROBE_SECONDS
    of CPU or PROBE_MAX. Returns how many were done, the CPU seconds of each timed
    one, and the mean of :func:`busy_cores` sampled with every item.
    """
    if not count:
        return Probed(0, 0.0, busy_cores())
    do(0)
    # CPU time (no thread runs yet): what an item costs, whatever else the machine does.
    started = time.process_time()
    elapsed = 0.0
    done = 1
    busy = [busy_cores()]  # sampled with every item: one moment's count is noisy
    while done < count and done <= PROBE_MAX:
        do(done)
        done += 1
        elapsed = time.process_time() - started
        busy.append(busy_cores())
        if done > PROBE_MIN and elapsed >= PROBE_SECONDS:
            break
    timed = done - 1
    return Probed(done, elapsed / timed if timed else 0.0, sum(busy) / len(busy))
