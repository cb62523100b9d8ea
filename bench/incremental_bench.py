"""Incremental rebuilds against the full build, measured side by side in one run.

On a generated N-page site (the site of build_bench.py), each round times:

* full build   - `pushgen build --full`, one process;
* one page     - the rebuild after one page's template changed;
* css, same refs - after a stylesheet every page uses changed without touching
  its references (the everyday edit: a colour, a margin);
* css, new ref - after that stylesheet gained an @import (every page's entry
  list changes, so every page is re-resolved from its cached scan, none rendered).

Each rebuild's manifest and output are checked byte-identical to a full build of
the same sources (tests/build/test_incremental.py does so for every kind of change).
Usage:

    python bench/incremental_bench.py --pages 10000 --rounds 3 [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_markdown import put_block
from shapes import make_site

from pushgen.build import build_site
from pushgen.config import load_config


def timed_build(site: Path, *, full: bool = False) -> tuple[float, int]:
    started = time.perf_counter()
    result = build_site(load_config(site), jobs=1, full=full)
    return time.perf_counter() - started, result.rendered


def run(pages: int, rounds: int) -> dict[str, list[tuple[float, int]]]:
    work = Path(tempfile.mkdtemp(prefix="pushgen-incr-"))
    try:
        site = make_site(work / "site", pages)
        build_site(load_config(site), jobs=1)
        times: dict[str, list[tuple[float, int]]] = {
            "full build": [],
            "one page": [],
            "css, same refs": [],
            "css, new ref": [],
        }
        page = site / "pages" / "p" / "7.html"
        layout = site / "static" / "css" / "layout.css"
        for round_ in range(rounds):
            times["full build"].append(timed_build(site, full=True))
            page.write_text(page.read_text().replace("<h1", f"<h1 data-r{round_}", 1))
            times["one page"].append(timed_build(site))
            layout.write_text(layout.read_text() + f"\nfooter{{margin:{round_}px}}\n")
            times["css, same refs"].append(timed_build(site))
            extra = site / "static" / "css" / f"extra-{round_}.css"
            extra.write_text("p{margin:0}\n")
            layout.write_text(f'@import "extra-{round_}.css";\n' + layout.read_text())
            times["css, new ref"].append(timed_build(site))
        return times
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(results: dict[int, dict[str, list[tuple[float, int]]]]) -> str:
    lines = [
        "| pages | rebuild after | median s | min s | max s | pages rendered | x full build (median) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for pages, times in results.items():
        full = statistics.median(t for t, _ in times["full build"])
        for name, values in times.items():
            seconds = [t for t, _ in values]
            med = statistics.median(seconds)
            rendered = values[-1][1]
            lines.append(
                f"| {pages} | {name} | {med:.3f} | {min(seconds):.3f} | {max(seconds):.3f} "
                f"| {rendered} | {med / full:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", type=Path, help="also write the table into this file")
    args = parser.parse_args(argv)
    results = {n: run(n, args.rounds) for n in args.pages}
    text = table(results)
    print(text)
    if args.markdown:
        command = (
            f"python bench/incremental_bench.py --pages {' '.join(map(str, args.pages))} "
            f"--rounds {args.rounds}"
        )
        put_block(args.markdown, "incremental_bench", f"`{command}`:\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
