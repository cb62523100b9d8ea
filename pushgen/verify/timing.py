"""``pushgen verify --timing``: what the manifest's hints buy, in round trips, in headless Chromium.

Each route is loaded cold (a fresh browser context: empty cache, new
connections) through a delay line (:mod:`pushgen.verify.latency`, RTT/2 each
way), with the manifest's hints (the 103 at once and the ``Link`` headers) and
without any, ``runs`` times each. The loads are interleaved: every round loads
each route both ways, the order of the two alternating from round to round, and
a first round warms the server and the browser up and is not counted. Per route
and way, three paints are read, as medians in round trips from the page request
(Navigation Timing ``requestStart``: the connection's TCP and TLS handshakes,
which no hint can shorten, are left out, as in the reading of
bench/browser_bench.py):

* ``first_paint``: First Contentful Paint (Paint Timing,
  https://w3c.github.io/paint-timing/);
* ``font_text``: the paint of the page's text in its web font: the latest
  Element Timing entry (https://wicg.github.io/element-timing/) of a text element
  the page marks ``elementtiming``; on a page with none, of its largest text
  element (by painted area; every element is marked for Element Timing as the
  parser inserts it). ``font_text_from`` says which (``elementtiming
  "body-text"``, ``largest text pre``). A font
  with ``font-display: swap`` paints its text first in a fallback font, so what
  this shows for it is that first paint;
* ``lcp``: the last Largest Contentful Paint candidate
  (https://w3c.github.io/largest-contentful-paint/).

Round trips, not milliseconds: on a delay line the page's work is a number of
round trips, and a hint is worth the ones it saves. A paint the browser never
reported (a page without text) is ``None`` (``null`` in the JSON, ``n/a`` in the
table).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal

from .latency import delay_line
from .run import NO_HINTS, Source, VerifyError, select_routes, serve_for_browser

__all__ = [
    "METRICS",
    "LoadPaints",
    "Paints",
    "RouteTiming",
    "Target",
    "TimingResult",
    "measure",
    "parse_rtt",
    "time_source",
]

Metric = Literal["first_paint", "font_text", "lcp"]
# Each metric and its name in the table.
METRICS: Mapping[Metric, str] = {
    "first_paint": "first paint",
    "font_text": "font text",
    "lcp": "LCP",
}
Way = Literal["with_hints", "without_hints"]

# The identifier given to text the page did not mark itself (see _MARK).
_OWN_MARK = "pushgen-text"
# Runs before the page's own scripts (an init script): marks each element as the
# parser inserts it, so that Element Timing reports the paint of every text (the
# attribute must be there when the element is first painted; a mutation
# observer's callbacks run before the next rendering step). An element the page
# marked keeps its own identifier. Attributes change neither layout nor paint.
_MARK = f"""
new MutationObserver(records => {{
  for (const r of records) for (const n of r.addedNodes) {{
    if (n.nodeType !== 1) continue;
    for (const e of [n, ...n.querySelectorAll('*')]) {{
      if (!e.hasAttribute('elementtiming')) e.setAttribute('elementtiming', '{_OWN_MARK}');
    }}
  }}
}}).observe(document, {{childList: true, subtree: true}});
"""
# Runs in the page after its load event: waits for the fonts, for an Element
# Timing entry of every element the page marked `elementtiming` itself (at most
# 5 s: one that is never painted must not hold the run) and a few frames, then
# reads the paints and the page request's start (ms from navigation start).
_MEASURE = f"""
async () => {{
  const seen = {{element: [], 'largest-contentful-paint': []}};
  for (const type of Object.keys(seen)) {{
    new PerformanceObserver(list => seen[type].push(...list.getEntries()))
      .observe({{type, buffered: true}});
  }}
  const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await document.fonts.ready;
  const own = e => e.identifier === '{_OWN_MARK}';
  const marked = document.querySelectorAll(
    '[elementtiming]:not([elementtiming="{_OWN_MARK}"])').length;
  const until = performance.now() + 5000;
  do {{ await frames(); }} while (
    seen.element.filter(e => !own(e)).length < marked && performance.now() < until);
  await frames();
  const name = e => e ? e.localName + (e.id ? '#' + e.id : '')
    + [...e.classList].map(c => '.' + c).join('') : '?';
  const texts = seen.element.filter(e => e.url === '' && e.renderTime > 0);
  const pageMarked = texts.filter(e => !own(e));
  const area = e => e.intersectionRect.width * e.intersectionRect.height;
  let text = null, from = '';
  if (pageMarked.length) {{
    const last = pageMarked.reduce((a, b) => (b.renderTime > a.renderTime ? b : a));
    text = last.renderTime;
    from = 'elementtiming "' + last.identifier + '"';
  }} else if (texts.length) {{
    const largest = texts.reduce((a, b) => (area(b) > area(a) ? b : a));
    text = largest.renderTime;
    from = 'largest text ' + name(largest.element);
  }}
  const lcps = seen['largest-contentful-paint'];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {{
    request: performance.getEntriesByType('navigation')[0].requestStart,
    first_paint: fcp ? fcp.startTime : null,
    font_text: text,
    font_text_from: from,
    lcp: lcps.length ? lcps[lcps.length - 1].startTime : null,
  }};
}}
"""

_UNITS = {"ms": 1.0, "s": 1000.0}


def parse_rtt(text: str) -> float | None:
    """``100ms``, ``0.1s`` or ``100`` (ms) as milliseconds; None when it is not a round trip > 0."""
    value = text.strip().lower()
    unit = next((u for u in ("ms", "s") if value.endswith(u)), "ms")
    number = value.removesuffix(unit).strip() if value.endswith(unit) else value
    try:
        ms = float(number) * _UNITS[unit]
    except ValueError:
        return None
    return ms if math.isfinite(ms) and ms > 0 else None


@dataclass(frozen=True, slots=True)
class Target:
    """Where a way of loading the pages is served: an origin, and headers sent with every request."""

    origin: str  # https://127.0.0.1:PORT, the delay line's side
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadPaints:
    """One cold load's paints, in ms from the page request (None: not reported)."""

    first_paint: float | None
    font_text: float | None
    lcp: float | None
    font_text_from: str = ""  # elementtiming "ID", largest text TAG#ID.CLASS, or ""

    def get(self, metric: Metric) -> float | None:
        value: float | None = getattr(self, metric)
        return value


@dataclass(frozen=True, slots=True)
class Paints:
    """Medians over a route's counted loads one way, in round trips (None: never reported)."""

    first_paint: float | None
    font_text: float | None
    lcp: float | None

    @classmethod
    def median(cls, loads: Sequence[LoadPaints], rtt_ms: float) -> Paints:
        """The medians of ``loads``, each divided by ``rtt_ms``."""

        def med(metric: Metric) -> float | None:
            values = [v for load in loads if (v := load.get(metric)) is not None]
            return statistics.median(values) / rtt_ms if values else None

        return cls(med("first_paint"), med("font_text"), med("lcp"))

    def get(self, metric: Metric) -> float | None:
        value: float | None = getattr(self, metric)
        return value

    def to_json(self) -> dict[str, float | None]:
        return {m: (round(v, 3) if (v := self.get(m)) is not None else None) for m in METRICS}


@dataclass(frozen=True, slots=True)
class RouteTiming:
    """One route's medians with and without the manifest's hints."""

    route: str
    with_hints: Paints
    without_hints: Paints
    font_text_from: str  # which text font_text is (see the module docstring)

    def to_json(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "with_hints": self.with_hints.to_json(),
            "without_hints": self.without_hints.to_json(),
            "font_text_from": self.font_text_from,
        }


def _cell(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "n/a"


@dataclass(frozen=True, slots=True)
class TimingResult:
    """Every timed route: medians of ``runs`` cold loads each way, in round trips of ``rtt_ms``."""

    rtt_ms: float
    runs: int
    routes: tuple[RouteTiming, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``timing`` object of the verify result (pushgen/verify/schema.json)."""
        return {
            "rtt_ms": self.rtt_ms,
            "runs": self.runs,
            "routes": [r.to_json() for r in self.routes],
        }

    def render(self) -> str:
        """The table ``pushgen verify --timing`` prints on standard error."""
        width = max([len("route"), *(len(r.route) for r in self.routes)])
        head = (
            f"timing: medians of {self.runs} cold load{'s' if self.runs != 1 else ''} each way,"
            f" in round trips (RTT {self.rtt_ms:g} ms) from the page request\n"
        )
        lines = [
            f"{'route':<{width}}  {'paint':<12} {'with hints':>10} {'without':>8} {'saved':>6}"
        ]
        for r in self.routes:
            for metric, label in METRICS.items():
                with_, without = r.with_hints.get(metric), r.without_hints.get(metric)
                saved = without - with_ if with_ is not None and without is not None else None
                lines.append(
                    f"{r.route:<{width}}  {label:<12} {_cell(with_):>10} {_cell(without):>8}"
                    f" {_cell(saved):>6}"
                )
        sources = [f"  {r.route}: {r.font_text_from or 'no text painted'}" for r in self.routes]
        return head + "\n".join([*lines, "font text is the paint of", *sources]) + "\n"


def _load(browser: Any, target: Target, route: str) -> LoadPaints:
    """Open ``route`` cold (a fresh context) from ``target`` and read its paints."""
    from .browser import playwright_errors

    context = browser.new_context(extra_http_headers=dict(target.headers) or None)
    try:
        context.add_init_script(_MARK)
        page = context.new_page()
        page.goto(target.origin + route, wait_until="load", timeout=60_000)
        data = page.evaluate(_MEASURE)
    except playwright_errors() as exc:
        raise VerifyError(f"{route}: Chromium could not load it for --timing: {exc}") from None
    finally:
        context.close()
    request = float(data["request"])

    def since_request(key: str) -> float | None:
        return None if data[key] is None else float(data[key]) - request

    return LoadPaints(
        since_request("first_paint"),
        since_request("font_text"),
        since_request("lcp"),
        data["font_text_from"] or "",
    )


def _ways(round_: int) -> tuple[Way, ...]:
    """The order of the two ways in a round: alternating, so neither always goes first."""
    return ("with_hints", "without_hints") if round_ % 2 else ("without_hints", "with_hints")


def measure(
    open_browser: Callable[[], AbstractContextManager[Any]],
    with_hints: Target,
    without_hints: Target,
    routes: Sequence[str],
    *,
    rtt_ms: float,
    runs: int,
    progress: Callable[[str], None] | None = None,
) -> TimingResult:
    """Load each of ``routes`` cold from both targets, ``runs`` counted rounds after a warm-up one.

    ``open_browser`` opens the browser (headless Chromium trusting the servers'
    certificate); ``rtt_ms`` is the delay line's round trip, the unit of the result.
    """
    if runs < 1 or not rtt_ms > 0:
        raise VerifyError(f"--timing needs --runs >= 1 and --rtt > 0 (got {runs}, {rtt_ms} ms)")
    targets: dict[Way, Target] = {"with_hints": with_hints, "without_hints": without_hints}
    loads: dict[tuple[str, Way], list[LoadPaints]] = {
        (route, way): [] for route in routes for way in targets
    }
    with open_browser() as browser:
        for round_ in range(runs + 1):  # round 0 warms up and is not counted
            if progress is not None:
                progress(f"timing: round {round_} of {runs}" + (" (warm-up)" if not round_ else ""))
            for route in routes:
                for way in _ways(round_):
                    load = _load(browser, targets[way], route)
                    if round_:
                        loads[(route, way)].append(load)
    return TimingResult(
        rtt_ms, runs, tuple(_route_timing(route, loads, rtt_ms) for route in routes)
    )


def _route_timing(
    route: str, loads: Mapping[tuple[str, Way], list[LoadPaints]], rtt_ms: float
) -> RouteTiming:
    every = loads[(route, "with_hints")] + loads[(route, "without_hints")]
    sources = sorted({load.font_text_from for load in every if load.font_text_from})
    return RouteTiming(
        route,
        Paints.median(loads[(route, "with_hints")], rtt_ms),
        Paints.median(loads[(route, "without_hints")], rtt_ms),
        " or ".join(sources),  # more than one: the largest text changed between loads
    )


def time_source(
    source: Source,
    *,
    routes: str | None = None,
    limit: int | None = None,
    rtt_ms: float = 100.0,
    runs: int = 5,
    progress: Callable[[str], None] | None = None,
) -> TimingResult:
    """Serve ``source`` behind a delay line of ``rtt_ms`` and :func:`measure` its routes.

    One server (:func:`~pushgen.verify.run.serve_for_browser`, the one ``pushgen
    verify`` loads): with hints it sends the 103 at once and the ``Link``
    headers; a request carrying :data:`~pushgen.verify.run.NO_HINTS` gets none,
    so the two ways differ in the hints and nothing else. ``routes`` and
    ``limit`` pick the routes as for ``pushgen verify``.
    """
    from .browser import open_chromium, trust_args

    with serve_for_browser(source) as served:
        chosen = select_routes(served.manifest, routes, limit)
        if not chosen:
            raise VerifyError(f"{served.manifest_path}: no route to time")
        port = int(served.origin.rsplit(":", 1)[1])
        with delay_line(("127.0.0.1", port), rtt_ms / 2000) as line:
            origin = f"https://{line.address}"

            def browser() -> AbstractContextManager[Any]:
                return open_chromium(trust_args(served.certfile))

            return measure(
                browser,
                Target(origin),
                Target(origin, NO_HINTS),
                chosen,
                rtt_ms=rtt_ms,
                runs=runs,
                progress=progress,
            )
