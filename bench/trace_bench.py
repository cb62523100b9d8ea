"""Per-page font tracing cost: pushgen's tracing against the straightforward one.

Builds bench/shapes.py sites (``-j1``) and, with ``--sphinx``, scans a small
Sphinx site in the Read the Docs theme (the one tests/generators/test_generators.py
builds), records every page's tracing inputs (the parsed page, its sheets), then
traces them all with pushgen.build.fonts and with tests/build/fonts_reference.py
(the tracing before its fast paths) in alternating rounds. It prints CPU time per
page (user+sys of this process; the pages are already parsed) for each, medians
of ``--rounds``, and checks that both decide the same.

Usage:

    python bench/trace_bench.py [--pages 1000] [--rounds 5] [--shapes default css large] [--sphinx]
"""

from __future__ import annotations

import argparse
import functools
import resource
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.build

from shapes import SHAPES

import pushgen.build.page_fonts as page_fonts
from pushgen.build import build_site
from pushgen.build.fonts import trace_fonts
from pushgen.build.from_source import scan_folder
from pushgen.config import load_config
from pushgen.sources.folder import folder_config
from tests.build import fonts_reference

Call = tuple[Any, list[Any], Callable[[str], Any]]


def recorded(run: Callable[[], object]) -> list[Call]:
    """The tracing inputs of every page ``run`` traces."""
    calls: list[Call] = []

    def record(root: Any, sheets: Any, style: Any) -> Any:
        calls.append((root, list(sheets), style))
        return trace_fonts(root, sheets, style)

    setattr(page_fonts, "trace_fonts", record)  # noqa: B010 (page_fonts imports it by name)
    try:
        run()
    finally:
        setattr(page_fonts, "trace_fonts", trace_fonts)  # noqa: B010
    return calls


def shape_calls(shape: str, pages: int, work: Path) -> list[Call]:
    site = SHAPES[shape](work / shape, pages)
    return recorded(lambda: build_site(load_config(site), jobs=1, full=True))


def sphinx_calls(work: Path) -> list[Call]:
    from tests.generators.builders import build_sphinx

    config = folder_config(build_sphinx(work), work / "sphinx.yaml")
    return recorded(lambda: scan_folder(config, jobs=1))


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def compare(calls: list[Call], rounds: int) -> tuple[float, float]:
    """Median CPU seconds per page: (reference, pushgen)."""
    for root, sheets, style in calls:
        assert trace_fonts(root, sheets, style) == fonts_reference.trace_fonts(root, sheets, style)
    times: dict[str, list[float]] = {"reference": [], "pushgen": []}
    for _ in range(rounds):
        for name, trace in (("reference", fonts_reference.trace_fonts), ("pushgen", trace_fonts)):
            started = cpu()
            for root, sheets, style in calls:
                trace(root, sheets, style)
            times[name].append((cpu() - started) / len(calls))
    return statistics.median(times["reference"]), statistics.median(times["pushgen"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--shapes", nargs="*", default=["default", "css", "large"])
    parser.add_argument("--sphinx", action="store_true", help="also the Read the Docs site")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pushgen-trace-"))
    try:
        sites: list[tuple[str, Callable[[], list[Call]]]] = [
            (shape, functools.partial(shape_calls, shape, args.pages, work))
            for shape in args.shapes
        ]
        if args.sphinx:
            sites.append(("sphinx (rtd theme)", functools.partial(sphinx_calls, work)))
        print("| site | pages traced | reference ms/page | pushgen ms/page | ratio |")
        print("|---|---:|---:|---:|---:|")
        for name, make in sites:
            calls = make()
            reference, fast = compare(calls, args.rounds)
            print(
                f"| {name} | {len(calls)} | {reference * 1e3:.3f} | {fast * 1e3:.3f} "
                f"| {reference / fast:.1f}x |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
