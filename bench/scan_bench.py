"""`pushgen scan` of a built folder against http2-push-manifest on the same files, side by side.

The folder is build_bench.py's generated site (layout, partials, per-page
stylesheets, a font behind an @import chain, a module graph), built once with
`pushgen build`: its `_site` is then an ordinary built folder. Per round:

* scan -j1   - `pushgen scan` of the folder in one process (in process: walk, read,
               scan, follow, manifest);
* scan       - the same with the default worker processes (every core from 1,000 pages);
* scan (CLI) - the default as a user runs it, a new `python -m pushgen scan` process;
* peer scan  - the npm tool http2-push-manifest over every page of the same folder
               (installed by build_bench.peer_command into bench/_work).

Like for like: both read the same HTML files from the page cache and write one
manifest. The table counts what each found (entries summed over all pages), and
gives CPU seconds (user + system, of this process and its workers, or of the
child) beside wall time: on a machine shared with other work the CPU time is the
steadier figure, and the ratio to the peer is of wall time (its CPU ratio counts
every core pushgen uses, the peer uses one).
Usage:

    python bench/scan_bench.py --pages 10000 --rounds 3 [--markdown docs/performance.md]
    python bench/scan_bench.py --pages 1500 --profile 15   # where scan -j1's CPU goes
    python bench/scan_bench.py --pages 1500 --trace 5      # font tracing alone, per page
    python bench/scan_bench.py --pages 2000 --cpu 3        # scan -j1 alone, CPU a page

``--cpu N`` times ``scan -j1`` alone: one process scans the folder N times and
prints the CPU microseconds a page of each scan and a digest of the manifest
(which must match). With ``--folder DIR`` it scans that built folder (made by a
first ``--cpu`` run with ``--folder``, kept), so that two trees can be compared
on the same pages, each run in a fresh process with ``PYTHONPATH`` on its tree,
interleaved, from the same working directory (the manifest names the folder
relative to it)::

    python bench/scan_bench.py --pages 2000 --cpu 3 --folder /tmp/scan-2000
    PYTHONPATH=/tmp/old python bench/scan_bench.py --cpu 3 --folder /tmp/scan-2000

``--profile N`` runs cProfile over one in-process ``scan -j1`` instead (no peer, no
table) and prints its N costliest functions by own time, then the profile's
own time a page summed by what the code does (bench/profile_build.py's groups). The profiler's clock is
the process's CPU time, not the wall clock: on a shared machine a wall-clock
profile charges another process's time slice to whichever function was running.

``--trace N`` times font tracing alone: one ``scan -j1`` records every traced
page's inputs (its parsed tree, its sheets), then ``pushgen.build.fonts.trace_fonts``
runs over them N times; it prints CPU microseconds a page per round, the function
calls a page (cProfile's count: the same on a loaded machine as on an idle one)
and a digest of the verdicts. Run it with ``PYTHONPATH`` on another tree to
compare two versions of the tracing on the same folder (the digest must match).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_markdown import put_block
from build_bench import make_site, peer_command, peer_scan

from pushgen.build import build_site
from pushgen.build.from_source import scan_folder
from pushgen.config import load_config
from pushgen.sources.folder import folder_config


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Times = dict[str, list[float]]


def _cpu() -> float:
    return time.process_time() + _children_cpu()


def run(pages: int, rounds: int, peer: Path | None) -> tuple[Times, Times, dict[str, int]]:
    work = Path(tempfile.mkdtemp(prefix="pushgen-scan-bench-"))
    try:
        site = make_site(work / "site", pages)
        build_site(load_config(site), full=True)
        folder = site / "_site"
        manifest = work / "push-manifest.yaml"
        config = folder_config(folder, manifest)
        names = ["scan -j1", "scan", "scan (CLI)"] + (["peer scan"] if peer is not None else [])
        found: dict[str, int] = {}
        times: Times = {name: [] for name in names}
        cpu: Times = {name: [] for name in names}
        for _ in range(rounds):
            for name, jobs in (("scan -j1", 1), ("scan", None)):
                manifest.unlink(missing_ok=True)
                started, cpu_started = time.perf_counter(), _cpu()
                result = scan_folder(config, jobs=jobs)
                times[name].append(time.perf_counter() - started)
                cpu[name].append(_cpu() - cpu_started)
                found[name] = sum(len(a) for a in result.manifest.routes.values())
            manifest.unlink()
            started, cpu_started = time.perf_counter(), _children_cpu()
            subprocess.run(
                [sys.executable, "-m", "pushgen", "scan", str(folder), "-m", str(manifest)],
                check=True,
                stderr=subprocess.DEVNULL,
            )
            times["scan (CLI)"].append(time.perf_counter() - started)
            cpu["scan (CLI)"].append(_children_cpu() - cpu_started)
            found["scan (CLI)"] = found["scan"]
            if peer is not None:
                cpu_started = _children_cpu()
                seconds, entries = peer_scan(peer, folder)
                times["peer scan"].append(seconds)
                cpu["peer scan"].append(_children_cpu() - cpu_started)
                found["peer scan"] = entries
        return times, cpu, found
    finally:
        shutil.rmtree(work, ignore_errors=True)


def profile(pages: int, top: int) -> str:
    """cProfile's ``top`` costliest functions (own CPU time) of one ``scan -j1``."""
    work = Path(tempfile.mkdtemp(prefix="pushgen-scan-profile-"))
    try:
        site = make_site(work / "site", pages)
        build_site(load_config(site), full=True)
        config = folder_config(site / "_site", work / "push-manifest.yaml")
        scan_folder(config, jobs=1)  # warm: imports, the page cache
        (work / "push-manifest.yaml").unlink()
        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(scan_folder, config, jobs=1)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats("tottime").print_stats(top)
        return out.getvalue() + "\n" + by_group(profiler, site, pages)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def by_group(profiler: cProfile.Profile, site: Path, pages: int) -> str:
    """The profile's own time per page, summed by what the code does (the groups of
    bench/profile_build.py; lxml's compiled parse is in the scan's own time)."""
    from profile_build import grouped

    groups = grouped(profiler, site)
    total = sum(groups.values())
    lines = ["| where (cProfile, own time) | CPU us a page | share |", "|---|---:|---:|"]
    for name, seconds in sorted(groups.items(), key=lambda item: -item[1]):
        lines.append(f"| {name} | {1e6 * seconds / pages:.0f} | {100 * seconds / total:.0f}% |")
    lines.append(f"| total | {1e6 * total / pages:.0f} | 100% |")
    return "\n".join(lines)


def scan_cpu(pages: int, rounds: int, folder: Path | None) -> str:
    """CPU microseconds a page of ``rounds`` in-process ``scan -j1`` (see ``--cpu``)."""
    work = Path(tempfile.mkdtemp(prefix="pushgen-scan-cpu-"))
    try:
        site = folder if folder is not None else work / "site"
        if not (site / "_site").is_dir():
            build_site(load_config(make_site(site, pages)), full=True)
        manifest = work / "push-manifest.yaml"
        config = folder_config(site / "_site", manifest)
        count = sum(1 for _ in (site / "_site").rglob("*.html"))
        per_page: list[float] = []
        for _ in range(rounds):
            manifest.unlink(missing_ok=True)
            started = time.process_time()
            scan_folder(config, jobs=1)
            per_page.append((time.process_time() - started) / count * 1e6)
        text = manifest.read_text(encoding="utf-8").replace(str(work), "<work>")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return (
        f"{count} pages, scan -j1; CPU us a page: {', '.join(f'{t:.0f}' for t in per_page)}"
        f" (min {min(per_page):.0f}, median {statistics.median(per_page):.0f}); manifest {digest}"
    )


def trace_cost(pages: int, rounds: int) -> str:
    """Font tracing alone over the inputs one ``scan -j1`` traced (see ``--trace``)."""
    import pushgen.build.page_fonts as page_fonts
    from pushgen.build.fonts import trace_fonts

    work = Path(tempfile.mkdtemp(prefix="pushgen-scan-trace-"))
    calls: list[tuple[Any, list[Any], Any]] = []

    def record(root: Any, sheets: Any, style: Any) -> Any:
        calls.append((root, list(sheets), style))
        return trace_fonts(root, sheets, style)

    try:
        site = make_site(work / "site", pages)
        build_site(load_config(site), full=True)
        setattr(page_fonts, "trace_fonts", record)  # noqa: B010 (page_fonts imports it by name)
        try:
            scan_folder(folder_config(site / "_site", work / "push-manifest.yaml"), jobs=1)
        finally:
            setattr(page_fonts, "trace_fonts", trace_fonts)  # noqa: B010
        verdicts = [
            sorted((k, v.verdict, v.reason) for k, v in trace_fonts(*c).items()) for c in calls
        ]
        per_page: list[float] = []
        for _ in range(rounds):
            started = time.process_time()
            for call in calls:
                trace_fonts(*call)
            per_page.append((time.process_time() - started) / len(calls) * 1e6)
        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(lambda: [trace_fonts(*call) for call in calls])
        counted = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    digest = hashlib.sha256(repr(verdicts).encode()).hexdigest()[:16]
    return (
        f"{len(calls)} pages traced; CPU us a page: {', '.join(f'{t:.1f}' for t in per_page)}"
        f" (min {min(per_page):.1f}, median {statistics.median(per_page):.1f});"
        f" {counted / len(calls):.1f} function calls a page; verdicts {digest}"
    )


def table(pages: int, times: Times, cpu: Times, found: dict[str, int]) -> str:
    peer = statistics.median(times["peer scan"]) if "peer scan" in times else None
    peer_cpu = statistics.median(cpu["peer scan"]) if "peer scan" in cpu else None
    lines = [
        "| pages | what | median s | min s | max s | pages/s | peer / this | CPU s (median) "
        "| peer / this (CPU) | entries found |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, values in times.items():
        med = statistics.median(values)
        med_cpu = statistics.median(cpu[name])
        ratio = f"{peer / med:.1f}x" if peer is not None else ""
        ratio_cpu = f"{peer_cpu / med_cpu:.1f}x" if peer_cpu is not None else ""
        lines.append(
            f"| {pages} | {name} | {med:.2f} | {min(values):.2f} | {max(values):.2f} "
            f"| {pages / med:,.0f} | {ratio} | {med_cpu:.2f} | {ratio_cpu} "
            f"| {found.get(name, '')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true", help="skip http2-push-manifest")
    parser.add_argument("--markdown", type=Path, help="also write the table into this file")
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile one scan -j1 instead: its N top costs"
    )
    parser.add_argument(
        "--trace", type=int, metavar="N", help="time font tracing alone instead, N rounds"
    )
    parser.add_argument(
        "--cpu", type=int, metavar="N", help="time N in-process scan -j1 instead (CPU a page)"
    )
    parser.add_argument("--folder", type=Path, help="with --cpu: the site to build once and keep")
    args = parser.parse_args(argv)
    if args.cpu:
        print(scan_cpu(args.pages, args.cpu, args.folder))
        return 0
    if args.trace:
        print(trace_cost(args.pages, args.trace))
        return 0
    if args.profile:
        print(profile(args.pages, args.profile))
        return 0
    peer = None if args.no_peer else peer_command()
    times, cpu, found = run(args.pages, args.rounds, peer)
    text = table(args.pages, times, cpu, found)
    print(text)
    if args.markdown:
        command = f"python bench/scan_bench.py --pages {args.pages} --rounds {args.rounds}"
        put_block(args.markdown, "scan_bench", f"`{command}`:\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
