"""Scale: full builds of 10,000 to 100,000 generated pages, time and peak memory per page.

For each ``--pages`` size, bench/shapes.py's ``--shape`` site is generated and built
in a child process (so its peak memory is its own): a full build from no output, an
incremental rebuild after one page changed (the first rebuild: no spare copy of the
output exists yet, so every unchanged file is linked into the new one), a rebuild
after nothing changed, and a rebuild after another page changed (with the spare the
previous rebuild left: what every later edit costs).
Each reports wall and CPU seconds (the child and its workers) and peak RSS
(``ru_maxrss`` of the build process, and the largest of its workers). The rebuild
with no change is set against what it must check at the least: one ``stat`` of
every source file (timed in the same child, before the build).

Usage:

    python bench/scale_bench.py --pages 10000 30000 100000 [--shape default] [--jobs N] [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_markdown import put_block
from shapes import SHAPES

KINDS = ("full build", "one page", "no change", "one page, spare")


def child(site: Path, jobs: int | None) -> dict[str, float]:
    """In the child: time one build of ``site``; its peak memory and its workers'."""
    from pushgen.build import build_site
    from pushgen.config import load_config

    stat_started = time.perf_counter()
    sources = 0
    for folder in ("pages", "templates", "static"):
        for path, _, names in os.walk(site / folder):
            for name in names:
                os.stat(os.path.join(path, name))
                sources += 1
    stat_seconds = time.perf_counter() - stat_started
    started = time.perf_counter()
    result = build_site(load_config(site), jobs=jobs)
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": wall,
        "cpu": own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime,
        "rss_kib": own.ru_maxrss,
        "worker_rss_kib": workers.ru_maxrss,
        "rendered": result.rendered,
        "pages": len(result.pages),
        "stat_seconds": stat_seconds,
        "sources": sources,
    }


def build_in_child(site: Path, jobs: int | None) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", str(site)]
    if jobs is not None:
        args += ["--jobs", str(jobs)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def run(pages: int, shape: str, jobs: int | None) -> dict[str, dict[str, float]]:
    work = Path(tempfile.mkdtemp(prefix="pushgen-scale-"))
    try:
        site = SHAPES[shape](work / "site", pages)
        results = {"full build": build_in_child(site, jobs)}
        edits = sorted((site / "pages").rglob("*.html"))
        edits[0].write_text(edits[0].read_text() + "\n<!-- edited -->\n")
        results["one page"] = build_in_child(site, jobs)
        results["no change"] = build_in_child(site, jobs)
        edits[-1].write_text(edits[-1].read_text() + "\n<!-- edited -->\n")
        results["one page, spare"] = build_in_child(site, jobs)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(results: dict[int, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| pages | build | wall s | CPU s | ms / page (wall) | x full build | peak RSS MiB "
        "| worker peak MiB | KiB / page | rendered | stat every source s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for pages, kinds in results.items():
        full = kinds["full build"]["wall"]
        for kind, r in kinds.items():
            stat = (
                f"{r['stat_seconds']:.3f} ({int(r['sources'])} files)"
                if kind == "no change"
                else ""
            )
            lines.append(
                f"| {pages} | {kind} | {r['wall']:.3f} | {r['cpu']:.3f} "
                f"| {1000 * r['wall'] / pages:.3f} | {r['wall'] / full:.3f} "
                f"| {r['rss_kib'] / 1024:.0f} | {r['worker_rss_kib'] / 1024:.0f} "
                f"| {r['rss_kib'] / pages:.1f} | {int(r['rendered'])} | {stat} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[10000, 30000, 100000])
    parser.add_argument("--shape", choices=list(SHAPES), default="default")
    parser.add_argument("--jobs", type=int, help="worker processes [chosen by the build]")
    parser.add_argument("--markdown", type=Path, help="also write the table into this file")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.jobs)))
        return 0
    results = {}
    for pages in args.pages:
        results[pages] = run(pages, args.shape, args.jobs)
        print(f"{pages}: done", file=sys.stderr, flush=True)
    text = table(results)
    print(text)
    if args.markdown:
        jobs = f" --jobs {args.jobs}" if args.jobs else ""
        command = (
            f"python bench/scale_bench.py --pages {' '.join(map(str, args.pages))}"
            f" --shape {args.shape}{jobs}"
        )
        put_block(args.markdown, "scale_bench", f"`{command}`:\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
