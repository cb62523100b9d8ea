"""What the pushgen runtime costs a server: requests per second against plain Quart, memory per route.

**Requests per second.** The same built site is served by several apps, each in
its own process on the same Hypercorn configuration (``pushgen.commands.serve_site.run_server``:
HTTP/2 over TLS, one worker; the access log off for all of them unless
``--access-log``):

* ``pushgen serve``: :func:`pushgen.app.create_app` with its defaults, what
  ``pushgen serve`` runs: push and Link headers on, and a 103 Early Hints before
  every page's response (``early_hints_delay`` 0, chosen in Chromium by
  ``bench/browser_bench.py``);
* ``pushgen, 103 always``: the same with ``early_hints_delay=0`` pinned;
  ``pushgen, 103 after 2 ms``: with ``early_hints_delay=0.002`` (the default
  until issue 27), a 103 only for a page whose response has not started by then;
  ``pushgen serve, 103 in a write of its own``: the defaults without
  :mod:`pushgen.runtime.h2hints` (Hypercorn flushes each 103 alone), to show what
  sending the 103 in its 200's write saves;
* ``pushgen, push off`` / ``pushgen, Link only``: the 103-always app with
  ``push=False``, and with only the Link header left on, to show what each part
  costs;
* ``site_app (no pushgen)``: :func:`pushgen.runtime.factory.site_app` without
  :func:`pushgen.quart.init_app`: the same file serving (ETag, 304,
  Cache-Control, 404 page) minus pushgen. The ratios are taken against it;
* ``bare Quart``: a two-route Quart app around ``send_from_directory``, the floor
  of serving files with Quart at all.

h2load (``-c 16 -m 4 -t 1 -D 2s`` by default; Hypercorn closes a connection
after 1000 requests and h2load does not reconnect, so a run needs enough
clients that none reaches that) asks for three things: the
page (``/``, a route with hints: a 103, a Link header, pushes), an asset (a
stylesheet: a route-table miss), and a page view (the page and the seven files
it makes a browser fetch, in turn). Besides h2load's requests per second, the
server process's CPU time (``/proc/PID/stat``) per request is reported: on a
shared machine it varies far less than a rate does; and the share of responses
that began with a 103 (h2load counts them under "3xx"), which shows whether the
delayed 103 stays away under load, when queueing makes every response late. The
servers run on one CPU and h2load on another (``taskset``; ``--no-pin`` leaves them
to the scheduler): sharing two cores, h2load's own work otherwise lands on the
server's core in some runs and not in others. Rounds are interleaved
(each round runs every server once per URL set, in an order that rotates); a
warm-up run precedes them. Each figure is the median of the rounds, with min
and max; ratios are medians over the baseline's median.

h2load disables push (``SETTINGS_ENABLE_PUSH=0``), as every current browser
does. Hypercorn 0.18 offers the ASGI push extension on every HTTP/2 request
whatever the client's setting, and builds each PUSH_PROMISE before h2 drops it;
pushgen's Hypercorn hook (:mod:`pushgen.runtime.h2push`) withholds the extension
from such a client, so the middleware does no push work for it. Two more servers
show what that is worth: ``pushgen serve, no push hook`` (the hook left out: every
page pays for pushes h2load refuses, as before the hook) and ``pushgen, all off``
(push, 103 and Link off: the same app doing no hint work at all). The goal table
gives each one's page requests per second over ``all off``'s (goal: >= 0.98).

**Memory per route.** A 10,000-route manifest (5 entries a route, as ``pushgen
build`` writes it) is parsed, then :func:`pushgen.runtime.headers.build_route_table`
runs under ``tracemalloc``; the bytes still allocated afterwards are the route
table the server keeps (the parsed manifest is not kept when it has no pattern
rules). :meth:`RouteTable.lookup` is timed for a hit and a miss.

Usage::

    python bench/runtime_bench.py [--rounds 5] [--duration 2] [--quick]
        [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import shutil
import statistics
import sys
import tempfile
import timeit
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench_markdown import put_block
from bench_process import SERVING, Process, spawn_url
from h2load_runs import Cpus, Results, cpus_apart, interleaved, pinning

from pushgen.build import build_site
from pushgen.config import load_config
from pushgen.manifest import parse_manifest
from pushgen.runtime.certs import dev_certificate
from pushgen.runtime.headers import RouteTable, build_route_table

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Runtime bench</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
<link rel="icon" href="{{ url_for('static', filename='img/icon.svg') }}">
<script type="module" src="{{ url_for('static', filename='js/app.js') }}"></script>
</head><body><header><h1>A page</h1></header>
<main>{% for i in range(20) %}<p>Paragraph {{ i }}: lorem ipsum dolor sit amet.</p>{% endfor %}
<img src="{{ url_for('static', filename='img/hero.png') }}" alt=""></main></body></html>
"""
SITE_FILES: dict[str, bytes] = {
    "pages/index.html": PAGE.encode(),
    "static/css/site.css": b'@import "base.css";\nh1 { margin: 0 }\n',
    "static/css/base.css": b"@font-face { font-family: Body;"
    b' src: url(../fonts/body.woff2) format("woff2") }\nbody { font-family: Body }\n',
    "static/fonts/body.woff2": b"wOF2" + b"\0" * 4000,
    "static/js/app.js": b'import {x} from "./lib.js";\nconsole.log(x);\n',
    "static/js/lib.js": b"export const x = 1;\n",
    "static/img/icon.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    "static/img/hero.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 2000,
}
PAGE_URL = "/"
ASSET_URL = "/static/css/base.css"
# What a browser fetches for one view of the page (the page, then its files).
PAGE_VIEW = (
    PAGE_URL,
    "/static/css/site.css",
    ASSET_URL,
    "/static/fonts/body.woff2",
    "/static/js/app.js",
    "/static/js/lib.js",
    "/static/img/icon.svg",
    "/static/img/hero.png",
)
URL_SETS: dict[str, tuple[str, ...]] = {
    "page `/` (hints, pushes)": (PAGE_URL,),
    f"asset `{ASSET_URL}` (no hints)": (ASSET_URL,),
    "page view (page + 7 files)": PAGE_VIEW,
}

# name -> the app --serve builds
SERVERS = {
    "pushgen serve": "pushgen",
    "pushgen, 103 always": "pushgen-103",
    "pushgen, 103 after 2 ms": "pushgen-2ms",
    "pushgen serve, 103 in a write of its own": "pushgen-nohold",
    "pushgen, push off": "pushgen-nopush",
    "pushgen, Link only": "pushgen-link",
    "pushgen serve, no push hook": "pushgen-nohook",
    "pushgen, all off": "pushgen-off",
    "site_app (no pushgen)": "site_app",
    "bare Quart": "quart",
}
BASELINE = "site_app (no pushgen)"
ALL_OFF = "pushgen, all off"
GOAL_SERVERS = (
    "pushgen serve",
    "pushgen serve, 103 in a write of its own",
    "pushgen, 103 after 2 ms",
    "pushgen serve, no push hook",
    ALL_OFF,
)

INTRO = """\
# Performance

Figures measured by the benchmarks in `bench/`. Each table is written by its benchmark
between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers, with the command that made
it; rerunning that command with `--markdown docs/performance.md` replaces the table and
nothing else. The machines these run on are shared and noisy, so every comparison is
measured side by side in one run: interleaved rounds, medians with min and max, ratios of
medians.
"""
SECTION = (
    "## Runtime cost\n"
    "\n"
    "What the pushgen runtime costs a server, against the same files served by Quart without it;\n"
    "the method is in the docstring of `bench/runtime_bench.py`.\n"
)


# --- the servers ------------------------------------------------------------------


def make_app(kind: str, site: Path) -> object:
    """The ASGI app ``kind`` names, serving the built ``site``."""
    from quart import Quart, Response, send_from_directory

    from pushgen.app import create_app
    from pushgen.runtime.factory import site_app

    config = load_config(site)
    if kind == "pushgen":
        return create_app(site, environ={})
    if kind == "pushgen-103":
        return create_app(site, early_hints_delay=0, environ={})
    if kind == "pushgen-2ms":
        return create_app(site, early_hints_delay=0.002, environ={})
    if kind == "pushgen-nohold":
        from pushgen.runtime import h2hints

        # Before the hook is installed (it binds the function then): Hypercorn writes
        # each 103 with a flush of its own, as before pushgen.runtime.h2hints.
        h2hints.hold_early_hint = lambda protocol, event: False
        return create_app(site, environ={})
    if kind == "pushgen-nopush":
        return create_app(site, push=False, early_hints_delay=0, environ={})
    if kind == "pushgen-link":
        return create_app(site, push=False, early_hints=False, environ={})
    if kind == "pushgen-nohook":
        from pushgen.runtime import h2push

        # Mark the hook as refused before the app would install it: this server
        # then runs Hypercorn as it ships, which is what the hook is measured against.
        h2push._state["installed"] = False
        return create_app(site, environ={})
    if kind == "pushgen-off":
        return create_app(site, push=False, early_hints=False, link_headers=False, environ={})
    if kind == "site_app":
        return site_app(config.output, base_path=config.base_path, pretty_urls=config.pretty_urls)
    if kind == "quart":
        app = Quart("bare", static_folder=None)
        output = config.output

        @app.get("/")
        async def index() -> Response:
            return await send_from_directory(output, "index.html")

        @app.get("/<path:name>")
        async def files(name: str) -> Response:
            return await send_from_directory(output, name)

        return app
    raise ValueError(f"unknown app {kind!r}")


def serve(kind: str, site: Path, certfile: Path, keyfile: Path, access_log: bool) -> int:
    """Run app ``kind`` on ``pushgen.commands.serve_site.run_server`` on a free port until SIGINT."""
    from quart import Quart

    from pushgen.commands.serve_site import run_server

    app = make_app(kind, site)
    assert isinstance(app, Quart)
    return run_server(app, port=0, certfile=certfile, keyfile=keyfile, access_log=access_log)


def start(kind: str, site: Path, certs: tuple[Path, Path], work: Path, access_log: bool) -> Process:
    """Start ``--serve KIND`` in a subprocess; wait until it accepts connections."""
    log = work / f"{kind}.log"
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, "--site", str(site)]
    argv += ["--cert", str(certs[0]), "--key", str(certs[1])]
    if access_log:
        argv.append("--access-log")
    return spawn_url(argv, log, {}, SERVING)


@contextlib.contextmanager
def running(servers: list[Process]) -> Iterator[list[Process]]:
    """Stop every server on the way out."""
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


# --- memory per route -------------------------------------------------------------


def manifest_text(routes: int) -> str:
    """A manifest like ``pushgen build`` writes for ``routes`` pages in 20 sections."""
    lines = ["version: 1", "routes:"]
    for i in range(routes):
        lines += [
            f"  /docs/section-{i % 20}/page-{i}/:",
            "    - {path: /static/css/site.css, as: style}",
            f"    - {{path: /static/css/section-{i % 20}.css, as: style}}",
            "    - {path: /static/fonts/body.woff2, as: font, type: font/woff2, crossorigin: anonymous}",
            "    - {path: /static/js/app.js, as: script, module: true}",
            f"    - {{path: /static/img/page-{i}.png, as: image, push: false}}",
        ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Memory:
    """Route-table figures for one manifest size."""

    routes: int
    keys: int
    table_bytes: int
    peak_bytes: int
    hit_ns: float
    miss_ns: float


def measure_memory(routes: int) -> Memory:
    """tracemalloc the route table of a ``routes``-route manifest; time its lookups."""
    manifest = parse_manifest(manifest_text(routes))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        table: RouteTable | None = build_route_table(manifest)
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table is not None
    hit = "/docs/section-7/page-1207/"
    miss = "/static/css/site.css"
    assert table.lookup(hit) is not None and table.lookup(miss) is None
    number = 200_000
    lookup = table.lookup
    hit_s = min(timeit.repeat(lambda: lookup(hit), number=number, repeat=5)) / number
    miss_s = min(timeit.repeat(lambda: lookup(miss), number=number, repeat=5)) / number
    return Memory(
        routes, len(table.plans), after - before, peak - before, hit_s * 1e9, miss_s * 1e9
    )


# --- the benchmark ----------------------------------------------------------------


def make_site(root: Path) -> Path:
    """Write and build the benchmark site under ``root``."""
    for rel, content in SITE_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    build_site(load_config(root))
    return root


def run(
    rounds: int,
    duration: float,
    clients: int,
    streams: int,
    access_log: bool,
    *,
    goal: bool = False,
    cpus: Cpus | None = None,
) -> Results:
    """Every round: each URL set against each server, in a rotating order.

    ``goal``: only the page, and only the servers of :func:`goal_table`.
    """
    work = Path(tempfile.mkdtemp(prefix="pushgen-runtime-"))
    try:
        site = make_site(work / "site")
        cert = dev_certificate(work / "cert")
        certs = (cert.certfile, cert.keyfile)
        names = list(GOAL_SERVERS if goal else SERVERS)
        url_sets = {k: v for k, v in URL_SETS.items() if not goal or v == (PAGE_URL,)}
        with running([]) as servers:
            for name in names:
                servers.append(start(SERVERS[name], site, certs, work, access_log))
            by_name = dict(zip(names, servers, strict=True))
            return interleaved(by_name, url_sets, rounds, duration, clients, streams, cpus)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def rps_table(results: Results) -> str:
    """Median (min-max) requests per second and CPU per request, with ratios to the baseline."""
    lines = [
        "| requests | server | req/s median | min | max | req/s x site_app | CPU µs/req median"
        " | min | max | CPU x site_app | with a 103 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, by_server in results.items():
        base_rps = statistics.median(r.rps for r in by_server[BASELINE])
        base_cpu = statistics.median(r.cpu_us for r in by_server[BASELINE])
        for name, runs in by_server.items():
            rps = [r.rps for r in runs]
            cpu = [r.cpu_us for r in runs]
            med_rps, med_cpu = statistics.median(rps), statistics.median(cpu)
            hinted = statistics.median(r.early_hints for r in runs)
            lines.append(
                f"| {label} | {name} | {med_rps:.0f} | {min(rps):.0f} | {max(rps):.0f}"
                f" | {med_rps / base_rps:.2f} | {med_cpu:.0f} | {min(cpu):.0f} | {max(cpu):.0f}"
                f" | {med_cpu / base_cpu:.2f} | {hinted:.0%} |"
            )
    return "\n".join(lines)


def goal_table(results: Results) -> str:
    """Page requests per second of pushgen's servers over the same app with everything off."""
    lines = [
        f"| requests | server | req/s median | x {ALL_OFF} (goal >= 0.98) | CPU x {ALL_OFF} |",
        "|---|---|---:|---:|---:|",
    ]
    for label, by_server in results.items():
        off_rps = statistics.median(r.rps for r in by_server[ALL_OFF])
        off_cpu = statistics.median(r.cpu_us for r in by_server[ALL_OFF])
        for name in GOAL_SERVERS:
            rps = statistics.median(r.rps for r in by_server[name])
            cpu = statistics.median(r.cpu_us for r in by_server[name])
            lines.append(
                f"| {label} | {name} | {rps:.0f} | {rps / off_rps:.2f} | {cpu / off_cpu:.2f} |"
            )
    return "\n".join(lines)


def memory_table(memory: Memory) -> str:
    """The route-table figures as a Markdown table."""
    return "\n".join(
        [
            "| routes | table keys (aliases) | table bytes | bytes/route | peak while building, bytes/route"
            " | lookup hit | lookup miss |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {memory.routes} | {memory.keys} | {memory.table_bytes} | {memory.table_bytes / memory.routes:.0f}"
            f" | {memory.peak_bytes / memory.routes:.0f} | {memory.hit_ns:.0f} ns | {memory.miss_ns:.0f} ns |",
        ]
    )


def load_average() -> str:
    """The 1-minute load average (``/proc/loadavg``): how busy the machine was around a run."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "n/a"


def write_markdown(path: Path, block_text: str, name: str = "runtime_bench") -> None:
    """Put ``block_text`` between the ``name`` markers in ``path``, leaving the rest alone."""
    if not path.exists():
        path.write_text(INTRO)
    put_block(path, name, block_text, missing=SECTION + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--serve``, one of its servers); return an exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per h2load run")
    parser.add_argument("--clients", type=int, default=16, help="h2load -c")
    parser.add_argument("--streams", type=int, default=4, help="h2load -m")
    parser.add_argument("--routes", type=int, default=10_000, help="manifest size for memory")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 1 s")
    parser.add_argument("--access-log", action="store_true", help="log every request (all servers)")
    parser.add_argument(
        "--no-pin", action="store_true", help="leave servers and h2load to the scheduler"
    )
    parser.add_argument(
        "--goal",
        action="store_true",
        help="only the page, on pushgen serve with and without the push hook and all off",
    )
    parser.add_argument("--markdown", type=Path, help="write the tables into this file")
    parser.add_argument("--note", default="", help="a remark printed after the command")
    parser.add_argument("--serve", choices=sorted(set(SERVERS.values())), help=argparse.SUPPRESS)
    parser.add_argument("--site", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cert", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--key", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.site, args.cert, args.key, args.access_log)
    if shutil.which("h2load") is None:
        print("h2load is missing: apt-get install -y nghttp2-client", file=sys.stderr)
        return 2
    rounds, duration = (3, 1.0) if args.quick else (args.rounds, args.duration)
    before = load_average()
    cpus = None if args.no_pin else cpus_apart()
    results = run(
        rounds, duration, args.clients, args.streams, args.access_log, goal=args.goal, cpus=cpus
    )
    load = f"; load average {before} before, {load_average()} after; {pinning(cpus)}"
    command = (
        f"python bench/runtime_bench.py --rounds {rounds} --duration {duration:g}"
        f" --clients {args.clients} --streams {args.streams}"
        + (" --goal" if args.goal else f" --routes {args.routes}")
        + (" --access-log" if args.access_log else "")
        + (" --no-pin" if args.no_pin else "")
    )
    note = f" ({rounds} rounds of h2load, interleaved{load}){args.note}"
    if args.goal:
        text = goal_table(results)
        print(text)
        if args.markdown:
            write_markdown(args.markdown, f"`{command}`{note}\n\n{text}", "runtime_goal")
        return 0
    memory = measure_memory(args.routes)
    text = rps_table(results) + "\n\n" + goal_table(results) + "\n\n" + memory_table(memory)
    print(text)
    if args.markdown:
        write_markdown(args.markdown, f"`{command}`{note}\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
