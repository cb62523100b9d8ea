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

**In process.** On a machine shared with other work h2load's rates swing by 2x from
run to run, so the middleware's own cost is also measured without a server or a
network: the page route of a Starlette app (an ``HTMLResponse``) called through ASGI
with a ``send`` that drops every message, as a server without extensions (Uvicorn)
and as one offering the early-hint extension, wrapped and bare (and bare with the
``Link`` field set by the route); microseconds per request, the least of the rounds (what the code costs when nothing else runs).

Usage::

    python bench/asgi_bench.py [--rounds 3] [--duration 2] [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_markdown import put_block
from bench_process import SERVING, Process, spawn_url
from h2load_runs import Cpus, Results, cpus_apart, interleaved, pinning
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
    text = table(run(args.rounds, args.duration, args.clients, args.streams, cpus))
    text += "\n\n" + in_process_table(in_process(max(args.rounds, 5)))
    load = f"; load average {before} before, {load_average()} after; {pinning(cpus)}"
    print(text)
    if args.markdown:
        command = (
            f"python bench/asgi_bench.py --rounds {args.rounds} --duration {args.duration:g}"
            f" --clients {args.clients} --streams {args.streams}"
            + (" --no-pin" if args.no_pin else "")
        )
        note = f" ({args.rounds} rounds of h2load, interleaved{load}){args.note}"
        put_block(
            args.markdown, "asgi_bench", f"`{command}`{note}\n\n{text}", missing=SECTION + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
