"""The runtime at 100,000 routes: time to ready and memory, YAML vs the compiled form (issue 27).

Writes a manifest of ``--routes`` routes (5 entries each, drawn from 50
stylesheets) with pushgen's writer, and its compiled form beside it
(:func:`pushgen.manifest.compiled.write_compiled`, what every build does), and a
copy without one. Each measurement runs in a fresh process: ``ready`` is the time
from nothing loaded to the first request answerable in-process (the generic ASGI
middleware built, :class:`pushgen.asgi.PushgenMiddleware`, and one route matched);
``RSS added`` is the process's resident memory after that minus before (and its
peak); ``reload`` is :meth:`ManifestState.reload` of the same file, a new table
swapped in; then the manifest as ``pushgen explain ROUTE`` reads and resolves it
(:func:`pushgen.manifest.compiled.read_manifest`), and ``pushgen check``'s
:func:`pushgen.manifest.check.check_manifest`, each timed. Rounds are interleaved (YAML, compiled, YAML, ...); the figures are
medians. Usage::

    python bench/runtime_scale_bench.py [--routes 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the checkout's pushgen, not an installed one

_STYLESHEETS = 50
_ENTRIES = 5


def _rss() -> dict[str, int]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def write_site(folder: Path, routes: int) -> Path:
    """Write the manifest (and its compiled form) into ``folder``; return the manifest."""
    from pushgen.manifest import Manifest, dump_manifest
    from pushgen.manifest.compiled import write_compiled
    from pushgen.model import Asset

    sheets = [Asset(f"/static/css/sheet-{i}.css", "style") for i in range(_STYLESHEETS)]
    table = {
        f"/section-{i % 100}/page-{i}/": tuple(
            sheets[(i + k * 7) % _STYLESHEETS] for k in range(_ENTRIES)
        )
        for i in range(routes)
    }
    text = dump_manifest(Manifest(routes=table))
    manifest = folder / "compiled" / "push-manifest.yaml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    written = write_compiled(manifest, text)
    if not written.current:
        raise SystemExit(f"the compiled form was not written: {written.problem}")
    print(f"compiled in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    plain = folder / "yaml" / "push-manifest.yaml"
    plain.parent.mkdir(parents=True)
    plain.write_text(text, encoding="utf-8")
    return manifest


def child(manifest: str, route: str) -> None:
    """One measurement, printed as JSON: ready time, RSS added, reload time."""
    import pushgen.asgi  # imported before the clock: the same in both paths

    before = _rss()
    started = time.perf_counter()

    async def app(scope: object, receive: object, send: object) -> None:
        return None

    middleware = pushgen.asgi.PushgenMiddleware(app, manifest=manifest, reload_interval=0)
    plan = middleware.state.table.lookup(route)
    ready = time.perf_counter() - started
    assert plan is not None and plan.links, route
    after = _rss()
    started = time.perf_counter()
    swapped = asyncio.run(middleware.state.reload())
    reload = time.perf_counter() - started
    assert swapped and middleware.state.table.lookup(route) is not None
    del middleware
    print(
        json.dumps(
            {
                "ready": ready,
                "rss": after["VmRSS"] - before["VmRSS"],
                "peak": after["VmHWM"] - before["VmRSS"],
                "reload": reload,
                **_commands(manifest, route),
            }
        )
    )


def _commands(manifest: str, route: str) -> dict[str, float]:
    """Seconds ``pushgen explain ROUTE`` and ``pushgen check`` spend on the manifest."""
    from pushgen.manifest.check import check_manifest
    from pushgen.manifest.compiled import read_manifest

    started = time.perf_counter()
    decisions = read_manifest(manifest).decisions(route.rstrip("/") + "/")
    explain = time.perf_counter() - started
    assert len(decisions) == _ENTRIES
    started = time.perf_counter()
    problems = check_manifest(manifest)
    check = time.perf_counter() - started
    assert not problems, problems[:3]
    return {"explain": explain, "check": check}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--routes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("MANIFEST", "ROUTE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        compiled = write_site(Path(tmp), args.routes)
        paths = {"YAML": Path(tmp) / "yaml" / compiled.name, "compiled": compiled}
        route = f"/section-7/page-{args.routes // 2 + 7}"  # an alias, without its slash
        results: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, path in paths.items():
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), route],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                results[name].append(json.loads(out))
    print(
        f"{args.routes} routes x {_ENTRIES} entries ({_STYLESHEETS} stylesheets), load avg ", end=""
    )
    print(Path("/proc/loadavg").read_text().split()[:3])
    print(
        "| path | ready (s) | RSS added (MB) | peak added (MB) | reload (s)"
        " | explain's load (s) | check (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, runs in results.items():

        def median(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(run[key] for run in runs)

        print(
            f"| {name} | {median('ready'):.3f} | {median('rss') / 2**20:.0f} "
            f"| {median('peak') / 2**20:.0f} | {median('reload'):.3f} "
            f"| {median('explain'):.3f} | {median('check'):.3f} |"
        )


if __name__ == "__main__":
    main()
