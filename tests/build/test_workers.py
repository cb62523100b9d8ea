"""The worker count (a pure function of the pages, their measured cost and the cores), and
the side work (the static files' copy and precompression) in a forked process."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

from pushgen.build import build_site
from pushgen.build.workers import MAX_CHUNK, MIN_CHUNK, _page_writer, _SideWork, chunks
from pushgen.config import load_config
from pushgen.errors import BuildError
from pushgen.processes import POOL_START_S, choose_workers
from pushgen.scan import css
from tests.sites import SMALL_SITE, write_site


def test_a_tiny_site_renders_in_one_process() -> None:
    # 20 pages of 1 ms: 20 ms of work, less than starting two workers saves.
    assert choose_workers(20, 0.001, 2) == 1
    assert choose_workers(20, 0.001, 64) == 1


def test_a_large_site_renders_on_every_core_it_pays_to_use() -> None:
    assert choose_workers(10_000, 0.001, 2) == 2
    assert choose_workers(10_000, 0.001, 4) == 4


def test_a_machine_busy_with_other_work_gets_fewer_workers() -> None:
    # Workers go on idle cores only: two cores, one or both busy, none to spare.
    assert choose_workers(10_000, 0.001, 2, busy=2.0) == 1
    assert choose_workers(10_000, 0.001, 2, busy=1.0) == 1
    assert choose_workers(10_000, 0.001, 2, busy=0.3) == 2
    assert choose_workers(10_000, 0.001, 8, busy=5.0) == 3


def test_one_core_or_one_page_never_starts_a_pool() -> None:
    assert choose_workers(100_000, 0.01, 1) == 1
    assert choose_workers(1, 10.0, 8) == 1
    assert choose_workers(0, 0.001, 8) == 1
    assert choose_workers(1000, 0.0, 8) == 1


def test_no_more_workers_than_pages() -> None:
    assert choose_workers(3, 1.0, 16) == 3


def test_workers_stop_where_starting_another_costs_more_than_it_saves() -> None:
    # 200 pages of 1 ms on 64 cores: the optimum of n * start + work / n is
    # near sqrt(work / start), far below 64.
    chosen = choose_workers(200, 0.001, 64, start_s=0.01, handoff_s=0.0)
    assert 2 <= chosen <= 5
    assert chosen < choose_workers(20_000, 0.001, 64, start_s=0.01, handoff_s=0.0)


@pytest.mark.parametrize("pages", [10, 100, 1000, 10_000])
def test_the_choice_grows_with_the_pages(pages: int) -> None:
    assert choose_workers(pages, 0.001, 8) <= choose_workers(pages * 10, 0.001, 8)


def test_the_break_even_point_follows_the_pool_start_cost() -> None:
    # Two workers pay once half the work saved exceeds starting them (and the margin).
    per_page = 0.001
    small = int(2 * 2 * POOL_START_S / per_page)  # saves about the start-up cost only
    assert choose_workers(small // 2, per_page, 2) == 1
    assert choose_workers(small * 10, per_page, 2) == 2


def test_every_worker_count_writes_the_same_bytes(tmp_path: Path) -> None:
    # -j1 (its side work in a forked process), the measured choice, three workers
    # (the pool's path: 123 pages) and -j1 on one core (all in turn), in a process
    # pinned to one CPU. The stylesheet is long enough for .br/.gz siblings.
    files = dict(SMALL_SITE)
    files["static/css/print.css"] = "".join(f".c{i} {{ color: #{i:03x} }}\n" for i in range(200))
    for i in range(120):
        files[f"pages/p/{i:03d}.html"] = (
            '{% extends "base.html" %}{% block body %}<p>' + str(i) + "</p>{% endblock %}"
        )
    outputs = []
    one_core = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    for jobs in (1, None, 3, "one core"):
        site = write_site(tmp_path / f"j{jobs}".replace(" ", "-"), files)
        if jobs == "one core":
            if not one_core:
                continue
            command = [*one_core, sys.executable, "-m", "pushgen", "build", str(site), "-j", "1"]
            subprocess.run(command, check=True, capture_output=True, timeout=300)
        else:
            assert isinstance(jobs, int | None)
            assert build_site(load_config(site), jobs=jobs).rendered == 123
        assert (site / "_site/static/css/print.css.br").exists()
        # The output and the manifest (the state names its own folder, so differs).
        written = {
            str(p.relative_to(site)): p.read_bytes()
            for p in (site / "_site").rglob("*")
            if p.is_file()
        }
        written["push-manifest.yaml"] = (site / "push-manifest.yaml").read_bytes()
        outputs.append(written)
    assert all(output == outputs[0] for output in outputs[1:])
    assert len(outputs) == (4 if one_core else 3)


def test_forked_workers_find_the_stylesheets_scanned_before_the_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 27: each worker's font tracer scanned every stylesheet of its pages
    # again. Each page links a sheet of its own (which no page rendered before the
    # fork links); every scan is logged with its process (the workers are forked,
    # so they log through the same function); only this process may scan.
    files = dict(SMALL_SITE)
    for i in range(120):
        files[f"static/css/p{i:03d}.css"] = f"p {{ color: #{i:03x} }}\n"
        files[f"pages/p/{i:03d}.html"] = (
            '{% extends "base.html" %}{% block head %}<link rel="stylesheet" href="'
            f'/static/css/p{i:03d}.css">{{% endblock %}}{{% block body %}}<p>{i}</p>{{% endblock %}}'
        )
    site = write_site(tmp_path / "site", files)
    log = tmp_path / "scans.log"
    scan_css = css.scan_css

    def logged(data: bytes, url: str, **options: Any) -> Any:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {url}\n")
        return scan_css(data, url, **options)

    monkeypatch.setattr(css, "scan_css", logged)
    assert build_site(load_config(site), jobs=2).rendered == 123
    scans = [line.split(" ", 1) for line in log.read_text(encoding="utf-8").splitlines()]
    assert {pid for pid, _ in scans} == {str(os.getpid())}
    assert "https://pushgen.invalid/static/css/p119.css" in {url for _, url in scans}
    # Each sheet once: the Resolver takes the scans made before the fork.
    assert len(scans) == len({url for _, url in scans})


def test_pages_that_fail_in_workers_are_all_reported_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    files = dict(SMALL_SITE)
    for i in range(100):
        body = "{% if %}" if i in (7, 93) else str(i)  # two pages Jinja2 cannot parse
        files[f"pages/p/{i:03d}.html"] = (
            '{% extends "base.html" %}{% block body %}<p>' + body + "</p>{% endblock %}"
        )
    site = write_site(tmp_path / "site", files)
    with pytest.raises(BuildError) as info:
        build_site(load_config(site), jobs=3)  # resolving stops at page 7, rendering goes on
    message = str(info.value)
    assert "pages/p/007.html:1:" in message and "pages/p/093.html:1:" in message
    assert not (site / "_site").exists()
    assert not (site / "push-manifest.yaml").exists()


def _sleep_after_writing_pid(pid_file: Path) -> None:
    pid_file.write_text(str(os.getpid()))
    time.sleep(300)


def _full_disk() -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "static/css/site.css.br")


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_the_side_work_runs_in_another_process_and_hands_its_result_back() -> None:
    got: list[int] = []
    with _SideWork(os.getpid, got.append).beside() as wait:
        wait()
    assert got and got[0] != os.getpid()


def test_a_failed_side_work_raises_its_error_in_the_build_with_its_facts() -> None:
    with pytest.raises(OSError) as info, _SideWork(_full_disk, print).beside() as wait:
        wait()
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == "static/css/site.css.br"


def test_a_side_process_that_dies_is_reported_not_ignored() -> None:
    with (
        pytest.raises(ChildProcessError, match="SIGKILL"),
        _SideWork(_killed, print).beside() as wait,
    ):
        wait()


def test_a_build_that_stops_early_stops_its_side_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with (
        pytest.raises(KeyboardInterrupt),
        _SideWork(lambda: _sleep_after_writing_pid(pid_file), print).beside(),
    ):
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        raise KeyboardInterrupt
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process
        os.kill(int(pid_file.read_text()), 0)


def test_a_failed_side_work_in_a_pool_worker_raises_its_error_in_the_build() -> None:
    side: _SideWork[None] = _SideWork(_full_disk, print)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        future = side.submit(pool, forked=False)
        with pytest.raises(OSError) as info:
            side.collect(future)
    assert info.value.errno == errno.ENOSPC


@pytest.mark.parametrize(
    ("first", "total", "workers"), [(0, 10_000, 2), (33, 1_000, 2), (5, 100, 3), (0, 17, 2)]
)
def test_chunks_cover_every_page_once_and_end_short(first: int, total: int, workers: int) -> None:
    bounds = chunks(first, total, workers)
    assert [start for start, _ in bounds] == [first] + [stop for _, stop in bounds[:-1]]
    assert bounds[-1][1] == total
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) <= MAX_CHUNK
    assert sizes == sorted(sizes, reverse=True)  # shrinking
    assert sizes[-1] <= MIN_CHUNK  # the main process resolves little alone at the end


def test_the_page_writer_writes_every_page_in_another_process(tmp_path: Path) -> None:
    pages = {tmp_path / f"{i}.html": f"<p>{i}</p>".encode() * i for i in range(300)}
    with _page_writer(True) as write:
        for target, data in pages.items():
            write(target, data)
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == pages


def test_a_page_the_writer_cannot_write_stops_the_build_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "index.html"
    with pytest.raises(FileNotFoundError) as info, _page_writer(True) as write:
        write(tmp_path / "a.html", b"a")
        write(missing, b"b")
    assert info.value.filename == str(missing)


def test_the_page_writer_never_overwrites_a_file(tmp_path: Path) -> None:
    (tmp_path / "theirs.html").write_bytes(b"not pushgen's")
    with pytest.raises(FileExistsError), _page_writer(True) as write:
        write(tmp_path / "theirs.html", b"ours")
    assert (tmp_path / "theirs.html").read_bytes() == b"not pushgen's"
