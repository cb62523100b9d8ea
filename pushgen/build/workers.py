"""Rendering pages: in this process, or on several cores in a process pool.

How many workers is measured, not guessed: the build renders its first pages
here and times them, and :func:`~pushgen.processes.choose_workers` weighs that
cost against what a pool costs to start and feed (pushgen/processes.py). A pool is forked after those pages, so workers
inherit the renderer with its compiled templates; they get chunks of page
indexes, render, write and scan their pages, trace their fonts on the scan's
parse, and send back only the scans and the font verdicts.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable, Collection, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, NamedTuple, NoReturn, TypeVar, cast

from ..config import SiteConfig
from ..errors import Diagnostic
from ..model import ScanResult
from ..processes import choose_workers, cores, die_with_parent, probe
from ..scan.css import scan_css_file
from ..scan.html import scan_html_document
from ..urls import document_url
from .incremental import CompactScan, scan_tuple
from .output import held_locks
from .page_fonts import PageFontTracer, TracedFonts
from .render import Page, Renderer, RenderError

Progress = Callable[[int, int], None]
T = TypeVar("T")


# What a forked worker renders: set in the build before the fork (the workers
# inherit them), or by _init_worker where processes are spawned.
_worker_renderer: Renderer | None = None
_worker_pages: list[Page] = []
_worker_staging: Path | None = None
_worker_side: Callable[[], object] | None = None  # see _SideWork.submit
# Traces each page's fonts on the scan's parse (None: fonts are not traced); set by
# render_pages for the render, inherited by forked workers, passed to spawned ones.
_tracer: PageFontTracer | None = None


def _detach() -> None:
    """In a forked process: let go of the build's lock and die with the build."""
    # A forked process shares the build lock's open file; closing its copy means
    # only the build holds the lock. And it must not outlive a killed build.
    for fd in held_locks:
        with contextlib.suppress(OSError):
            os.close(fd)
    die_with_parent()


# What a spawned worker is given to render: the site, its pages, the pages to
# render, the staging folder and the font tracer.
_Spawned = tuple[SiteConfig, list[Page], list[Page], Path | None, PageFontTracer | None]


def _init_worker(spawned: _Spawned | None) -> None:
    global _worker_renderer, _worker_pages, _worker_staging, _tracer
    _detach()
    if spawned is not None:
        config, all_pages, pages, staging, _tracer = spawned
        _worker_renderer = Renderer(config, all_pages)
        _worker_pages, _worker_staging = pages, staging


class PageOutcome(NamedTuple):
    """A page's position in the build's list, its scan, or the error that stopped it.

    A named tuple, not a dataclass: outcomes come back from the workers pickled,
    thousands at a time, and the scan from a worker is the scan as plain tuples
    (they pickle several times faster than the dataclasses).
    """

    position: int  # in the build's list of pages (not "index": a tuple method)
    scan: ScanResult | CompactScan | None
    error: Diagnostic | None
    # Its font verdicts, traced on the scan's parse (page_fonts.py PageFontTracer):
    # the build parses each page once (issue 27).
    fonts: TracedFonts | None = None


def _render_chunk(start: int, stop: int) -> list[PageOutcome]:
    """Render pages ``start`` to ``stop`` of the build's list (indexes, not pages, are sent)."""
    assert _worker_renderer is not None
    renderer, staging, pages = _worker_renderer, _worker_staging, _worker_pages
    outcomes: list[PageOutcome] = []
    for index in range(start, stop):
        outcome = _render_one(renderer, staging, index, pages[index])
        scan = outcome.scan
        compact = scan_tuple(scan) if isinstance(scan, ScanResult) else scan
        outcomes.append(PageOutcome(index, compact, outcome.error, outcome.fonts))
    gc.collect(0)  # see YOUNG_EVERY
    return outcomes


def _write(target: Path, data: bytes) -> None:
    try:
        _write_new(target, data)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_new(target, data)


def _write_new(target: Path | str, data: bytes) -> None:
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
        return PageOutcome(index, None, exc.diagnostic)
    if staging is not None:
        writer(staging / page.output, rendered.data)
    url = document_url(page.route)
    document = scan_html_document(
        rendered.data, url, filename=page.display, limits=renderer.config.html_limits
    )
    scan, fonts = document.scan, None
    if _tracer is not None and document.tree is not None:
        fonts = _tracer.trace(scan, document.tree, url)
    if rendered.diagnostics or scan.diagnostics:
        # The render's are located in the page's templates (undefined names, bytes
        # replaced); the scan's move from output lines to the template lines that wrote them.
        placed = renderer.place(page, scan.diagnostics)
        scan = replace(scan, diagnostics=(*rendered.diagnostics, *placed))
    return PageOutcome(index, scan, None, fonts)


# The build runs with the cyclic collector off (see pipeline.build_site), but a
# page's compiled template is a cycle (its functions and their module's
# globals) dropped after the render: without a collection of the youngest
# generation every few dozen pages, memory grew by ~30 KiB a page.
YOUNG_EVERY = 64
# An explicit ``-j N`` still leaves a pool out for fewer pages than this per worker.
MIN_CHUNK = 16
# Pages a chunk holds at most (see chunks).
MAX_CHUNK = 128


def chunks(first: int, total: int, workers: int) -> list[tuple[int, int]]:
    """Pages ``first`` to ``total`` cut into chunks (start, stop) for ``workers`` workers.

    The build resolves a chunk's pages once it comes back, so a chunk is as
    long as the main process waits at the start and resolves alone at the end:
    at most MAX_CHUNK pages (a 10,000-page build had chunks of 625 pages, about
    0.6 s of resolving after the workers were done), and shrinking towards the
    end (each a quarter of a worker's share of what is left, at least MIN_CHUNK)
    so that the last ones are short. Several chunks per worker also even out
    pages of different cost. A chunk costs the pool a few hundred microseconds.
    """
    bounds: list[tuple[int, int]] = []
    start = first
    while start < total:
        size = max(MIN_CHUNK, min(MAX_CHUNK, (total - start) // (workers * 4)))
        bounds.append((start, min(start + size, total)))
        start += size
    return bounds


def _render_serially(
    renderer: Renderer,
    staging: Path | None,
    indexed: list[tuple[int, Page]],
    write: Callable[[Path, bytes], object],
    progress: Progress | None,
    *,
    total: int,
) -> list[PageOutcome]:
    outcomes: list[PageOutcome] = []
    done = total - len(indexed)
    for index, page in indexed:
        outcomes.append(_render_one(renderer, staging, index, page, write))
        done += 1
        if done % YOUNG_EVERY == 0:
            gc.collect(0)
        if progress and (done % 50 == 0 or done == total):
            progress(done, total)
    return outcomes


def _probe(renderer: Renderer, staging: Path | None, pages: list[Page], available: int) -> _Probed:
    """Render and time the first pages; return the worker count for the rest, and their outcomes."""
    outcomes: list[PageOutcome] = []
    probed = probe(
        lambda index: outcomes.append(_render_one(renderer, staging, index, pages[index])),
        len(pages),
    )
    workers = choose_workers(len(pages) - probed.done, probed.per_item, available, busy=probed.busy)
    return _Probed(workers, outcomes)


@dataclass(frozen=True, slots=True)
class _Probed:
    """The workers to render the rest with, and the outcomes of the pages rendered to decide."""

    workers: int
    outcomes: list[PageOutcome]


def render_pages(
    config: SiteConfig,
    all_pages: list[Page],
    pages: list[Page],
    staging: Path | None,
    jobs: int | None,
    progress: Progress | None,
    side_work: Callable[[], T] | None,
    side_done: Callable[[T], None],
    tracer: PageFontTracer | None = None,
    sheets: Collection[str] = (),
) -> Generator[list[PageOutcome], None, None]:
    """Render ``pages`` (``url_for`` knows ``all_pages``); yield their outcomes in batches, in order.

    Outcomes index into ``pages``. ``jobs`` is the number of worker processes, or
    None to choose it from the measured cost of the first pages and the cores
    this process may use. The caller takes the batches as they come: from a pool,
    one per chunk while later chunks still render.

    ``side_work`` (copying and precompressing the static files: it only reads the
    site and writes files nothing else writes) runs while pages render, and its
    result goes to ``side_done`` before the generator ends: in a forked process
    beside a serial render when there is a core for it, in a worker of a pool, or
    first on one core.

    ``tracer`` traces each page's fonts on the parse its scan made, wherever the
    page renders (:attr:`PageOutcome.fonts`): no page is parsed twice. ``sheets``
    (the site's stylesheets by output path) are scanned here before a pool forks,
    so that its workers' tracers find them (see :func:`_scan_before_fork`).
    """
    global _tracer
    _tracer = tracer
    try:
        total = len(pages)
        renderer = Renderer(config, all_pages)
        available = cores()
        done: list[PageOutcome] = []
        if jobs is not None:
            workers = min(jobs, total // MIN_CHUNK)
        elif available < 2:
            workers = 1
        else:
            probed = _probe(renderer, staging, pages, available)
            workers, done = probed.workers, probed.outcomes
        side = _SideWork(side_work, side_done)
        if workers <= 1:
            rest = list(enumerate(pages))[len(done) :]
            yield done + _render_here(renderer, staging, rest, available, progress, side)
            return
        spawn = None if os.name == "posix" else (config, all_pages, pages, staging, _tracer)
        if spawn is None and tracer is not None:
            _scan_before_fork(tracer, sheets)
        yield from _render_in_pool(renderer, pages, staging, done, workers, progress, side, spawn)
    finally:
        _tracer = None


def _scan_before_fork(tracer: PageFontTracer, sheets: Collection[str]) -> None:
    """Scan ``sheets`` as the tracer and the Resolver do, into the build's
    :func:`~pushgen.scan.css.file_scans`, which the pool's forked workers inherit.

    Issue 27: each worker's tracer scanned every stylesheet its pages use once
    more (on the `css` shape 241 sheets a process, and -j2 took 60% more CPU than
    -j1). This process scans them all the same (the Resolver follows every page's
    sheets), so scanned before the fork they cost nothing more here and nothing in
    a worker. A sheet no page links is scanned for nothing; one whose URL a page
    spells otherwise (percent-encoded, with a query) is scanned again where used:
    a scan is a function of its bytes, URL and name, so the output is the same.
    """
    for relpath in sheets:
        data = tracer.read(relpath)
        if data is not None:
            scan_css_file(data, document_url(tracer.base_path + relpath), relpath)


class _SideWork(Generic[T]):
    """The side work of a render (see render_pages): run here, in a forked process, or in a worker."""

    def __init__(self, work: Callable[[], T] | None, done: Callable[[T], None]) -> None:
        self._work, self._done = work, done

    @property
    def work(self) -> Callable[[], T] | None:
        return self._work

    def here(self) -> None:
        """Run it in this process."""
        if self._work is not None:
            self._done(self._work())

    @contextlib.contextmanager
    def beside(self) -> Iterator[Callable[[], None]]:
        """Start it in a forked process; the block calls the function yielded to wait for it.

        A process, not a thread: the copying is thousands of system calls, each
        giving the GIL up and waiting up to the switch interval (5 ms) to get it
        back from the rendering (a thread's copy of 2,000 files took as long as
        rendering 1,000 pages and slowed it), and brotli holds the GIL while it
        compresses. Leaving the block early (an error, an interrupt) kills it.
        """
        if self._work is None or not _can_fork():
            self.here()
            yield lambda: None
            return
        child = _Forked(self._work, "copying the static files")
        try:
            yield lambda: self._done(child.result())
        finally:
            child.kill()

    def submit(self, pool: ProcessPoolExecutor, forked: bool) -> Future[T] | None:
        """Hand it to a worker of ``pool``: one forked from this process finds it (as
        :data:`_worker_side`, set before the fork) without the list of copies being
        pickled to it (60 ms for the 20,000 files of a 10,000-page site)."""
        if self._work is None:
            return None
        if forked:
            assert _worker_side is self._work
            return cast("Future[T]", pool.submit(_side_job))
        return pool.submit(self._work)

    def collect(self, future: Future[T] | None) -> None:
        """Hand the result of :meth:`submit`'s job over (or raise its error)."""
        if future is not None:
            self._done(future.result())


def _side_job() -> object:
    assert _worker_side is not None
    return _worker_side()


def _can_fork() -> bool:
    # Not beside other threads (the --watch server's): a forked child inherits
    # their locks as they were, held or not.
    return hasattr(os, "fork") and threading.active_count() == 1


class _Forked(Generic[T]):
    """``work()`` run in a forked child; its result (or exception) comes back pickled on a pipe."""

    def __init__(self, work: Callable[[], T], what: str) -> None:
        self._what = what  # for the error when it ends without a result
        read, write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read)
            _run_child(work, write, parent)
        os.close(write)
        self._pid: int | None = pid
        self._read = read

    def result(self) -> T:
        """Wait for the child; return what ``work`` returned, or raise what it raised."""
        chunks = []
        try:
            while chunk := os.read(self._read, 1 << 16):
                chunks.append(chunk)
        finally:
            status = self._reap()
        if not chunks:
            raise ChildProcessError(
                f"the process {self._what} ended without a result ({_describe(status)})"
            )
        ok, value = pickle.loads(b"".join(chunks))
        if not ok:
            raise value
        return cast(T, value)

    def kill(self) -> None:
        """Stop the child (when it still runs) and reap it."""
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int:
        os.close(self._read)
        pid, self._pid = self._pid, None
        assert pid is not None
        return os.waitpid(pid, 0)[1]


def _run_child(work: Callable[[], object], pipe: int, parent: int) -> NoReturn:
    code = 1
    try:
        _detach()
        if os.getppid() != parent:
            os._exit(1)  # the build died before _detach asked to die with it
        try:
            outcome: tuple[bool, object] = (True, work())
        except Exception as exc:  # sent to the build, which raises it
            outcome = (False, exc)
        try:
            data = pickle.dumps(outcome)
        except Exception as exc:  # an exception that does not pickle: its text does
            data = pickle.dumps((False, ChildProcessError(f"{type(exc).__name__}: {exc}")))
        view = memoryview(data)
        while view:
            view = view[os.write(pipe, view) :]
        code = 0
    finally:
        os._exit(code)  # never the parent's cleanup (its finally blocks, atexit)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _render_here(
    renderer: Renderer,
    staging: Path | None,
    indexed: list[tuple[int, Page]],
    available: int,
    progress: Progress | None,
    side: _SideWork[T],
) -> list[PageOutcome]:
    """Render in this process; the side work and the writing beside it in other processes
    when there is a core for them."""
    total = (indexed[-1][0] + 1) if indexed else 0
    if staging is not None:
        for directory in sorted({(staging / p.output).parent for _, p in indexed}):
            directory.mkdir(parents=True, exist_ok=True)
    if available < 2:
        side.here()  # on one core, all in turn
        return _render_serially(renderer, staging, indexed, _write_new, progress, total=total)
    with side.beside() as wait:
        with _page_writer(staging is not None) as write:
            outcomes = _render_serially(renderer, staging, indexed, write, progress, total=total)
        wait()
    return outcomes


@contextlib.contextmanager
def _page_writer(needed: bool) -> Iterator[Callable[[Path, bytes], object]]:
    """A function writing a new page file: in a forked process fed through a pipe, where one can fork.

    Making a file is the costly part of writing one, and all system time: 0.35-0.5
    ms a file on the ext4 of the build machines (measured: 13 us on a tmpfs; a
    hard link of an existing file 12 us), a fifth of what rendering a default page
    costs and as much as rendering a `small` one. A page sent down a pipe costs
    this process a few microseconds. The block's end waits for the last page to be
    written and raises what stopped the writing; leaving it early kills the process.
    """
    if not needed or not _can_fork():
        yield _write_new
        return
    import fcntl  # POSIX only, as fork is

    read, write = os.pipe()
    with contextlib.suppress(OSError):  # a larger pipe (Linux): fewer waits on a slow disk
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, 1 << 20)
    try:
        child = _Forked(functools.partial(_write_pages_from, read, write), "writing the pages")
    except BaseException:
        os.close(write)
        raise
    finally:
        os.close(read)
    pipe = os.fdopen(write, "wb", buffering=1 << 16)

    def send(target: Path, data: bytes) -> None:
        name = os.fsencode(target)
        try:
            pipe.write(_FRAME.pack(len(name), len(data)))
            pipe.write(name)
            pipe.write(data)
        except BrokenPipeError:
            child.result()  # raises what stopped the writer
            raise

    try:
        yield send
        with contextlib.suppress(BrokenPipeError):  # the writer stopped: its result says why
            pipe.close()  # flushes: the writer reads to the end
        child.result()
    finally:
        with contextlib.suppress(OSError):
            pipe.close()
        child.kill()


_FRAME = struct.Struct("<II")  # a page's name and body lengths


def _write_pages_from(pipe: int, other_end: int) -> int:
    """In the writer: write the pages framed on ``pipe`` until its end; return their count."""
    os.close(other_end)  # or the pipe would never end
    written = 0
    with os.fdopen(pipe, "rb", buffering=1 << 16) as stream:
        while header := stream.read(_FRAME.size):
            name_length, length = _FRAME.unpack(header)
            name = stream.read(name_length)
            _write_new(os.fsdecode(name), stream.read(length))
            written += 1
    return written


def _render_in_pool(
    renderer: Renderer,
    pages: list[Page],
    staging: Path | None,
    done: list[PageOutcome],
    workers: int,
    progress: Progress | None,
    side: _SideWork[T],
    spawn: _Spawned | None,
) -> Iterator[list[PageOutcome]]:
    """Render the pages after ``done`` on ``workers`` forked processes; a worker does the side work too.

    ``spawn`` is what a spawned worker (where there is no fork) needs to make its own renderer.
    """
    global _worker_renderer, _worker_pages, _worker_staging, _worker_side
    total, first = len(pages), len(done)
    bounds = chunks(first, total, workers)
    context = multiprocessing.get_context("spawn" if spawn else "fork")
    # Forked workers inherit these (and the templates the renderer compiled).
    _worker_renderer, _worker_pages, _worker_staging = renderer, pages, staging
    _worker_side = side.work
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(spawn,)
    )
    try:
        # The side work goes to a worker once each has a chunk: the first
        # batches come back as soon as they can (this process resolves them),
        # and the copying and compressing take a worker's core, not this
        # process's (which has the resolving to do: on the `css` shape it is
        # the larger share).
        futures = [pool.submit(_render_chunk, start, stop) for start, stop in bounds[:workers]]
        side_future = side.submit(pool, forked=spawn is None)
        futures += [pool.submit(_render_chunk, start, stop) for start, stop in bounds[workers:]]
        yield done
        finished = first
        for future in futures:
            outcomes = future.result()
            finished += len(outcomes)
            if progress:
                progress(finished, total)
            yield outcomes
        side.collect(side_future)
    finally:
        # Left early (a failed page, an interrupt): chunks not started are dropped.
        pool.shutdown(wait=True, cancel_futures=True)
        _worker_renderer, _worker_pages, _worker_staging = None, [], None
        _worker_side = None
