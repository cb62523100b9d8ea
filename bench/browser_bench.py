"""Page load in a real browser: headless Chromium through the delay line, in round trips.

``bench/pageload_bench.py`` measures a model browser built from pushgen's own
scanners; this one drives Debian's Chromium (Playwright) so that what a real
browser does differently shows (it drops 103 preloads on a connection whose
certificate it does not trust, issue 16 item 3). Chromium trusts the benchmark's
certificate by its key (``--ignore-certificate-errors-spki-list``), which is
what a trusted certificate looks like to it, not a click-through.

The site is a copy of ``site_example/`` with two changes to the copy: the
hero paragraph of ``/`` carries ``elementtiming="body-text"`` (Element Timing
reports when it is painted), and its web font is ``font-display: block`` so that
paint is the text in its web font; Chromium's first contentful paint fires while
a blocking font still hides the text, so FCP alone would flatter a slow font.

Every request goes through the delay line ``pushgen.verify.latency`` (one process
per server, ``--delay-ms`` each way, default 50 ms: RTT 100 ms), and Chromium is
opened by ``pushgen.verify.browser``: the modules ``pushgen verify --timing`` uses. Each load opens a fresh
browser context (empty cache, its own connections) and reads, from navigation
start and from the page request's ``requestStart``:

* the @import stylesheet (``base/typography.css``, ``responseEnd``), the body font
  (``dejavu-sans.woff2``), the last module script of the page's module graph;
* first contentful paint and the hero text's Element Timing ``renderTime``;

and counts duplicate fetches (a URL requested twice, or a URL the 103 hinted that
the page fetched again instead of taking the preload: DevTools'
``fromEarlyHints``) and console warnings and errors.

Scenarios, each on its own server, all started before the first round; rounds
are interleaved and their order rotates (round 0 warms up and is not counted):
``pushgen serve`` with no hints, Link headers only, the 103 only (before every
page), its defaults, and its defaults with the 103 pinned at once and after
2 ms (the two candidates for the default, issue 27); h2o serving the same files
with the same Link headers;
a Quart view that thinks 200 ms, without hints and with the pushgen extension
(its defaults: a 103 at once, Link headers, push). Chromium refuses push
(SETTINGS_ENABLE_PUSH=0), so push plays no part here. Usage::

    python bench/browser_bench.py [--delay-ms 50] [--rounds 5] [--runs 1] [--no-h2o]
        [--scenarios none,link,...] [--markdown docs/performance-browser.md]

``--runs N`` repeats the whole run N times (servers and Chromium started afresh),
then gives each run's median of the text in its web font beside the others, with
the load average around it, and checks the goal for ``pushgen serve``'s default
against every run: no slower than h2o and within 0.05 RTT of the best variant.

``--make-site DIR`` only writes the benchmark's copy of the site (built) to DIR,
for ``pushgen verify DIR --timing`` to measure the same page (docs/performance.md).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench_markdown import put_block
from bench_process import REPO, Process
from pageload_bench import (
    SERVERS,
    THINK_ROUTE,
    Flags,
    running,
    start_dynamic,
    start_h2o,
    start_proxies,
    start_pushgen,
)
from runtime_bench import load_average

from pushgen.cli import main as pushgen_main
from pushgen.config import load_config
from pushgen.manifest import load_manifest
from pushgen.runtime.certs import dev_certificate
from pushgen.runtime.headers import build_route_table

TEXT_ID = "body-text"
IMPORTED_CSS = "/static/css/base/typography.css"
FONT = "/static/fonts/dejavu-sans.woff2"
# A GET in Hypercorn's access log (`"GET /path 2"`) or h2o's (`"GET /path HTTP/2"`).
_GET = re.compile(r'"GET (\S+) (?:HTTP/)?2(?:\.0)?"')


@dataclass(frozen=True)
class Scenario:
    """One row: a server (a key of :data:`SERVERS`, or ``h2o``) and the path loaded."""

    key: str
    name: str
    server: str
    path: str = "/"


SCENARIOS = [
    Scenario("none", "static, no hints", "none"),
    Scenario("link", "static, Link headers only", "link"),
    Scenario("103", "static, 103 Early Hints only", "103"),
    Scenario("defaults", "static, pushgen serve defaults", "defaults"),
    Scenario("at-once", "static, pushgen serve, 103 at once", "at-once"),
    Scenario("after-2ms", "static, pushgen serve, 103 after 2 ms", "after-2ms"),
    Scenario("h2o", "h2o, same Link headers", "h2o"),
    Scenario("dyn-none", "view thinking 200 ms, no hints", "dyn-none", THINK_ROUTE),
    Scenario("dyn-ext", "view thinking 200 ms, Quart extension", "dyn-ext", THINK_ROUTE),
]
# The Quart extension with its defaults: push, a 103 at once, Link headers.
BROWSER_SERVERS: dict[str, tuple[str, Flags]] = {
    **SERVERS,
    "dyn-ext": ("dynamic", {"push": True, "early_hints": True, "link_headers": True}),
    # The candidates for pushgen serve's default delay, pinned so that a run compares
    # them whatever the default is (issue 27, "The runtime's defaults").
    "at-once": ("pushgen", {**SERVERS["defaults"][1], "early_hints_delay": 0.0}),
    "after-2ms": ("pushgen", {**SERVERS["defaults"][1], "early_hints_delay": 0.002}),
}
# The variants the default is chosen among, and the goal's reference and margin: the
# default no slower than h2o in every run and within 0.05 RTT of the best variant.
CANDIDATES = ("defaults", "at-once", "after-2ms")
REFERENCE = "h2o"
MARGIN_RTT = 0.05
METRICS = {
    "text": "text in web font",
    "fcp": "FCP",
    "css": "@import CSS",
    "font": "font",
    "module": "last module",
}

# Runs in the page once it has loaded: waits for the hero text's Element Timing
# entry and the fonts, then returns the timings (ms from navigation start).
_MEASURE = """
async ([id, css, font, modules]) => {
  const text = await new Promise(resolve => {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) if (e.identifier === id) resolve(e.renderTime);
    }).observe({type: 'element', buffered: true});
    setTimeout(() => resolve(null), 20000);
  });
  await document.fonts.ready;
  const ends = {};
  for (const e of performance.getEntriesByType('resource')) {
    const path = new URL(e.name).pathname;
    ends[path] = Math.max(ends[path] || 0, e.responseEnd);
  }
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    request: nav.requestStart,
    text: text,
    fcp: fcp ? fcp.startTime : null,
    css: ends[css] ?? null,
    font: ends[font] ?? null,
    module: modules.every(m => m in ends) ? Math.max(...modules.map(m => ends[m])) : null,
  };
}
"""


@dataclass
class Load:
    """One page load: timings (ms from navigation start), what was fetched twice, warnings."""

    timings: dict[str, float | None]
    request: float
    duplicates: list[str]  # one entry per extra fetch the server saw
    warnings: list[str]
    early_hints: bool  # a 103 reached the page
    from_hints: int  # responses DevTools reports as fromEarlyHints
    fetches: int  # GETs the server saw


@dataclass
class Samples:
    """Per scenario, every counted load."""

    loads: list[Load] = field(default_factory=list)


def make_site(root: Path) -> Path:
    """A built copy of site_example/ whose ``/`` marks its hero text and blocks on its font."""
    shutil.copytree(
        REPO / "site_example",
        root,
        ignore=shutil.ignore_patterns("_site", "push-manifest.yaml", ".*"),
    )
    page = root / "pages" / "index.html"
    text = page.read_text()
    marked = text.replace(
        "<p>\n    {{ site_name }}", f'<p elementtiming="{TEXT_ID}">\n    {{{{ site_name }}}}', 1
    )
    if marked == text:
        raise RuntimeError(f"{page}: the hero paragraph is not where the benchmark expects it")
    page.write_text(marked)
    css = root / "static" / "css" / "base" / "typography.css"
    css.write_text(css.read_text().replace("font-display: swap", "font-display: block"))
    if pushgen_main(["build", str(root)]) != 0:
        raise RuntimeError(f"pushgen build {root} failed")
    return root


def served(log: Path, since: int) -> tuple[Counter[str], int]:
    """The paths the server's access log shows after byte ``since``, and the log's new end."""
    data = log.read_bytes()
    text = data[since:].decode("utf-8", "replace")
    return Counter(_GET.findall(text)), len(data)


def load_page(browser: Any, url: str, modules: list[str], log: Path) -> Load:
    """Open ``url`` in a fresh context (cold cache, new connections) and measure it.

    Duplicates are counted where they cost: in the server's access log, which
    sees a 103 preload the browser threw away and fetched again, and not the
    browser's memory-cache hits that DevTools reports as requests too.
    """
    _, since = served(log, 0)
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        from_hints: set[str] = set()
        hinted: list[str] = []
        warnings: list[str] = []

        def on_response(params: Any) -> None:
            if params["response"].get("fromEarlyHints"):
                from_hints.add(urlsplit(params["response"]["url"]).path)

        def on_console(message: Any) -> None:  # playwright.sync_api.ConsoleMessage
            if message.type in ("warning", "error"):
                warnings.append(message.text)

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.responseReceivedEarlyHints", lambda p: hinted.append("103"))
        page.on("console", on_console)
        page.on("pageerror", lambda e: warnings.append(f"uncaught: {e}"))
        response = page.goto(url, wait_until="load", timeout=60_000)
        if response is None or response.status != 200:
            raise RuntimeError(f"{url}: {response.status if response else 'no response'}")
        data = page.evaluate(_MEASURE, [TEXT_ID, IMPORTED_CSS, FONT, modules])
    finally:
        context.close()
    counts, _ = served(log, since)
    twice = [path for path, n in sorted(counts.items()) for _ in range(n - 1)]
    timings = {key: data[key] for key in METRICS}
    return Load(
        timings,
        data["request"],
        twice,
        warnings,
        bool(hinted),
        len(from_hints),
        sum(counts.values()),
    )


def start_servers(
    site: Path, work: Path, certs: tuple[Path, Path], names: list[str]
) -> Iterator[tuple[str, Process]]:
    """The servers ``names`` need, each started as pageload_bench starts it."""
    for name in names:
        if name == "h2o":
            config = load_config(site)
            table = build_route_table(load_manifest(config.manifest))
            links = {
                path: "\n".join(v.decode() for v in plan.links)
                for path, plan in table.plans.items()
            }
            yield name, start_h2o(config.output, work, certs, links)
            continue
        kind, flags = BROWSER_SERVERS[name]
        start = start_pushgen if kind == "pushgen" else start_dynamic
        yield name, start(site, work, name, certs, **flags)


def run(
    delay_ms: float, rounds: int, scenarios: list[Scenario], *, untrusted: bool = False
) -> dict[str, Samples]:
    """Start every server and proxy and Chromium; load each scenario once per round, interleaved.

    ``untrusted``: Chromium ignores certificate errors instead of trusting the key,
    as after clicking through its warning (the state issue 16 item 3 is about).
    """
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # the checkout's pushgen, as the other imports here
    # One owner of Chromium's flags and launch for pushgen verify, the suite and the benchmarks.
    from pushgen.verify.browser import open_chromium, trust_args

    work = Path(tempfile.mkdtemp(prefix="pushgen-browser-"))
    try:
        site = make_site(work / "site")
        manifest = load_manifest(load_config(site).manifest)
        # The page's static module graph; an import() target is listed, not
        # hinted: the page fetches it only when it runs (on a click), if ever.
        modules = [a.path for a in manifest.assets("/") if a.module and a.hint]
        # No local CA here (an empty CA root): the key is what Chromium is told to trust.
        cert = dev_certificate(work / "cert", caroot=work / "no-ca")
        certs = (cert.certfile, cert.keyfile)
        samples = {s.key: Samples() for s in scenarios}
        with running([]) as processes:
            servers: dict[str, Process] = {}
            for name, process in start_servers(
                site, work, certs, sorted({s.server for s in scenarios})
            ):
                servers[name] = process
                processes.append(process)
            names = list(servers)
            proxies = start_proxies([servers[n].port for n in names], delay_ms, work)
            processes.extend(proxies)
            port = {name: proxy.port for name, proxy in zip(names, proxies, strict=True)}
            trust = ("--ignore-certificate-errors",) if untrusted else trust_args(cert.certfile)
            with open_chromium(trust) as browser:
                for round_ in range(rounds + 1):  # round 0 warms every server up
                    shift = round_ % len(scenarios)
                    for scenario in scenarios[shift:] + scenarios[:shift]:
                        url = f"https://127.0.0.1:{port[scenario.server]}{scenario.path}"
                        log = servers[scenario.server].log
                        load = load_page(browser, url, modules, log)
                        if scenario.server in ("103", "dyn-ext") and not load.early_hints:
                            print(f"note: {scenario.name}: no 103 seen", file=sys.stderr)
                        if round_:
                            samples[scenario.key].loads.append(load)
        return samples
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cell(values: list[float], rtt: float) -> str:
    if not values:
        return "n/a"
    med = statistics.median(values) / rtt
    return f"{med:.2f} ({min(values) / rtt:.2f}-{max(values) / rtt:.2f})"


def table(samples: dict[str, Samples], delay_ms: float, *, from_request: bool) -> str:
    """Markdown: per scenario and metric, median (min-max) in RTTs; then the median number of
    GETs the server saw per load and of responses taken from a 103 preload, and the duplicate
    fetches and console warnings over all loads."""
    rtt = 2 * delay_ms
    head = " | ".join(METRICS.values())
    lines = [
        f"| scenario | {head} | fetches | used from 103 | duplicate fetches | console warnings |",
        "|---|" + "---:|" * (len(METRICS) + 4),
    ]
    for scenario in SCENARIOS:
        if scenario.key not in samples:
            continue
        loads = samples[scenario.key].loads
        cells = []
        for key in METRICS:
            values = [
                t - (load.request if from_request else 0.0)
                for load in loads
                if (t := load.timings[key]) is not None
            ]
            cells.append(_cell(values, rtt))
        dups = sum(len(load.duplicates) for load in loads)
        warns = sum(len(load.warnings) for load in loads)
        fetches = statistics.median(load.fetches for load in loads)
        used = statistics.median(load.from_hints for load in loads)
        lines.append(
            f"| {scenario.name} | {' | '.join(cells)} | {fetches:g} | {used:g} | {dups} | {warns} |"
        )
    return "\n".join(lines)


def _counted(samples: dict[str, Samples], what: str) -> str:
    lines = []
    for scenario in SCENARIOS:
        if scenario.key in samples:
            loads = samples[scenario.key].loads
            seen = Counter(x for load in loads for x in getattr(load, what))
            listed = ", ".join(f"{x} x{n}" for x, n in sorted(seen.items())) or "none"
            lines.append(f"- {scenario.name}: {listed}")
    return "\n".join(lines)


def report(samples: dict[str, Samples], delay_ms: float) -> str:
    """Both tables, from navigation start and from the page request, then what was counted."""
    return (
        "From navigation start (RTTs, median (min-max)):\n\n"
        + table(samples, delay_ms, from_request=False)
        + "\n\nFrom the page request (`requestStart`; RTTs, median (min-max)):\n\n"
        + table(samples, delay_ms, from_request=True)
        + "\n\nDuplicate fetches, over all counted loads:\n\n"
        + _counted(samples, "duplicates")
        + "\n\nConsole warnings and errors, over all counted loads:\n\n"
        + _counted(samples, "warnings")
    )


def _text_ms(samples: Samples) -> list[float]:
    """Per load, the text painted in its web font, ms from navigation start (the issue's measure)."""
    return [t for load in samples.loads if (t := load.timings["text"]) is not None]


@dataclass(frozen=True)
class Run:
    """One run of every scenario (its own servers and Chromium) and the load around it."""

    samples: dict[str, Samples]
    load_before: str
    load_after: str


def runs_table(runs: list[Run], delay_ms: float) -> str:
    """Markdown: per scenario, each run's text-in-web-font median (min-max) in RTTs."""
    rtt = 2 * delay_ms
    head = " | ".join(
        f"run {i} (load {r.load_before}-{r.load_after})" for i, r in enumerate(runs, 1)
    )
    lines = [f"| scenario | {head} |", "|---|" + "---:|" * len(runs)]
    for scenario in SCENARIOS:
        if scenario.key in runs[0].samples:
            cells = [_cell(_text_ms(r.samples[scenario.key]), rtt) for r in runs]
            lines.append(f"| {scenario.name} | {' | '.join(cells)} |")
    return "\n".join(lines)


def goal_report(runs: list[Run], delay_ms: float) -> str:
    """Per candidate default, its median against h2o's and the best variant's in every run.

    The goal (issue 27): no slower than h2o in every run and within 0.05 RTT of the
    best variant; variants are the scenarios of ``/`` (a thinking view is another page).
    """
    rtt = 2 * delay_ms
    pages = {s.key for s in SCENARIOS if s.path == "/"}
    medians = [
        {
            k: statistics.median(v) / rtt
            for k, s in r.samples.items()
            if k in pages and (v := _text_ms(s))
        }
        for r in runs
    ]
    lines = []
    for scenario in SCENARIOS:
        key = scenario.key
        if key not in CANDIDATES or not all(key in m and REFERENCE in m for m in medians):
            continue
        to_ref = [m[key] - m[REFERENCE] for m in medians]
        to_best = [m[key] - min(m.values()) for m in medians]
        met = sum(a <= 0 and b <= MARGIN_RTT for a, b in zip(to_ref, to_best, strict=True))
        lines.append(
            f"- {scenario.name}: against h2o {', '.join(f'{d:+.2f}' for d in to_ref)} RTT; "
            f"behind the best {', '.join(f'{d:.2f}' for d in to_best)} RTT; "
            f"goal met in {met} of {len(runs)} runs"
        )
    return "\n".join(lines) or "- (no candidate default and h2o in these runs)"


def pooled(runs: list[Run]) -> dict[str, Samples]:
    """Every run's loads per scenario, for the full tables."""
    return {
        key: Samples([load for r in runs for load in r.samples[key].loads])
        for key in runs[0].samples
    }


def runs_report(runs: list[Run], delay_ms: float) -> str:
    """The per-run table, the goal check, then the full tables over every run's loads."""
    return (
        "Text in web font from navigation start, per run (RTTs, median (min-max); "
        "load: 1-minute load average before-after the run):\n\n"
        + runs_table(runs, delay_ms)
        + "\n\nThe goal for pushgen serve's default (no slower than h2o in every run, within "
        + f"{MARGIN_RTT} RTT of the best variant):\n\n"
        + goal_report(runs, delay_ms)
        + "\n\nAll runs' loads together:\n\n"
        + report(pooled(runs), delay_ms)
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables (and write them with ``--markdown``); return 0."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay-ms", type=float, default=50.0, help="one-way delay (ms)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--runs", type=int, default=1, help="independent runs (own servers and Chromium each)"
    )
    parser.add_argument("--no-h2o", action="store_true", help="leave out h2o")
    parser.add_argument(
        "--scenarios",
        default=",".join(s.key for s in SCENARIOS),
        help="comma-separated keys: " + ", ".join(s.key for s in SCENARIOS),
    )
    parser.add_argument(
        "--untrusted",
        action="store_true",
        help="ignore certificate errors instead of trusting the key (a clicked-through warning)",
    )
    parser.add_argument("--markdown", type=Path, help="write the tables into this file")
    parser.add_argument(
        "--make-site", type=Path, metavar="DIR", help="only write the benchmark's site to DIR"
    )
    args = parser.parse_args(argv)
    if args.make_site is not None:
        if args.make_site.exists():
            parser.error(f"{args.make_site} exists: give a folder that does not, to write it there")
        print(f"wrote {make_site(args.make_site)}")
        return 0
    keys = args.scenarios.split(",")
    unknown = set(keys) - {s.key for s in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    scenarios = [s for s in SCENARIOS if s.key in keys]
    if "h2o" in keys and (args.no_h2o or shutil.which("h2o") is None):
        if not args.no_h2o:
            print("h2o is not installed (apt-get install -y h2o); leaving it out", file=sys.stderr)
        scenarios = [s for s in scenarios if s.key != "h2o"]
    runs = []
    for _ in range(max(1, args.runs)):
        before = load_average()
        samples = run(args.delay_ms, args.rounds, scenarios, untrusted=args.untrusted)
        runs.append(Run(samples, before, load_average()))
    text = runs_report(runs, args.delay_ms)
    print(text)
    if args.markdown:
        command = (
            f"python bench/browser_bench.py --delay-ms {args.delay_ms:g} --rounds {args.rounds}"
        )
        if args.runs > 1:
            command += f" --runs {args.runs}"
        if len(scenarios) != len(SCENARIOS):
            command += f" --scenarios {','.join(s.key for s in scenarios)}"
        if args.untrusted:
            command += " --untrusted"
        note = f" ({args.runs} x {args.rounds} rounds, interleaved; RTT = {2 * args.delay_ms:g} ms)"
        put_block(args.markdown, "browser_bench", f"`{command}`{note}\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
