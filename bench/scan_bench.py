"""`pushgen scan` of a built folder against http2-push-manifest on the same files, side by side.

The folder is build_bench.py's generated site (layout, partials, per-page
stylesheets, a font behind an @import chain, a module graph), built once with
`pushgen build`: its `_site` is then an ordinary built folder. Per round:

* scan       - `pushgen scan` of the folder (in process: walk, read, scan, follow, manifest);
* scan (CLI) - the same as a user runs it, a new `python -m pushgen scan` process;
* peer scan  - the npm tool http2-push-manifest over every page of the same folder
               (installed by build_bench.peer_command into bench/_work).

Like for like: both read the same HTML files from the page cache and write one
manifest. The table counts what each found (entries summed over all pages).
Usage:

    python bench/scan_bench.py --pages 10000 --rounds 3 [--markdown docs/performance-sources.md]
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

from bench_markdown import put_block
from build_bench import make_site, peer_command, peer_scan

from pushgen.build import build_site
from pushgen.config import load_config
from pushgen.sources.folder import folder_config, scan_folder


def run(
    pages: int, rounds: int, peer: Path | None
) -> tuple[dict[str, list[float]], dict[str, int]]:
    work = Path(tempfile.mkdtemp(prefix="pushgen-scan-bench-"))
    try:
        site = make_site(work / "site", pages)
        build_site(load_config(site), full=True)
        folder = site / "_site"
        manifest = work / "push-manifest.yaml"
        config = folder_config(folder, manifest)
        found = {"scan": 0, "scan (CLI)": 0}
        times: dict[str, list[float]] = {"scan": [], "scan (CLI)": []}
        if peer is not None:
            times["peer scan"] = []
        for _ in range(rounds):
            manifest.unlink(missing_ok=True)
            started = time.perf_counter()
            result = scan_folder(config)
            times["scan"].append(time.perf_counter() - started)
            found["scan"] = found["scan (CLI)"] = sum(
                len(a) for a in result.manifest.routes.values()
            )
            manifest.unlink()
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "pushgen", "scan", str(folder), "-m", str(manifest)],
                check=True,
                stderr=subprocess.DEVNULL,
            )
            times["scan (CLI)"].append(time.perf_counter() - started)
            if peer is not None:
                seconds, entries = peer_scan(peer, folder)
                times["peer scan"].append(seconds)
                found["peer scan"] = entries
        return times, found
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(pages: int, times: dict[str, list[float]], found: dict[str, int]) -> str:
    peer = statistics.median(times["peer scan"]) if "peer scan" in times else None
    lines = [
        "| pages | what | median s | min s | max s | pages/s | peer / this | entries found |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, values in times.items():
        med = statistics.median(values)
        ratio = f"{peer / med:.1f}x" if peer is not None else ""
        lines.append(
            f"| {pages} | {name} | {med:.2f} | {min(values):.2f} | {max(values):.2f} "
            f"| {pages / med:,.0f} | {ratio} | {found.get(name, '')} |"
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
    args = parser.parse_args(argv)
    peer = None if args.no_peer else peer_command()
    times, found = run(args.pages, args.rounds, peer)
    text = table(args.pages, times, found)
    print(text)
    if args.markdown:
        command = f"python bench/scan_bench.py --pages {args.pages} --rounds {args.rounds}"
        put_block(args.markdown, "scan_bench", f"`{command}`:\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
