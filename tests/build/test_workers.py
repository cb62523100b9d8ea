"""The worker count: a pure function of the pages, their measured cost and the cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.build.workers import POOL_START_S, choose_workers
from pushgen.config import load_config
from pushgen.errors import BuildError
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
    # -j1, the measured choice and three workers (the pool's path: 123 pages).
    files = dict(SMALL_SITE)
    for i in range(120):
        files[f"pages/p/{i:03d}.html"] = (
            '{% extends "base.html" %}{% block body %}<p>' + str(i) + "</p>{% endblock %}"
        )
    outputs = []
    for jobs in (1, None, 3):
        site = write_site(tmp_path / f"j{jobs}", files)
        result = build_site(load_config(site), jobs=jobs)
        assert result.rendered == 123
        # The output and the manifest (the state names its own folder, so differs).
        written = {
            str(p.relative_to(site)): p.read_bytes()
            for p in (site / "_site").rglob("*")
            if p.is_file()
        }
        written["push-manifest.yaml"] = (site / "push-manifest.yaml").read_bytes()
        outputs.append(written)
    assert outputs[0] == outputs[1] == outputs[2]


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
