"""scanpool: a source's pages over forked workers, with one process's result."""

from __future__ import annotations

import os

import pytest

from pushgen.build.sources.scanpool import SCAN_PARALLEL_PAGES, map_pages, scan_jobs
from pushgen.build.workers import cores


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


def test_a_pool_only_where_it_pays_unless_asked() -> None:
    assert scan_jobs(SCAN_PARALLEL_PAGES - 1, None) == 1
    assert scan_jobs(SCAN_PARALLEL_PAGES, None) == cores()
    assert scan_jobs(10, 3) == 3 and scan_jobs(100_000, 1) == 1
