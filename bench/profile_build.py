"""Where a build's time goes: the 1,000-page default build broken into its phases.

Times, as medians over ``--rounds`` full builds of bench/shapes.py's default site
(no output, no saved state, as on a clean CI checkout):

* start-up and imports - a fresh interpreter importing pushgen's CLI and build,
  less a fresh interpreter doing nothing (what `pushgen build` pays before it
  reads a file);
* the build's phases as ``BuildResult.phases`` times them (pushgen/build/pipeline.py
  PHASES): reading, state, staging, choosing pages, rendering (render, write and
  scan every page, in workers or here), listing the static files and planning
  their copy (the copy and the precompression run beside the rendering: in a
  forked process with -j1, in a worker of a pool, so inside its time), resolving
  (stylesheets, modules, every page's assets), the manifest, accounting for the
  precompressed siblings, the swap and saving the state;
* the rendering split, in one process over the same pages: Jinja2 rendering, lxml
  parsing alone, and pushgen's HTML scan (its own lxml parse and the walk over it).

Usage:

    python bench/profile_build.py --pages 1000 --rounds 3 [--jobs N] [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lxml.html
from bench_markdown import put_block
from shapes import SHAPES

from pushgen.build import build_site
from pushgen.build.pipeline import PHASES
from pushgen.build.render import Renderer, discover_pages
from pushgen.config import load_config
from pushgen.processes import cores
from pushgen.scan.html import scan_html
from pushgen.urls import document_url


def startup(rounds: int) -> float:
    """Seconds a fresh interpreter spends importing what `pushgen build` imports."""

    def run(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - started

    imports = "import pushgen.cli, pushgen.build.pipeline"
    bare = statistics.median(run("pass") for _ in range(rounds))
    return max(0.0, statistics.median(run(imports) for _ in range(rounds)) - bare)


def render_split(site: Path) -> dict[str, float]:
    """Jinja2 render, lxml parse and pushgen's scan of every page, one process, timed apart."""
    config = load_config(site)
    pages = discover_pages(config)
    renderer = Renderer(config, pages)
    times = {"jinja2 render": 0.0, "lxml parse alone": 0.0, "html scan (parse + walk)": 0.0}
    for page in pages:
        started = time.perf_counter()
        data = renderer.render(page).data
        rendered = time.perf_counter()
        lxml.html.document_fromstring(data)
        parsed = time.perf_counter()
        scan_html(data, document_url(page.route), filename=page.display)
        scanned = time.perf_counter()
        times["jinja2 render"] += rendered - started
        times["lxml parse alone"] += parsed - rendered
        times["html scan (parse + walk)"] += scanned - parsed
    return times


def run(pages: int, rounds: int, jobs: int | None, shape: str) -> dict[str, list[float]]:
    work = Path(tempfile.mkdtemp(prefix="pushgen-profile-"))
    try:
        site = SHAPES[shape](work / "site", pages)
        build_site(load_config(site), jobs=jobs, full=True)  # warms caches and imports
        rows: dict[str, list[float]] = {"start-up and imports": []}
        rows.update({phase: [] for phase in PHASES})
        rows["total (build_site)"] = []
        for _ in range(rounds):
            rows["start-up and imports"].append(startup(1))
            shutil.rmtree(site / "_site")
            result = build_site(load_config(site), jobs=jobs, full=True)
            for phase in PHASES:
                rows[phase].append(result.phases.get(phase, 0.0))
            rows["total (build_site)"].append(result.seconds)
            for name, seconds in render_split(site).items():
                rows.setdefault(f"  one process: {name}", []).append(seconds)
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(rows: dict[str, list[float]]) -> str:
    total = statistics.median(rows["total (build_site)"])
    lines = [
        "| phase | median s | min s | max s | share of build_site |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, values in rows.items():
        med = statistics.median(values)
        share = "" if name.startswith("start-up") else f"{100 * med / total:.1f}%"
        lines.append(f"| {name} | {med:.3f} | {min(values):.3f} | {max(values):.3f} | {share} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shape", choices=list(SHAPES), default="default")
    parser.add_argument("--jobs", type=int, help="worker processes [chosen by the build]")
    parser.add_argument("--markdown", type=Path, help="also write the table into this file")
    args = parser.parse_args(argv)
    rows = run(args.pages, args.rounds, args.jobs, args.shape)
    text = table(rows)
    print(text)
    if args.markdown:
        jobs = f" --jobs {args.jobs}" if args.jobs else ""
        command = (
            f"python bench/profile_build.py --pages {args.pages} --rounds {args.rounds}"
            f" --shape {args.shape}{jobs}"
        )
        put_block(
            args.markdown,
            "profile_build",
            f"`{command}` ({cores()} cores; static copying and precompression run beside "
            f"rendering, inside its time; the one-process rows split the rendering's work, "
            f"measured apart):\n\n{text}",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
