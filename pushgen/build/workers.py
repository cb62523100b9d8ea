"""Rendering pages: in this process, or on every core in a process pool.

Large sites render on every core: pages are split into chunks, each worker
renders, writes and scans its pages, and sends back only the scan results.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..config import SiteConfig
from ..errors import Diagnostic
from ..model import ScanResult
from ..scan.html import scan_html
from ..urls import document_url
from .render import Page, Renderer, RenderError
from .staging import held_locks

# Below this many pages a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200

Progress = Callable[[int, int], None]


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        pr_set_pdeathsig = 1
        ctypes.CDLL(libc_name, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


_worker_renderer: Renderer | None = None
_worker_staging: Path | None = None


def _init_worker(config: SiteConfig, pages: list[Page], staging: Path | None) -> None:
    global _worker_renderer, _worker_staging
    # A forked worker shares the build lock's open file; closing its copy means
    # only the build holds the lock. And a worker must not outlive a killed build.
    for fd in held_locks:
        with contextlib.suppress(OSError):
            os.close(fd)
    _die_with_parent()
    _worker_renderer = Renderer(config, pages)
    _worker_staging = staging


PageOutcome = tuple[int, ScanResult | None, Diagnostic | None]


def _render_chunk(chunk: list[tuple[int, Page]]) -> list[PageOutcome]:
    assert _worker_renderer is not None
    return [_render_one(_worker_renderer, _worker_staging, index, page) for index, page in chunk]


def _write(target: Path, data: bytes) -> None:
    try:
        _write_new(target, data)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_new(target, data)


def _write_new(target: Path, data: bytes) -> None:
    # A new file (O_EXCL, see _copy_file), written without Python's file objects.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _render_one(
    renderer: Renderer,
    staging: Path | None,
    index: int,
    page: Page,
    writer: Callable[[Path, bytes], object] = _write,
) -> PageOutcome:
    try:
        rendered = renderer.render(page)
    except RenderError as exc:
        return index, None, exc.diagnostic
    if staging is not None:
        writer(staging / page.output, rendered.data)
    scan = scan_html(rendered.data, document_url(page.route), filename=page.display)
    if rendered.diagnostics:  # found in the page's templates (undefined names, bytes replaced)
        scan = replace(scan, diagnostics=(*rendered.diagnostics, *scan.diagnostics))
    return index, scan, None


def cores() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# What a pool of forked workers costs beyond the work it shares out, measured on
# the build's shapes (bench/build_bench.py, docs/performance.md): starting one
# worker (fork, its first chunk's hand-off, joining it at the end), and the main
# process's time per page for sending a chunk out and taking the scan back.
POOL_START_S = 0.012
HANDOFF_S = 0.00004
# A pool must save at least this share of the serial time: the estimate comes
# from a handful of pages, and a loaded machine shares its cores.
POOL_MARGIN = 0.15


def choose_workers(
    pages: int,
    per_page_s: float,
    cores: int,
    *,
    start_s: float = POOL_START_S,
    handoff_s: float = HANDOFF_S,
    margin: float = POOL_MARGIN,
) -> int:
    """How many worker processes make ``pages`` jobs of ``per_page_s`` each fastest; 1 means none.

    A pure function of its inputs: ``per_page_s`` is measured (a few pages done
    serially and timed), ``cores`` is what the process may run on (:func:`cores`).
    Serially the work takes ``pages * per_page_s``; on ``n`` workers it takes
    ``n * start_s`` to start them, ``pages * per_page_s / n`` to do, and
    ``pages * handoff_s`` in the main process to hand out and take back. A pool
    is chosen only when it saves more than ``margin`` of the serial time, and no
    more workers than it pays to add.
    """
    if pages < 2 or cores < 2 or per_page_s <= 0:
        return 1
    serial = pages * per_page_s
    best, best_time = 1, serial * (1 - margin)
    for n in range(2, min(cores, pages) + 1):
        estimate = n * start_s + serial / n + pages * handoff_s
        if estimate < best_time:
            best, best_time = n, estimate
    return best


def _render_serially(
    renderer: Renderer,
    staging: Path | None,
    indexed: list[tuple[int, Page]],
    write: Callable[[Path, bytes], object],
    progress: Progress | None,
) -> list[PageOutcome]:
    total = len(indexed)
    outcomes = []
    for done, (index, page) in enumerate(indexed, 1):
        outcomes.append(_render_one(renderer, staging, index, page, write))
        if progress and (done % 50 == 0 or done == total):
            progress(done, total)
    return outcomes


def render_pages(
    config: SiteConfig,
    all_pages: list[Page],
    pages: list[Page],
    staging: Path | None,
    jobs: int,
    progress: Progress | None,
    side_work: Callable[[], None],
) -> list[PageOutcome]:
    """Render ``pages`` (``url_for`` knows ``all_pages``); outcomes index into ``pages``.

    ``side_work`` (copying static files: I/O, and sendfile releases the GIL) runs
    while pages render: in a thread beside a serial render, or in this process
    once the workers are forked (forking while a thread runs could deadlock them).
    """
    total = len(pages)
    indexed = list(enumerate(pages))
    if jobs <= 1 or total < PARALLEL_THRESHOLD:
        if staging is not None:
            for directory in sorted({(staging / p.output).parent for p in pages}):
                directory.mkdir(parents=True, exist_ok=True)
        renderer = Renderer(config, all_pages)
        if cores() < 2:
            # On one core a thread for the I/O only adds switches between the two
            # (0.35 s of a 2.4 s build of 1,000 pages under taskset): all in turn.
            side_work()
            return _render_serially(renderer, staging, indexed, _write_new, progress)
        # Writing is I/O too: pages go to the same thread as the static files, so
        # rendering never waits on the disk. Directories are made up front (no two
        # threads race for them).
        io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pushgen-io")
        pending: list[Future[object]] = [io.submit(side_work)]

        def write(target: Path, data: bytes) -> None:
            pending.append(io.submit(_write_new, target, data))

        try:
            outcomes = _render_serially(renderer, staging, indexed, write, progress)
        finally:
            io.shutdown(wait=True)
        for future in pending:
            future.result()  # re-raise a failed write or copy here
        return outcomes
    # Several chunks per worker evens out pages of different cost; fork shares the
    # already-imported modules with the workers at no cost.
    chunk_size = max(16, total // (jobs * 8))
    chunks = [indexed[i : i + chunk_size] for i in range(0, total, chunk_size)]
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    outcomes = []
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(config, all_pages, staging),
    ) as pool:
        results = pool.map(_render_chunk, chunks)  # submits every chunk: workers are forked
        side_work()
        for result in results:
            outcomes.extend(result)
            if progress:
                progress(len(outcomes), total)
    return outcomes
