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

With ``--against-floor`` it profiles instead (cProfile, one run each, after an
untimed one) bench/build_bench.py's floor and one full build of the same site in
this process, and sums both profiles' own time by what the code does (Jinja2, lxml,
tinycss2, pushgen's scan, font tracing, resolving, state, manifest, files,
compression; a built-in's time goes to its callers' groups by their share of its
calls, except file system calls and compression, which are their own groups):
where the build's time over the floor goes. Pin it to one CPU so that the build
does everything in this process, as the one-core goal reads:

    taskset -c 0 python bench/profile_build.py --pages 1000 --shape css --jobs 1 --against-floor

cProfile about doubles the cost of each Python call, so read the shares, not the
seconds; the profiles are of CPU time (``time.process_time``). lxml's compiled
functions are not seen by cProfile: their time is the own time of the Python code
calling them (the build's parse is in "pushgen's HTML and CSS scan"; the rendering
split above times the parse alone).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


# What the code does, by where it lives: the first group whose marker is in a
# function's file name (Python code) or name (built-ins that are their own group).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("files (open, write, stat, copy, rename)", ("posix.", "_io.", "io.open", "shutil.py")),
    ("compression (brotli, gzip)", ("brotli", "zlib", "gzip.py", "pushgen/precompress")),
    ("Jinja2 (render, compile)", ("/jinja2/", "/markupsafe/")),
    ("lxml (parse, walk)", ("lxml",)),
    ("tinycss2", ("/tinycss2/", "/webencodings/")),
    ("font tracing", ("pushgen/build/fonts/", "pushgen/build/page_fonts", "/cssselect/")),
    ("pushgen's HTML and CSS scan", ("pushgen/scan/",)),
    ("resolving (graph, entries)", ("pushgen/build/graph", "pushgen/build/site_resolve")),
    ("state (load, save; JSON)", ("pushgen/build/state", "pushgen/build/incremental", "json")),
    ("manifest (write, compiled)", ("pushgen/manifest/",)),
    ("pushgen, the rest", ("pushgen/",)),
)
OTHER = "the rest (stdlib, interpreter)"


def group_of(key: tuple[str, int, str], site: Path) -> str | None:
    """The group of a profiled function; None for a built-in that is charged to its callers."""
    filename, _, name = key
    where = name if filename == "~" else filename
    if filename.startswith(str(site)):
        return "Jinja2 (render, compile)"  # a template's compiled code
    for group, markers in GROUPS:
        if any(marker in where for marker in markers):
            return group
    return None if filename == "~" else OTHER


def grouped(profile: cProfile.Profile, site: Path) -> dict[str, float]:
    """Own time (tottime) summed by :func:`group_of`; a built-in's split among its callers."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    sums: dict[str, float] = {}
    for key, (_, calls, own, _, callers) in stats.items():
        group = group_of(key, site)
        if group is not None:
            sums[group] = sums.get(group, 0.0) + own
            continue
        for caller, (_, caller_calls, _, _) in callers.items():
            share = own * caller_calls / max(calls, 1)
            target = group_of(caller, site) or OTHER
            sums[target] = sums.get(target, 0.0) + share
    return sums


def against_floor(pages: int, jobs: int | None, shape: str) -> dict[str, dict[str, float]]:
    """cProfile of the floor and of one full build of ``shape``, grouped: {run: {group: s}}."""
    from build_bench import floor, floor_output  # bench/build_bench.py, the floor's owner

    work = Path(tempfile.mkdtemp(prefix="pushgen-profile-"))
    try:
        site = SHAPES[shape](work / "site", pages)
        runs: dict[str, Callable[[], object]] = {
            "floor": lambda: floor(site),
            "build": lambda: build_site(load_config(site), jobs=jobs, full=True),
        }
        result = {}
        for name, run_once in runs.items():
            run_once()  # imports, template compilation, caches
            shutil.rmtree(floor_output(site), ignore_errors=True)
            shutil.rmtree(site / "_site", ignore_errors=True)
            profile = cProfile.Profile(time.process_time)
            profile.runcall(run_once)
            result[name] = grouped(profile, site)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def floor_table(groups: dict[str, dict[str, float]]) -> str:
    """Floor and build CPU seconds per group, and the build's excess over the floor."""
    floor_total, build_total = sum(groups["floor"].values()), sum(groups["build"].values())
    over = build_total - floor_total
    lines = [
        "| where (cProfile, own time) | floor s | build s | build - floor s | share of the excess |",
        "|---|---:|---:|---:|---:|",
    ]
    names = [group for group, _ in GROUPS] + [OTHER]
    for name in sorted(
        names, key=lambda n: groups["floor"].get(n, 0.0) - groups["build"].get(n, 0.0)
    ):
        f, b = groups["floor"].get(name, 0.0), groups["build"].get(name, 0.0)
        share = f"{100 * (b - f) / over:.0f}%" if over > 0 else ""
        lines.append(f"| {name} | {f:.3f} | {b:.3f} | {b - f:+.3f} | {share} |")
    lines.append(
        f"| total (x floor {build_total / floor_total:.2f}) | {floor_total:.3f} "
        f"| {build_total:.3f} | {over:+.3f} | 100% |"
    )
    return "\n".join(lines)


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
    parser.add_argument(
        "--against-floor",
        action="store_true",
        help="cProfile the floor and one build, grouped by what the code does (see above)",
    )
    args = parser.parse_args(argv)
    if args.against_floor:
        print(floor_table(against_floor(args.pages, args.jobs, args.shape)))
        return 0
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
