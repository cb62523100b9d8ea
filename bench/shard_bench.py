"""A sharded build against one build, on a large generated site (issue 27, docs/sharding.md).

Builds the site of bench/shapes.py's ``default`` shape (``--pages``) as ``--shards``
separate ``pushgen build --shard K/N`` processes, one after another (in CI they are
parallel jobs on machines of their own, so the longest shard is the wall time), joins
them with ``pushgen merge``, then builds it once with ``pushgen build``; each a fresh
process, each a full build. Reports the longest (and every) shard's wall time, the
merge's and the single build's, and checks that the merged manifest is the single
build's byte for byte and the shards' outputs together its output.

    python bench/shard_bench.py --pages 20000 --shards 4
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from shapes import make_site

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Timings:
    """Wall-clock seconds of each step, and whether the sharded result is the single one."""

    shards: list[float]
    merge: float
    single: float
    identical_manifest: bool
    identical_output: bool


def _pushgen(cwd: Path, *args: str) -> float:
    """Run ``pushgen ARGS`` in a fresh process; its wall-clock seconds."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pushgen", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pushgen {' '.join(args)} failed:\n{done.stderr}")
    return seconds


def _digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def run(work: Path, pages: int, shards: int) -> Timings:
    """Make the site under ``work``, build it sharded and once; the timings."""
    site = make_site(work / "site", pages)
    single = work / "single"
    shutil.copytree(site, single)
    times = [
        _pushgen(work, "build", "site", "--shard", f"{k}/{shards}", "-j1")
        for k in range(1, shards + 1)
    ]
    parts = [f"site/push-manifest.shard-{k}-of-{shards}.yaml" for k in range(1, shards + 1)]
    merge = _pushgen(work, "merge", *parts, "-o", "site/push-manifest.yaml")
    one = _pushgen(work, "build", "single", "-j1")
    union: dict[str, str] = {}
    for k in range(1, shards + 1):
        union.update(_digests(site / f"_site.shard-{k}-of-{shards}"))
    return Timings(
        shards=times,
        merge=merge,
        single=one,
        identical_manifest=(site / "push-manifest.yaml").read_bytes()
        == (single / "push-manifest.yaml").read_bytes(),
        identical_output=union == _digests(single / "_site"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument(
        "--keep",
        type=Path,
        help="build in this new folder and keep it (to time `pushgen merge` again on the parts)",
    )
    args = parser.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True)
        timings = run(args.keep, args.pages, args.shards)
    else:
        with tempfile.TemporaryDirectory(prefix="shard-bench-") as tmp:
            timings = run(Path(tmp), args.pages, args.shards)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"pages {args.pages}, shards {args.shards}, load average {' '.join(load)}")
    print("shards (s):", ", ".join(f"{t:.2f}" for t in timings.shards))
    print(
        f"longest shard {max(timings.shards):.2f} s, merge {timings.merge:.2f} s,"
        f" single build {timings.single:.2f} s"
    )
    print(
        f"merged manifest identical: {timings.identical_manifest};"
        f" shards' outputs together identical: {timings.identical_output}"
    )
    return 0 if timings.identical_manifest and timings.identical_output else 1


if __name__ == "__main__":
    sys.exit(main())
