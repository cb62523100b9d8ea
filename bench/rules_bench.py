"""Rules and manifests at scale: loading, checking, glob matching, writing (issue 11 item 9),
exporting and serving pattern rules (issue 22 item 7).

Prints seconds for each case; run with ``.venv/bin/python -m bench.rules_bench``
(``--only manifest``, ``--only exports [--formats nginx,h2o]`` or ``--only flood``
for one part). Times depend on the machine and its load; compare them with each
other (the ratios printed: 4x the rules should take about 4x the time), or with
the same script run against another checkout (PYTHONPATH).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pushgen.export import FORMATS, export_manifest
from pushgen.manifest import Manifest, dump_manifest, load_manifest, parse_manifest
from pushgen.manifest.check import check_manifest
from pushgen.manifest.rules import glob_matches
from pushgen.model import Asset


def exact_rules(count: int) -> str:
    """``count`` exact rules, one entry added each: 16,000 of them are 1.2 MB."""
    rules = "".join(
        f"  - match: /page/{i}.html\n    add: [{{path: /static/css/p{i}.css, as: style}}]\n"
        for i in range(count)
    )
    return f"version: 1\nrules:\n{rules}"


def timed(
    label: str,
    run: Callable[[], object],
    repeat: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = clock()
        run()
        best = min(best, clock() - started)
    unit = "s" if clock is time.perf_counter else "s CPU"
    print(f"{label:<52} {best:8.3f} {unit}")
    return best


def pattern_rules(count: int, kind: str) -> str:
    """``count`` pattern rules (globs, or Quart rules with ``kind == "rule"``), each adding
    an entry, and 100 routes; every rule's pattern is its own section of the site."""
    match = "/section{i}/<slug>" if kind == "rule" else "/section{i}/*"
    rules = "".join(
        f"  - match: {match.format(i=i)}\n    add: [{{path: /static/css/s{i}.css, as: style}}]\n"
        for i in range(count)
    )
    routes = "".join(
        f"  /page/{i}.html:\n    - {{path: /static/css/site.css, as: style}}\n" for i in range(100)
    )
    return f"version: 1\nrules:\n{rules}routes:\n{routes}"


def export_times(formats: list[str], counts: tuple[int, ...] = (1_000, 4_000, 16_000)) -> None:
    """Export CPU time per format and rule count, and each count's ratio to the first."""
    for kind in ("glob", "rule"):
        manifests = {n: parse_manifest(pattern_rules(n, kind), "m.yaml") for n in counts}
        for name in formats:
            first = 0.0
            for count, manifest in manifests.items():
                gc.collect()  # the other manifests' garbage is not this export's
                seconds = timed(
                    f"export --format {name}: {count:,} {kind} rules",
                    partial(export_manifest, manifest, name, root="/srv/www", skip_patterns=True),
                    repeat=1,
                    # CPU time: the export is one thread, and a busy machine's other
                    # processes stretch wall-clock times by up to 10x.
                    clock=time.process_time,
                )
                first = first or seconds
                print(f"{'':<52} {seconds / first:8.1f} x the {counts[0]:,} rules")


def flood(rules: int, requests: int = 2_000) -> float:
    """Requests per second of GETs for distinct missing pages through a Quart app with pushgen.

    Each path is new, so none is in the runtime's cache of pattern plans: every
    request asks the manifest's pattern rules (the attack of issue 22 item 7).
    """
    from quart import Quart

    import pushgen.quart

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "push-manifest.yaml"
        path.write_text(pattern_rules(rules, "glob") if rules else "version: 1\nroutes: {}\n")
        app = Quart(__name__)
        pushgen.quart.init_app(app, manifest=path, reload_interval=0)

        async def run() -> float:
            client = app.test_client()
            started = time.perf_counter()
            for i in range(requests):
                response = await client.get(f"/missing/{i}/page", http_version="2")
                assert response.status_code == 404
            return requests / (time.perf_counter() - started)

        rate = asyncio.run(run())
    print(f"{f'missing-page flood, {rules:,} glob rules':<52} {rate:8.0f} req/s")
    return rate


def manifest_times() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for count in (4_000, 16_000):
            path = Path(folder) / f"rules-{count}.yaml"
            path.write_text(exact_rules(count))
            size = path.stat().st_size / 1e6
            timed(f"load {count:,} exact rules ({size:.1f} MB)", partial(load_manifest, path))
            timed(f"check {count:,} exact rules", partial(check_manifest, path))
    for length in (5_000, 20_000):
        route = "/" + "a/" * (length // 2)
        timed(
            f"glob /**/**/**/c against a {length // 1000} KB path",
            partial(glob_matches, "/**/**/**/c", route),
        )
    routes = {
        f"/p{i}/": tuple(Asset(f"/static/a{j}.css?v={i}", "style") for j in range(10))
        for i in range(10_000)
    }
    manifest = Manifest(routes=routes)
    timed("write 100,000 entries (with query strings)", lambda: dump_manifest(manifest))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("manifest", "exports", "flood"))
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated")
    parser.add_argument("--counts", default="1000,4000,16000", help="rule counts, comma-separated")
    parser.add_argument("--requests", type=int, default=2000, help="requests of each flood")
    args = parser.parse_args(argv)
    if args.only in (None, "manifest"):
        manifest_times()
    if args.only in (None, "exports"):
        counts = tuple(int(c) for c in args.counts.split(","))
        export_times(args.formats.split(","), counts)
    if args.only in (None, "flood"):
        without = flood(0, args.requests)
        with_rules = flood(16_000, args.requests)
        print(f"{'':<52} {with_rules / without:8.2f} x the rate without rules")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
