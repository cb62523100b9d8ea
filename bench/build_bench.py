"""Full `pushgen build` time against the floor, measured side by side in one run.

The floor is the physical minimum of producing the site in one process (issue 27):
render every page with Jinja2, parse the result with lxml, write every page, run
tinycss2 over every stylesheet once and copy the static files. The ratios are
against it. The old floor (render + parse only, which writes nothing, so no
generator could reach it) is reported beside it as ``render+parse``.

With ``--shape NAME`` (or ``--shape all``) the benchmark generates each site shape
of bench/shapes.py at each ``--pages`` size and times, per round, interleaved:
the floor, the full build on one core (``-j1`` with the process pinned to one
CPU: everything in turn, as on a one-core machine), with ``-j1`` (one rendering
process; on two cores it writes pages and copies static files in forked helpers
beside it), with ``-j2`` and with the default worker count (chosen by the build
from the measured cost of its first pages). Each is
reported as wall-clock median and as CPU time (this process and its workers,
steadier on a shared machine), and as ratios of medians over the floor's. Usage:

    python bench/build_bench.py --shape all --pages 1000 10000 --rounds 2 [--markdown docs/performance.md]

``--shape`` takes several names (``--shape small css``); ``--runs`` keeps only the
named runs beside the floor, which always runs (``--runs "one core" "build -j2"``:
the two runs issue 27's goals name, at 10,000 pages a third of the time of all
six). The note above the table gives the 1-minute load average before and after.

Without ``--shape`` it measures the default shape against the peer. It generates
an N-page site (a layout with partials, per-page assets, a shared stylesheet with
@imports and a font, a module graph) and times, per round:

* floor      - Jinja2 render + lxml parse + write of every page, tinycss2 over every
               stylesheet once, the static files copied, one process;
* render+parse - the old floor: Jinja2 render + lxml parse of every page;
* build -j1  - the full `pushgen build` (render, write, scan, follow, manifest), one process;
* build -j2  - the same on two worker processes;
* peer scan  - the npm tool http2-push-manifest over the rendered pages (it scans
               HTML only: no rendering, no CSS @import chains, fonts or module
               graphs), installed into bench/_work when node and npm exist;
* rendered -j1 / -j2 - `pushgen build` given what the peer is given: a site whose
               pages are the rendered pages (plain HTML, which Jinja2 passes
               through) and the same static files: the like-for-like comparison.

The table also counts what each found: manifest entries summed over all pages.

Each is run ROUNDS times, interleaved, and reported as median (min-max); ratios
are medians over the floor's median. Usage:

    python bench/build_bench.py --pages 1000 --rounds 5 [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html
import tinycss2
from bench_markdown import put_block
from shapes import SHAPES, make_site

from pushgen.build import build_site
from pushgen.build.render import Renderer, discover_pages
from pushgen.config import load_config
from pushgen.processes import cores

# make_site (the default shape) stays importable from here for the other benches.
__all__ = ["floor", "main", "make_site", "peer_command", "peer_scan", "render_parse"]


def render_parse(site: Path) -> None:
    """The old floor: Jinja2 render + lxml parse of every page, one process, nothing written."""
    config = load_config(site)
    pages = discover_pages(config)
    renderer = Renderer(config, pages)
    for page in pages:
        html = renderer.render(page).data
        lxml.html.document_fromstring(html)


def floor(site: Path) -> None:
    """The physical floor: what producing the site in one process cannot avoid.

    Every page rendered (Jinja2), parsed (lxml) and written; every stylesheet of
    ``static/`` read and parsed once (tinycss2); every static file copied. The
    output goes to :func:`floor_output`, which must not exist (the caller removes
    it outside the timing, as it removes ``_site`` before each build).
    """
    config = load_config(site)
    pages = discover_pages(config)
    renderer = Renderer(config, pages)
    out = floor_output(site)
    folders: set[Path] = set()
    for page in pages:
        html = renderer.render(page).data
        lxml.html.document_fromstring(html)
        target = out / page.output
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        target.write_bytes(html)
    if config.static.is_dir():
        shutil.copytree(config.static, out / "static")
        for sheet in config.static.rglob("*.css"):
            tinycss2.parse_stylesheet_bytes(sheet.read_bytes(), skip_comments=True)


def floor_output(site: Path) -> Path:
    """Where :func:`floor` writes: a folder beside the site."""
    return site.parent / f"{site.name}-floor"


def timed_floor(site: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of :func:`floor`, its previous output removed first, untimed."""
    shutil.rmtree(floor_output(site), ignore_errors=True)
    return timed_both(lambda: floor(site))


PEER = "http2-push-manifest@1.0.1"
WORK = Path(__file__).parent / "_work"


def peer_command() -> Path | None:
    """The peer's CLI, installed on first use; None without node and npm."""
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    binary = WORK / "peer" / "node_modules" / ".bin" / "http2-push-manifest"
    if not binary.exists():
        (WORK / "peer").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(WORK / "peer"),
                PEER,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return binary


def peer_scan(binary: Path, output: Path) -> tuple[float, int]:
    """Time the peer over every rendered page; return (seconds, entries it found)."""
    pages = sorted(str(p.relative_to(output)) for p in output.rglob("*.html"))
    args = [arg for page in pages for arg in ("-f", page)]
    manifest = output.parent / "peer_push_manifest.json"
    started = time.perf_counter()
    subprocess.run(
        [str(binary), *args, "-m", str(manifest)],
        cwd=output,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    data = json.loads(manifest.read_text())
    # Multi-file format: page -> {url: props}; one page: {url: props}.
    if pages and len(pages) > 1:
        return seconds, sum(len(v) for v in data.values())
    return seconds, len(data)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the build's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_both(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of ``fn()``."""
    cpu, started = cpu_seconds(), time.perf_counter()
    fn()
    return time.perf_counter() - started, cpu_seconds() - cpu


SHAPE_RUNS: dict[str, int | None] = {
    "floor": 0,
    "render+parse": 0,
    "one core": 1,
    "build -j1": 1,
    "build -j2": 2,
    "default": None,
}


def one_core(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with this process pinned to one CPU: the build then sees one core
    (processes.cores reads the affinity) and does everything in turn, as on a
    one-core machine; ``-j1`` on two cores writes pages and copies static files
    in forked helpers beside the rendering."""

    def pinned() -> object:
        allowed = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(allowed)})
        try:
            return fn()
        finally:
            os.sched_setaffinity(0, allowed)

    return pinned


def chosen_runs(runs: list[str] | None) -> dict[str, int | None]:
    """The runs of :data:`SHAPE_RUNS` to time, in its order: the floor (every ratio is
    against it) and those named, or all of them when ``runs`` is None."""
    return {
        name: jobs
        for name, jobs in SHAPE_RUNS.items()
        if runs is None or name == "floor" or name in runs
    }


def run_shape(
    shape: str, pages: int, rounds: int, runs: list[str] | None = None
) -> dict[str, list[tuple[float, float]]]:
    """Interleaved rounds of the floor and the full build (-j1, -j2, default) of one shape."""
    work = Path(tempfile.mkdtemp(prefix=f"pushgen-bench-{shape}-"))
    try:
        site = SHAPES[shape](work / "site", pages)
        # No warm-up build (a whole extra build at 10,000 pages): the floor runs
        # first and imports Jinja2 and lxml; the first -j1 build counts entries.
        chosen = chosen_runs(runs)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in chosen}
        for _ in range(rounds):
            for name, jobs in chosen.items():
                if name == "floor":
                    times[name].append(timed_floor(site))
                    continue
                if name == "render+parse":
                    times[name].append(timed_both(lambda: render_parse(site)))
                    continue
                shutil.rmtree(site / "_site", ignore_errors=True)
                found: list[int] = []
                build = functools.partial(full_build, site, jobs, found)
                times[name].append(timed_both(one_core(build) if name == "one core" else build))
                FOUND[(pages, f"{shape} build")] = found[0]
        return times
    finally:
        shutil.rmtree(work, ignore_errors=True)


def shape_table(results: dict[tuple[str, int], dict[str, list[tuple[float, float]]]]) -> str:
    lines = [
        "| shape | pages | what | median s | min s | max s | x floor | CPU s | x floor CPU "
        "| entries found |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (shape, pages), times in results.items():
        wall_floor = statistics.median(w for w, _ in times["floor"])
        cpu_floor = statistics.median(c for _, c in times["floor"])
        for name, values in times.items():
            walls = [w for w, _ in values]
            wall, cpu = statistics.median(walls), statistics.median(c for _, c in values)
            found = (
                ""
                if name in ("floor", "render+parse")
                else FOUND.get((pages, f"{shape} build"), "")
            )
            lines.append(
                f"| {shape} | {pages} | {name} | {wall:.3f} | {min(walls):.3f} | {max(walls):.3f} "
                f"| {wall / wall_floor:.2f} | {cpu:.3f} | {cpu / cpu_floor:.2f} | {found} |"
            )
    return "\n".join(lines)


FOUND: dict[tuple[int, str], int] = {}


def rendered_site(site: Path, root: Path) -> Path:
    """A site whose pages are ``site``'s rendered pages, with the same static files."""
    output = site / "_site"
    for page in output.rglob("*.html"):
        target = root / "pages" / page.relative_to(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
    shutil.copytree(site / "static", root / "static", copy_function=os.link)
    shutil.copyfile(site / "pushgen.yaml", root / "pushgen.yaml")
    return root


def full_build(site: Path, jobs: int | None, found: list[int]) -> None:
    """A full build from no output; appends the manifest entries it found to ``found``."""
    result = build_site(load_config(site), jobs=jobs, full=True)
    found.append(sum(len(assets) for assets in result.manifest.routes.values()))


def entries(site: Path, jobs: int) -> int:
    result = build_site(load_config(site), jobs=jobs, full=True)
    return sum(len(assets) for assets in result.manifest.routes.values())


def run(pages: int, rounds: int, peer: Path | None) -> dict[str, list[float]]:
    """Interleaved rounds; every build starts from no output (a clean CI checkout)."""
    work = Path(tempfile.mkdtemp(prefix="pushgen-bench-"))
    try:
        site = make_site(work / "site", pages)
        # Warms caches and imports; counts what the build finds.
        FOUND[(pages, "build -j1")] = FOUND[(pages, "build -j2")] = entries(site, 1)
        html = rendered_site(site, work / "rendered")
        FOUND[(pages, "rendered -j1")] = FOUND[(pages, "rendered -j2")] = entries(html, 1)
        times: dict[str, list[float]] = {
            "floor": [],
            "render+parse": [],
            "build -j1": [],
            "build -j2": [],
        }
        if peer is not None:
            times["peer scan"] = []
            times["rendered -j1"] = []
            times["rendered -j2"] = []
        for _ in range(rounds):
            times["floor"].append(timed_floor(site)[0])
            times["render+parse"].append(timed(lambda: render_parse(site)))
            shutil.rmtree(site / "_site")
            times["build -j1"].append(
                timed(lambda: build_site(load_config(site), jobs=1, full=True))
            )
            shutil.rmtree(site / "_site")
            times["build -j2"].append(
                timed(lambda: build_site(load_config(site), jobs=2, full=True))
            )
            if peer is not None:
                seconds, found = peer_scan(peer, site / "_site")
                times["peer scan"].append(seconds)
                FOUND[(pages, "peer scan")] = found
                for jobs in (1, 2):
                    shutil.rmtree(html / "_site")
                    times[f"rendered -j{jobs}"].append(
                        timed(lambda jobs=jobs: build_site(load_config(html), jobs=jobs, full=True))  # type: ignore[misc]
                    )
        return times
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(results: dict[int, dict[str, list[float]]], rounds: int) -> str:
    lines = [
        "| pages | what | median s | min s | max s | x floor (median) | peer scan / this "
        "| entries found |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for pages, times in results.items():
        base = statistics.median(times["floor"])
        peer = statistics.median(times["peer scan"]) if "peer scan" in times else None
        for name, values in times.items():
            med = statistics.median(values)
            found = FOUND.get((pages, name), "")
            faster = f"{peer / med:.1f}x" if peer is not None else ""
            lines.append(
                f"| {pages} | {name} | {med:.3f} | {min(values):.3f} | {max(values):.3f} "
                f"| {med / base:.2f} | {faster} | {found} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[1000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-peer", action="store_true", help="skip http2-push-manifest")
    parser.add_argument(
        "--shape",
        nargs="+",
        choices=[*SHAPES, "all"],
        help="measure these generated site shapes (bench/shapes.py) against the floor",
    )
    parser.add_argument(
        "--runs",
        nargs="+",
        choices=[name for name in SHAPE_RUNS if name != "floor"],
        help="with --shape: time only these runs beside the floor [all]",
    )
    parser.add_argument(
        "--markdown", type=Path, help="also write the table into this file between markers"
    )
    args = parser.parse_args(argv)
    if args.shape is not None:
        return main_shapes(args)
    peer = None if args.no_peer else peer_command()
    results = {n: run(n, args.rounds, peer) for n in args.pages}
    text = table(results, args.rounds)
    print(text)
    if args.markdown:
        command = f"python bench/build_bench.py --pages {' '.join(map(str, args.pages))} --rounds {args.rounds}"
        put_block(
            args.markdown,
            "build_bench",
            f"`{command}` ({args.rounds} rounds, interleaved):\n\n{text}",
        )
    return 0


def main_shapes(args: argparse.Namespace) -> int:
    shapes = list(SHAPES) if "all" in args.shape else list(dict.fromkeys(args.shape))
    results = {}
    load_before = os.getloadavg()[0]
    for pages in args.pages:
        for shape in shapes:
            results[(shape, pages)] = run_shape(shape, pages, args.rounds, args.runs)
            print(f"{shape} {pages}: done", file=sys.stderr, flush=True)
    load_after = os.getloadavg()[0]
    text = shape_table(results)
    print(text)
    if args.markdown:
        runs = "".join(f' "{name}"' for name in args.runs) if args.runs else ""
        command = (
            f"python bench/build_bench.py --shape {' '.join(args.shape)} "
            f"--pages {' '.join(map(str, args.pages))} --rounds {args.rounds}"
            + (f" --runs{runs}" if runs else "")
        )
        put_block(
            args.markdown,
            "build_shapes",
            f"`{command}` ({args.rounds} rounds, interleaved; {cores()} cores; "
            f"load average {load_before:.2f} before, {load_after:.2f} after):\n\n{text}",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
