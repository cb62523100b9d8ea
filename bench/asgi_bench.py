"""What pushgen.asgi costs a Starlette app: requests per second with and without the middleware.

The site of ``bench/runtime_bench.py`` (built by pushgen, so it has a manifest) is
served by a Starlette app: its page from a route (``FileResponse``), its files
through ``StaticFiles``. Each variant runs in its own process on the same
Hypercorn configuration (``pushgen.commands.serve_site.run_server``: HTTP/2 over TLS, one
worker, no access log):

* ``bare Starlette``: the app as it is, the baseline;
* ``+ PushgenMiddleware``: wrapped with the middleware's defaults (push and Link
  on, a 103 before every page: ``early_hints_delay=0``, as in the Quart extension);
* ``+ PushgenMiddleware, 103 after 2 ms``: the same with ``early_hints_delay=0.002``,
  what ``pushgen serve`` used until issue 27;
* ``+ PushgenMiddleware, Link only``: ``early_hints=False``, what a client gets over
  Uvicorn or HTTP/1.1, the middleware's own cost without the 103's;
* ``bare Starlette + Link by hand``: the bare app whose page route sets the same
  ``Link`` field itself (``FileResponse(headers=...)``), no pushgen: what one more
  response field costs Hypercorn and h2, against which ``Link only`` shows what
  the middleware adds.

h2load refuses push (``SETTINGS_ENABLE_PUSH=0``), as browsers do; pushgen's
Hypercorn hook then withholds the push extension, so the middleware does no push
work. The page (``/``: a route with hints) and a page view (the page and its seven
files, which the middleware only looks up) are asked for, in interleaved rounds
whose order rotates, after a warm-up; each figure is the median of the rounds
(min and max beside it), each ratio a median over the bare app's median
(goal: >= 0.98). The servers share one CPU and h2load has the other
(``bench/h2load_runs.py``; ``--no-pin`` leaves them to the scheduler).

**Paired** (``--paired``). Rounds of all five servers swing by +-15% each, so
medians of nine cannot tell 0.97x from 1.00x. With ``--paired`` only the bare app
and ``+ PushgenMiddleware`` run, back to back in each round (which goes first
alternates), and each pair gives one ratio: middleware over bare, for requests per
second and for the server's CPU time per request (utime + stime of the server
process from ``/proc/PID/stat`` around the h2load run, over the requests done).
What swings the machine between rounds swings both halves of a pair alike; the
table gives the median ratio with its quartiles and extremes, and every pair.

**Calls.** ``--paired`` also counts (cProfile) the Python function calls one page
request makes in process, wrapped against bare, under a server offering the
early-hint extension: the calls pushgen adds to the ASGI side (the 103's HEADERS
frame in the server, :func:`pushgen.runtime.h2hints.queue_informational`, comes on top).

**In process.** On a machine shared with other work h2load's rates swing by 2x from
run to run, so the middleware's own cost is also measured without a server or a
network: the page route of a Starlette app (an ``HTMLResponse``) called through ASGI
with a ``send`` that drops every message, as a server without extensions (Uvicorn)
and as one offering the early-hint extension, wrapped and bare (and bare with the
``Link`` field set by the route); microseconds per request, the least of the rounds (what the code costs when nothing else runs).

Usage::

    python bench/asgi_bench.py [--rounds 3] [--duration 2] [--markdown docs/performance.md]
    python bench/asgi_bench.py --paired [--rounds 9] [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_markdown import put_block
from bench_process import SERVING, Process, spawn_url
from h2load_runs import Cpus, Results, Run, cpus_apart, h2load, interleaved, pin, pinning
from runtime_bench import PAGE_URL, PAGE_VIEW, load_average, make_site, running

from pushgen.config import load_config
from pushgen.manifest import parse_manifest
from pushgen.runtime.certs import dev_certificate
from pushgen.runtime.headers import build_route_table

# name -> the app --serve builds
SERVERS = {
    "bare Starlette": "bare",
    "+ PushgenMiddleware": "pushgen",
    "+ PushgenMiddleware, 103 after 2 ms": "pushgen-2ms",
    "+ PushgenMiddleware, Link only": "pushgen-link",
    "bare Starlette + Link by hand": "bare-link",
}
BASELINE = "bare Starlette"
URL_SETS: dict[str, tuple[str, ...]] = {
    "page `/` (hints)": (PAGE_URL,),
    "page view (page + 7 files)": PAGE_VIEW,
}
SECTION = (
    "## pushgen.asgi on a Starlette app\n"
    "\n"
    "What `pushgen.asgi.PushgenMiddleware` costs a Starlette app under Hypercorn, against\n"
    "the same app without it; the method is in the docstring of `bench/asgi_bench.py`.\n"
)


def link_field(site: Path) -> str:
    """The ``Link`` field pushgen gives the page ``/`` of the built ``site``."""
    config = load_config(site)
    table = build_route_table(parse_manifest(config.manifest.read_text(), str(config.manifest)))
    plan = table.lookup(PAGE_URL)
    if plan is None:
        raise RuntimeError(f"{config.manifest}: no hints for {PAGE_URL}")
    return plan.link_field.decode("latin-1")


def make_app(kind: str, site: Path) -> object:
    """The Starlette app ``kind`` names, serving the built ``site``."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from pushgen.asgi import PushgenMiddleware

    config = load_config(site)
    output = config.output

    # The minimal repro: the same field, set by the app itself.
    headers = {"link": link_field(site)} if kind == "bare-link" else None

    async def page(request: Request) -> Response:
        return FileResponse(output / "index.html", headers=headers)

    routes = [Route("/", page), Mount("/static", StaticFiles(directory=output / "static"))]
    if kind in ("bare", "bare-link"):
        return Starlette(routes=routes)
    options = {"manifest": config.manifest, "output": output, "early_hints_delay": 0.0}
    if kind == "pushgen-2ms":
        options["early_hints_delay"] = 0.002
    if kind == "pushgen-link":
        options["early_hints"] = False
    wrapped = Middleware(PushgenMiddleware, environ={}, **options)
    return Starlette(routes=routes, middleware=[wrapped])


def serve(kind: str, site: Path, certfile: Path, keyfile: Path) -> int:
    """Run app ``kind`` on ``run_server`` (commands/serve_site.py) on a free port until SIGINT."""
    from pushgen.commands.serve_site import run_server

    app = make_app(kind, site)
    return run_server(app, port=0, certfile=certfile, keyfile=keyfile, access_log=False)


def start(kind: str, site: Path, certs: tuple[Path, Path], work: Path) -> Process:
    """Start ``--serve KIND`` in a subprocess; wait until it accepts connections."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, "--site", str(site)]
    argv += ["--cert", str(certs[0]), "--key", str(certs[1])]
    return spawn_url(argv, work / f"{kind}.log", {}, SERVING)


def run(rounds: int, duration: float, clients: int, streams: int, cpus: Cpus | None) -> Results:
    """Start every server, then measure them in interleaved rounds (runtime_bench's)."""
    work = Path(tempfile.mkdtemp(prefix="pushgen-asgi-"))
    try:
        site = make_site(work / "site")
        cert = dev_certificate(work / "cert")
        certs = (cert.certfile, cert.keyfile)
        names = list(SERVERS)
        with running([]) as servers:
            servers.extend(start(SERVERS[name], site, certs, work) for name in names)
            by_name = dict(zip(names, servers, strict=True))
            return interleaved(by_name, URL_SETS, rounds, duration, clients, streams, cpus)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(results: Results) -> str:
    """Median (min-max) requests per second and CPU per request, with ratios to the bare app."""
    lines = [
        f"| requests | server | req/s median | min | max | x {BASELINE} (goal >= 0.98)"
        f" | CPU µs/req median | min | max | CPU x {BASELINE} | with a 103 |",
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
                f" | {med_cpu / base_cpu:.2f}"
                f" | {hinted:.0%} |"
            )
    return "\n".join(lines)


# --- paired rounds ----------------------------------------------------------------

PAIRED = "+ PushgenMiddleware"


@dataclass(frozen=True)
class Pair:
    """One round's two runs of a URL set, back to back: the bare app's and the middleware's."""

    bare: Run
    wrapped: Run
    bare_first: bool

    @property
    def rps_ratio(self) -> float:
        """The middleware's requests per second over the bare app's (goal >= 0.98)."""
        return self.wrapped.rps / self.bare.rps

    @property
    def cpu_ratio(self) -> float:
        """The middleware's server CPU per request over the bare app's."""
        return self.wrapped.cpu_us / self.bare.cpu_us


PairResults = dict[str, list[Pair]]


def run_paired(
    rounds: int, duration: float, clients: int, streams: int, cpus: Cpus | None
) -> PairResults:
    """The bare app and the middleware, back to back in each round, the first alternating."""
    work = Path(tempfile.mkdtemp(prefix="pushgen-asgi-"))
    try:
        site = make_site(work / "site")
        cert = dev_certificate(work / "cert")
        certs = (cert.certfile, cert.keyfile)
        with running([]) as servers:
            servers.extend(start(SERVERS[name], site, certs, work) for name in (BASELINE, PAIRED))
            if cpus is not None:
                for server in servers:
                    pin(server.popen.pid, cpus.server)

            def once(server: Process, paths: tuple[str, ...], seconds: float | None) -> Run:
                urls = [f"https://127.0.0.1:{server.port}{path}" for path in paths]
                pid = server.popen.pid
                return h2load(
                    urls, pid=pid, duration=seconds, clients=clients, streams=streams, cpus=cpus
                )

            every = tuple(dict.fromkeys(path for paths in URL_SETS.values() for path in paths))
            for server in servers:  # warm-up
                once(server, every, None)
            pairs: PairResults = {label: [] for label in URL_SETS}
            for round_ in range(rounds):
                bare_first = round_ % 2 == 0
                for label, paths in URL_SETS.items():
                    if bare_first:
                        bare = once(servers[0], paths, duration)
                        wrapped = once(servers[1], paths, duration)
                    else:
                        wrapped = once(servers[1], paths, duration)
                        bare = once(servers[0], paths, duration)
                    pairs[label].append(Pair(bare, wrapped, bare_first))
            return pairs
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _spread(values: list[float]) -> str:
    """Median, quartiles and extremes: ``0.99 (IQR 0.97-1.01, 0.95-1.03)``."""
    ordered = sorted(values)
    if len(ordered) >= 2:
        low, _, high = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        low = high = ordered[0]
    return (
        f"{statistics.median(ordered):.3f} (IQR {low:.3f}-{high:.3f},"
        f" {ordered[0]:.3f}-{ordered[-1]:.3f})"
    )


def paired_table(pairs: PairResults) -> str:
    """The median per-pair ratios with their spread, then every pair."""
    lines = [
        f"| requests | pairs | req/s x {BASELINE}: median (IQR, min-max), goal >= 0.98"
        f" | CPU/req x {BASELINE}: median (IQR, min-max) |",
        "|---|---:|---|---|",
    ]
    for label, runs in pairs.items():
        rps = _spread([p.rps_ratio for p in runs])
        cpu = _spread([p.cpu_ratio for p in runs])
        lines.append(f"| {label} | {len(runs)} | {rps} | {cpu} |")
    lines += [
        "",
        "| requests | pair | first | bare req/s | wrapped req/s | ratio"
        " | bare CPU µs/req | wrapped CPU µs/req | CPU ratio |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, runs in pairs.items():
        for number, p in enumerate(runs, 1):
            first = "bare" if p.bare_first else "wrapped"
            lines.append(
                f"| {label} | {number} | {first} | {p.bare.rps:.0f} | {p.wrapped.rps:.0f}"
                f" | {p.rps_ratio:.3f} | {p.bare.cpu_us:.0f} | {p.wrapped.cpu_us:.0f}"
                f" | {p.cpu_ratio:.3f} |"
            )
    return "\n".join(lines)


# --- calls per request -------------------------------------------------------------

# name -> the in-process variant (IN_PROCESS) whose calls are counted
COUNTED = ("bare Starlette", "+ PushgenMiddleware, early-hint extension (103 + Link)")


def calls_per_request(requests: int = 200) -> dict[str, float]:
    """Python function calls (cProfile's count) per GET / of each COUNTED app, in process."""
    work = Path(tempfile.mkdtemp(prefix="pushgen-asgi-"))
    try:
        site = make_site(work / "site")
        counts: dict[str, float] = {}
        for name in COUNTED:
            options, extensions = IN_PROCESS[name]
            app = _page_app(site, options)
            asyncio.run(_per_request(app, extensions, 50))  # warm-up: lazy imports, caches
            profile = cProfile.Profile()

            async def measure(
                app: Any = app, extensions: dict[str, Any] = extensions, profile: Any = profile
            ) -> None:
                profile.enable()
                await _per_request(app, extensions, requests)
                profile.disable()

            asyncio.run(measure())
            stats = pstats.Stats(profile)
            counts[name] = stats.total_calls / requests  # type: ignore[attr-defined]
        return counts
    finally:
        shutil.rmtree(work, ignore_errors=True)


def calls_table(counts: dict[str, float]) -> str:
    """Calls per request, and what the middleware adds."""
    base = counts[COUNTED[0]]
    lines = [
        "| app (in process, cProfile) | Python calls per GET / | over bare |",
        "|---|---:|---:|",
    ]
    for name, calls in counts.items():
        lines.append(f"| {name} | {calls:.0f} | {calls - base:+.0f} |")
    return "\n".join(lines)


# --- in process -------------------------------------------------------------------

# name -> (PushgenMiddleware's options, None for the bare app, or "link" for the bare
# app setting the Link field itself; the server's extensions)
IN_PROCESS: dict[str, tuple[dict[str, Any] | str | None, dict[str, Any]]] = {
    "bare Starlette": (None, {}),
    "bare Starlette + Link by hand": ("link", {}),
    "+ PushgenMiddleware, all off": (
        {"push": False, "early_hints": False, "link_headers": False},
        {},
    ),
    "+ PushgenMiddleware, no extensions (Link)": ({}, {}),
    "+ PushgenMiddleware, early-hint extension (103 + Link)": (
        {},
        {"http.response.early_hint": {}},
    ),
}


def _page_app(site: Path, options: dict[str, Any] | str | None) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    from pushgen.asgi import PushgenMiddleware

    headers = {"link": link_field(site)} if options == "link" else None

    async def page(request: Request) -> Response:
        return HTMLResponse("<!doctype html><title>page</title><p>A page.</p>", headers=headers)

    config = load_config(site)
    middleware = []
    if isinstance(options, dict):
        options = {"manifest": config.manifest, "output": config.output, **options}
        middleware.append(Middleware(PushgenMiddleware, environ={}, **options))
    return Starlette(routes=[Route("/", page)], middleware=middleware)


async def _per_request(app: Any, extensions: dict[str, Any], requests: int) -> float:
    """Microseconds per GET / of ``app``, its messages dropped."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    def scope() -> dict[str, Any]:
        return {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "2", "method": "GET",
            "scheme": "https", "path": "/", "raw_path": b"/", "root_path": "",
            "query_string": b"", "headers": [(b"host", b"localhost")],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 443),
            "extensions": extensions,
        }  # fmt: skip

    started = time.perf_counter()
    for _ in range(requests):
        await app(scope(), receive, send)
    return (time.perf_counter() - started) / requests * 1e6


def in_process(rounds: int, requests: int = 20_000) -> dict[str, list[float]]:
    """Each variant's microseconds per request in each round (rounds interleaved)."""
    work = Path(tempfile.mkdtemp(prefix="pushgen-asgi-"))
    try:
        site = make_site(work / "site")
        apps = {name: _page_app(site, options) for name, (options, _) in IN_PROCESS.items()}
        times: dict[str, list[float]] = {name: [] for name in IN_PROCESS}

        async def measure() -> None:
            for name, app in apps.items():  # warm-up
                await _per_request(app, IN_PROCESS[name][1], 1000)
            for _ in range(rounds):
                for name, app in apps.items():
                    times[name].append(await _per_request(app, IN_PROCESS[name][1], requests))

        asyncio.run(measure())
        return times
    finally:
        shutil.rmtree(work, ignore_errors=True)


def in_process_table(times: dict[str, list[float]]) -> str:
    """The least and the median microseconds per request, and the difference to the bare app."""
    lines = [
        f"| app (in process) | µs/request, least | median | least over {BASELINE}'s |",
        "|---|---:|---:|---:|",
    ]
    base = min(times[BASELINE])
    for name, runs in times.items():
        least = min(runs)
        lines.append(
            f"| {name} | {least:.1f} | {statistics.median(runs):.1f} | {least - base:+.1f} µs |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--serve``, one of its servers); return an exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per h2load run")
    parser.add_argument("--clients", type=int, default=16, help="h2load -c")
    parser.add_argument("--streams", type=int, default=4, help="h2load -m")
    parser.add_argument(
        "--no-pin", action="store_true", help="leave servers and h2load to the scheduler"
    )
    parser.add_argument(
        "--paired",
        action="store_true",
        help="only bare and + PushgenMiddleware, back to back per round; per-pair ratios",
    )
    parser.add_argument("--markdown", type=Path, help="write the table into this file")
    parser.add_argument("--note", default="", help="a remark printed after the command")
    parser.add_argument("--serve", choices=sorted(SERVERS.values()), help=argparse.SUPPRESS)
    parser.add_argument("--site", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cert", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--key", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.site, args.cert, args.key)
    if shutil.which("h2load") is None:
        print("h2load is missing: apt-get install -y nghttp2-client", file=sys.stderr)
        return 2
    before = load_average()
    cpus = None if args.no_pin else cpus_apart()
    if args.paired:
        pairs = run_paired(args.rounds, args.duration, args.clients, args.streams, cpus)
        text = paired_table(pairs) + "\n\n" + calls_table(calls_per_request())
    else:
        text = table(run(args.rounds, args.duration, args.clients, args.streams, cpus))
        text += "\n\n" + in_process_table(in_process(max(args.rounds, 5)))
    load = f"; load average {before} before, {load_average()} after; {pinning(cpus)}"
    print(text)
    if args.markdown:
        command = (
            f"python bench/asgi_bench.py --rounds {args.rounds} --duration {args.duration:g}"
            f" --clients {args.clients} --streams {args.streams}"
            + (" --no-pin" if args.no_pin else "")
            + (" --paired" if args.paired else "")
        )
        how = "pairs back to back" if args.paired else "interleaved"
        note = f" ({args.rounds} rounds of h2load, {how}{load}){args.note}"
        block = "asgi_pairs" if args.paired else "asgi_bench"
        put_block(args.markdown, block, f"`{command}`{note}\n\n{text}", missing=SECTION + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
