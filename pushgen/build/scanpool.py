"""A source's pages over worker processes, with the result a single process gives.

``pushgen scan`` reads, scans and resolves each page of a built folder on its
own: the work per page is the same in any process, and only each page's
manifest entries and warnings come back, in page order. Each worker keeps its
own caches (the stylesheets and modules it has followed), so what a cache would
change, the first page a warning is met on, is the same as in one process once
the results are merged in page order and repeated warnings dropped (as
``finish_manifest`` does for every source).

The workers are forked (they share the walked folder and the imported modules
at no cost; nothing but the page numbers goes out), die with the parent
(prctl PR_SET_PDEATHSIG, as the build's workers), and the pool is only started
where it pays: as the build does (pushgen/build/workers.py), the first pages are
done here and timed, and :func:`~pushgen.build.workers.choose_workers` weighs
that cost against what a pool costs on the cores that are idle.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..processes import choose_workers, cores, die_with_parent, probe

__all__ = ["map_pages"]

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


@dataclass(frozen=True, slots=True)
class _Probed(Generic[Outcome]):
    """The processes to do the rest with, and the outcomes of the items done to decide."""

    jobs: int
    outcomes: list[Outcome]


def _probe(work: Callable[[Item], Outcome], items: Sequence[Item]) -> _Probed[Outcome]:
    """Do and time the first items here; the number of processes for the rest, and their outcomes."""
    outcomes: list[Outcome] = []
    probed = probe(lambda index: outcomes.append(work(items[index])), len(items))
    jobs = choose_workers(len(items) - probed.done, probed.per_item, cores(), busy=probed.busy)
    return _Probed(jobs, outcomes)


# The work of this worker process, set once when the pool forks it.
_work: Callable[[Any], Any] | None = None


def _init_worker(work: Callable[[Any], Any], parent: int) -> None:
    global _work
    die_with_parent()
    if os.getppid() != parent:
        # The parent died between the fork and the prctl: no signal will come, and
        # a worker left waiting for chunks would live on (seen under load).
        os._exit(1)
    _work = work


def _run_chunk(chunk: Sequence[Any]) -> list[Any]:
    assert _work is not None
    return [_work(item) for item in chunk]


def map_pages(
    work: Callable[[Item], Outcome], items: Sequence[Item], jobs: int | None
) -> Iterator[Outcome]:
    """``work(item)`` for each of ``items``, in order: here, or on ``jobs`` forked workers.

    ``jobs`` None chooses: the first items are done here and timed, and the
    build's cost model says whether a pool pays for the rest, and how many
    workers (forked then, with what those items put in the caches).
    ``work`` is handed to the workers by fork, not pickled (a closure over the
    source is fine); the items and outcomes are pickled, so keep them small.
    Without fork (Windows) the work is done here.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        jobs = 1
    elif jobs is None:
        if cores() < 2:
            jobs = 1
        else:
            probed = _probe(work, items)
            jobs = probed.jobs
            yield from probed.outcomes
            items = items[len(probed.outcomes) :]
    if jobs <= 1 or len(items) < 2:
        yield from map(work, items)
        return
    # Several chunks per worker even out pages of different cost; each chunk's
    # outcomes come back in one message.
    size = max(16, len(items) // (jobs * 8))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(work, os.getpid()),
    )
    try:
        for outcomes in pool.map(_run_chunk, chunks):
            yield from outcomes
    finally:
        # Chunks not started are dropped when the caller stops early (an error, ^C).
        pool.shutdown(wait=True, cancel_futures=True)
