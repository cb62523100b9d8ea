"""Incremental rebuilds against the full build, measured side by side in one run.

On a generated N-page site (the site of build_bench.py), each round times:

* full build   - `pushgen build --full`, one process;
* stat sources - a `stat` of every source file (pages/, templates/, static/): the
  floor of a rebuild that must notice any change (issue 27: a no-change rebuild
  <= 2x this);
* no change    - the rebuild after nothing changed (build/nochange.py's fast path:
  the full build before it saved its quick file);
* one page     - the rebuild after one page's template changed;
* css, same refs - after a stylesheet every page uses changed without touching
  its references or any font rule (the everyday edit: a colour, a margin);
* css, fonts kept - the same edit in the stylesheet that holds the @font-face and
  the font rule: the font rules' digest is as it was, so no page is traced again;
* css, new ref - after that stylesheet gained an @import (every page's entry
  list changes, so every page is re-resolved from its cached scan, none rendered).

Each row says how many pages the rebuild rendered, resolved and traced (fonts)
again. Each rebuild's manifest and output are byte-identical to a full build of
the same sources (tests/build/test_incremental.py and test_incremental_reuse.py
check so for every kind of change). Usage:

    PYTHONPATH=. python bench/incremental_bench.py --pages 10000 --rounds 3 [--markdown docs/performance.md]

(``PYTHONPATH=.``: ``python bench/NAME.py`` puts ``bench/`` first on the path, so
without it the installed pushgen is measured, not this checkout's.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_markdown import put_block
from shapes import make_site

from pushgen.build import build_site
from pushgen.config import load_config


@dataclass(frozen=True, slots=True)
class Run:
    """One timed rebuild: its seconds and the pages it rendered, resolved and traced."""

    seconds: float
    rendered: int = 0
    resolved: int = 0
    traced: int = 0


def timed_build(site: Path, *, full: bool = False) -> Run:
    started = time.perf_counter()
    result = build_site(load_config(site), jobs=1, full=full)
    seconds = time.perf_counter() - started
    # getattr: the same bench measures a pushgen from before the counters.
    counts = (getattr(result, name, 0) for name in ("resolved", "traced"))
    return Run(seconds, result.rendered, *counts)


def stat_sources(site: Path) -> Run:
    """A `stat` of every file under pages/, templates/ and static/."""
    started = time.perf_counter()
    for folder in ("pages", "templates", "static"):
        for dirpath, _, filenames in os.walk(site / folder):
            for name in filenames:
                os.stat(os.path.join(dirpath, name))
    return Run(time.perf_counter() - started)


KINDS = (
    "full build",
    "stat sources",
    "no change",
    "one page",
    "css, same refs",
    "css, fonts kept",
    "css, new ref",
)


def run(pages: int, rounds: int) -> dict[str, list[Run]]:
    work = Path(tempfile.mkdtemp(prefix="pushgen-incr-"))
    try:
        site = make_site(work / "site", pages)
        build_site(load_config(site), jobs=1)
        times: dict[str, list[Run]] = {kind: [] for kind in KINDS}
        page = site / "pages" / "p" / "7.html"
        css = site / "static" / "css"
        layout, base = css / "layout.css", css / "base.css"
        for round_ in range(rounds):
            times["full build"].append(timed_build(site, full=True))
            times["stat sources"].append(stat_sources(site))
            times["no change"].append(timed_build(site))
            page.write_text(page.read_text().replace("<h1", f"<h1 data-r{round_}", 1))
            times["one page"].append(timed_build(site))
            layout.write_text(layout.read_text() + f"\nfooter{{margin:{round_}px}}\n")
            times["css, same refs"].append(timed_build(site))
            base.write_text(base.read_text() + f"\nh1{{margin:{round_}px}}\n")
            times["css, fonts kept"].append(timed_build(site))
            extra = css / f"extra-{round_}.css"
            extra.write_text("p{margin:0}\n")
            layout.write_text(f'@import "extra-{round_}.css";\n' + layout.read_text())
            times["css, new ref"].append(timed_build(site))
        return times
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(results: dict[int, dict[str, list[Run]]]) -> str:
    lines = [
        "| pages | rebuild after | median s | min s | max s | rendered | resolved | traced "
        "| x full build (median) | x stat sources |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for pages, times in results.items():
        full = statistics.median(r.seconds for r in times["full build"])
        stat = statistics.median(r.seconds for r in times["stat sources"])
        for name, values in times.items():
            seconds = [r.seconds for r in values]
            med = statistics.median(seconds)
            last = values[-1]
            lines.append(
                f"| {pages} | {name} | {med:.3f} | {min(seconds):.3f} | {max(seconds):.3f} "
                f"| {last.rendered} | {last.resolved} | {last.traced} "
                f"| {med / full:.3f} | {med / stat:.1f} |"
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
