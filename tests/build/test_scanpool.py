"""scanpool: a source's pages over forked workers, with one process's result."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pushgen.build.scanpool import map_pages
from pushgen.processes import PROBE_MIN
from tests.clients import REPO


def test_outcomes_come_back_in_order_from_a_closure_run_in_other_processes() -> None:
    offset = 1000  # a closure: handed to the workers by fork, never pickled
    parent = os.getpid()

    def work(n: int) -> tuple[int, bool]:
        return n + offset, os.getpid() != parent

    outcomes = list(map_pages(work, list(range(100)), 2))
    assert [n for n, _ in outcomes] == list(range(1000, 1100))
    assert all(elsewhere for _, elsewhere in outcomes)
    assert all(not elsewhere for _, elsewhere in map_pages(work, list(range(10)), 1))


def test_an_error_in_a_worker_reaches_the_caller() -> None:
    def work(n: int) -> int:
        if n == 57:
            raise LookupError(f"page {n}")
        return n

    with pytest.raises(LookupError, match="page 57"):
        list(map_pages(work, list(range(100)), 2))


def test_without_jobs_cheap_pages_stay_here_and_the_order_is_kept() -> None:
    parent = os.getpid()

    def work(n: int) -> tuple[int, bool]:
        return n, os.getpid() != parent

    # Microseconds a page: no pool pays for it (choose_workers, whatever the load).
    outcomes = list(map_pages(work, list(range(300)), None))
    assert outcomes == [(n, False) for n in range(300)]
    assert list(map_pages(work, [], None)) == []


def test_without_jobs_the_first_pages_are_done_here_and_the_rest_as_chosen() -> None:
    parent = os.getpid()

    def work(n: int) -> tuple[int, bool]:
        deadline = time.process_time() + 0.002  # 2 ms of CPU a page: a pool may pay
        while time.process_time() < deadline:
            pass
        return n, os.getpid() != parent

    outcomes = list(map_pages(work, list(range(200)), None))
    assert [n for n, _ in outcomes] == list(range(200))
    here = [n for n, elsewhere in outcomes if not elsewhere]
    assert here[: PROBE_MIN + 1] == list(range(PROBE_MIN + 1))  # the timed pages


_SCAN_FOREVER = """
import time
from pushgen.build.scanpool import map_pages

def work(n):
    if n == 0:
        print("working", flush=True)
    time.sleep(0.05)
    return n

for _ in map_pages(work, list(range(100_000)), 2):
    pass
"""


def _group(pgid: int) -> list[int]:
    """Live processes of the process group ``pgid`` (zombies hold nothing)."""
    alive = []
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(stat[2]) == pgid and stat[0] not in ("Z", "X"):
            alive.append(pid)
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_workers_die_with_a_killed_scan() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", _SCAN_FOREVER],
        env=env,
        stdout=subprocess.PIPE,
        start_new_session=True,  # its workers can be found by its group
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"working\n"  # a worker has started
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        # The kernel kills them (PR_SET_PDEATHSIG); on a busy machine that takes a
        # moment: a generous deadline, and nothing here kills them.
        deadline = time.monotonic() + 60
        while (alive := _group(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive == [], "scan workers outlived the killed scan"
    finally:
        for pid in _group(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
