"""Issue 25 item 5: push module graphs and body stylesheets, or only hint them? Measured.

    python bench/push_default_bench.py [--rounds 3] [--rtt-ms 100] [--mbps 20]

Two real sites of the suite (tests/generators/builders.py), each on the page
that has both a module graph and, on Hugo, a code-block stylesheet linked in
``<body>``: Hugo ``/docs/guide/`` and VitePress ``/docs/guide/install.html``.
Hugo's module graph as built is a few hundred bytes; the imported module is
padded to ``--module-kb`` (a comment) so that the graph weighs what a real one
does and pushing it competes with the rest for the line and the push budget.
Each is scanned with this checkout's ``pushgen scan`` (the manifest
**default**), and the default is edited into three variants: **modules hinted**
(every module script ``push: false``, still hinted as ``modulepreload``),
**body css hinted** (every stylesheet the page links inside ``<body>``
``push: false``), **both hinted**. Each variant gets its own ``pushgen serve
--folder`` (push on, at most 10 pushes a page as by default, a 103 and Link
headers) behind ``bench/slow_start_proxy.py``: RTT ``--rtt-ms``, ``--mbps``,
and TCP slow start from 10 segments (without a bandwidth, pushing more costs
nothing and the question has no answer).

Two clients load the page cold through the line, in every round, variants in
a rotating order (round 0 warms up and is not counted):

* **nghttp** (``nghttp -nas``: accepts push, then fetches what the page links;
  Chromium's windows): when the page and its render-blocking set (what
  Chromium's Resource Timing calls blocking on that page, and its fonts) have
  all arrived — a push client's first paint — and when the last response ended;
* **Chromium** (headless, SPKI trust; it refuses push, so it gets the hints):
  first contentful paint, the last web font's ``responseEnd`` (the text in it
  can paint), and the load event, from navigation start.

Printed: per site and variant, medians in round trips with [min-max] over the
counted rounds, and the bytes nghttp received pushed. The figures in
docs/performance.md are this script's output.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import html.parser
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from bench_process import REPO, Process, spawn_url

sys.path.insert(0, str(REPO))

from pushgen.cli import main as pushgen
from pushgen.runtime.certs import dev_certificate
from pushgen.verify.browser import load_page, open_chromium, trust_args
from tests.browser_harness import StaticServer
from tests.generators.builders import Built, build_hugo, build_vitepress
from tests.generators.chromium_check import render_blocking, served_root

PROXY = Path(__file__).with_name("slow_start_proxy.py")
PAGES = {"hugo": "/docs/guide/", "vitepress": "/docs/guide/install.html"}
VARIANTS = ("default", "modules hinted", "body css hinted", "both hinted")


class _BodyStylesheets(html.parser.HTMLParser):
    """The stylesheets a page links after its ``<body>`` starts."""

    def __init__(self) -> None:
        super().__init__()
        self.in_body = False
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "body":
            self.in_body = True
        elif tag == "link" and self.in_body and (values.get("rel") or "").lower() == "stylesheet":
            self.found.append((values.get("href") or "").split("#")[0])


def body_stylesheets(page: Path) -> set[str]:
    parser = _BodyStylesheets()
    parser.feed(page.read_text())
    return set(parser.found)


def variant_manifest(site: Built, route: str, variant: str, body_css: set[str], out: Path) -> Path:
    """The scanned manifest with module scripts and/or body stylesheets set ``push: false``."""
    data = yaml.safe_load(site.manifest_path.read_text())
    for entry in data["routes"][route]:
        module = bool(entry.get("module"))
        in_body = entry.get("as") == "style" and entry["path"] in body_css
        if (variant in ("modules hinted", "both hinted") and module) or (
            variant in ("body css hinted", "both hinted") and in_body
        ):
            entry["push"] = False
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


@dataclass
class Samples:
    nghttp_blocking: list[float] = field(default_factory=list)
    nghttp_last: list[float] = field(default_factory=list)
    pushed_bytes: list[int] = field(default_factory=list)
    fcp: list[float] = field(default_factory=list)
    font: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)


_STAT = re.compile(
    r"^\s*(\d+)\s+\+([\d.]+)(us|ms|s)\s+(\*?)\s*\+?[\d.]+(?:us|ms|s)\s+\S+\s+(\d+)\s+(\S+)\s+(\S+)"
)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_FONT = re.compile(r"\.(woff2?|ttf|otf)(\?|$)")


def _size(text: str) -> int:
    scale = {"K": 1024, "M": 1024 * 1024}
    return int(float(text[:-1]) * scale[text[-1]]) if text[-1] in scale else int(text)


def nghttp_load(url: str, blocking: set[str]) -> tuple[float, float, int]:
    """(page and blocking set arrived, last response ended, pushed bytes), ms from connect."""
    done = subprocess.run(
        ["nghttp", "-nas", "-w", "22", "-W", "24", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    ended: dict[str, float] = {}
    pushed = 0
    for line in done.stdout.splitlines():
        match = _STAT.match(line)
        if match:
            ms = float(match.group(2)) * _UNIT[match.group(3)]
            ended[match.group(7)] = ms
            if match.group(4):
                pushed += _size(match.group(6))
    if not ended:
        raise RuntimeError(f"nghttp printed no statistics:\n{done.stdout}{done.stderr}")
    # nghttp finds no fonts through stylesheets: the page, its blocking stylesheets
    # and scripts (and the fonts when pushed) are what it can paint with.
    wanted = {"/" + url.split("/", 3)[3], *(p for p in blocking if not _FONT.search(p))}
    if not wanted <= ended.keys():
        # VitePress links its stylesheet as rel="preload stylesheet", which nghttp -a
        # does not take for a stylesheet: not measured.
        return float("nan"), max(ended.values()), pushed
    return max(ended[p] for p in wanted), max(ended.values()), pushed


_PAINT = """(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const fonts = performance.getEntriesByType('resource')
      .filter(e => /\\.(woff2?|ttf|otf)(\\?|$)/.test(e.name)).map(e => e.responseEnd);
  return [fcp ? fcp.startTime : NaN, fonts.length ? Math.max(...fonts) : NaN, nav.loadEventEnd];
})()"""


def chromium_load(browser: Any, url: str) -> tuple[float, float, float]:
    """(first contentful paint, last font responseEnd, load event), ms from navigation start."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_timeout(200)
        fcp, font, load = page.evaluate(_PAINT)
    finally:
        context.close()
    return float(fcp), float(font), float(load)


@contextlib.contextmanager
def serving(
    site: Built, manifest: Path, work: Path, label: str, rtt_ms: float, mbps: float
) -> Iterator[int]:
    """``pushgen serve --folder`` with ``manifest`` behind the slow-start line; yields the line's port."""
    cache = work / "cache"
    argv = [sys.executable, "-m", "pushgen", "serve", str(site.folder), "--folder", "-m", str(manifest),
            "--port", "0", "--no-build", "--early-hints-delay", "0"]  # fmt: skip
    if site.base_path != "/":
        argv += ["--base-path", site.base_path]
    server = spawn_url(argv, work / f"{label}.log", {"XDG_CACHE_HOME": str(cache)},
                       r"serving at https://127\.0\.0\.1:(\d+)/")  # fmt: skip
    proxy: Process | None = None
    try:
        proxy = spawn_url(
            [sys.executable, str(PROXY), "--target", f"127.0.0.1:{server.port}",
             "--delay-ms", str(rtt_ms / 2), "--mbps", str(mbps)],
            work / f"proxy-{label}.log", {}, r"listening on 127\.0\.0\.1:(\d+)",
        )  # fmt: skip
        yield proxy.port
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()


def _cell(values: list[float], rtt: float) -> str:
    values = [v for v in values if v == v]  # NaN: not measured
    if not values:
        return "-"
    return (
        f"{statistics.median(values) / rtt:.2f} [{min(values) / rtt:.2f}-{max(values) / rtt:.2f}]"
    )


def start_variants(
    browser: Any,
    stack: contextlib.ExitStack,
    work: Path,
    rtt_ms: float,
    mbps: float,
    module_kb: int,
) -> tuple[dict[tuple[str, str], int], dict[str, set[str]]]:
    """Build and scan each site, start a server and line per variant (closed with ``stack``).

    Returns the line's port per (site, variant) and each page's render-blocking set.
    """
    ports: dict[tuple[str, str], int] = {}
    blocking: dict[str, set[str]] = {}
    for name, builder in (("hugo", build_hugo), ("vitepress", build_vitepress)):
        (work / name).mkdir()
        site = builder(work / name)
        if name == "hugo" and module_kb:
            # The built module graph is a few hundred bytes; a real one is tens of KB.
            util = site.folder / "js" / "util.js"
            filler = base64.b64encode(os.urandom(module_kb * 768)).decode()
            util.write_text(util.read_text() + f"/* {filler} */\n")
        with contextlib.redirect_stdout(sys.stderr):
            assert pushgen(site.scan_args()) == 0
        route = PAGES[name]
        page = site.folder / (route.removeprefix(site.base_path).removesuffix("/") or ".")
        page = page / "index.html" if route.endswith("/") else page
        with StaticServer(served_root(site, work)) as plain:
            blocking[name] = set(render_blocking(load_page(browser, plain.origin, route).fetched))
        css = body_stylesheets(page)
        print(f"{name} {route}: blocking {sorted(blocking[name])}; body css {sorted(css)}",
              file=sys.stderr)  # fmt: skip
        for variant in VARIANTS:
            label = f"{name}-{variant.replace(' ', '-')}"
            manifest = variant_manifest(site, route, variant, css, work / f"{label}.yaml")
            ports[name, variant] = stack.enter_context(
                serving(site, manifest, work, label, rtt_ms, mbps)
            )
    return ports, blocking


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds (one more warms up)")
    parser.add_argument("--rtt-ms", type=float, default=100.0)
    parser.add_argument("--mbps", type=float, default=20.0)
    parser.add_argument(
        "--module-kb", type=int, default=40, help="Hugo's imported module padded to this size"
    )
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="push-default-") as folder,
        contextlib.ExitStack() as stack,
    ):
        work = Path(folder)
        cert = dev_certificate(work / "cache" / "pushgen")
        browser = stack.enter_context(open_chromium(trust_args(cert.certfile)))
        ports, blocking = start_variants(
            browser, stack, work, args.rtt_ms, args.mbps, args.module_kb
        )
        samples = {key: Samples() for key in ports}
        keys = list(ports)
        for round_ in range(args.rounds + 1):
            shift = round_ % len(keys)
            for name, variant in keys[shift:] + keys[:shift]:
                url = f"https://localhost:{ports[name, variant]}{PAGES[name]}"
                first, last, pushed = nghttp_load(url, blocking[name])
                fcp, font, load = chromium_load(browser, url)
                if round_:
                    s = samples[name, variant]
                    s.nghttp_blocking.append(first)
                    s.nghttp_last.append(last)
                    s.pushed_bytes.append(pushed)
                    s.fcp.append(fcp)
                    s.font.append(font)
                    s.load.append(load)
    rtt = args.rtt_ms
    print(f"RTT {rtt:g} ms, {args.mbps:g} Mbit/s, slow start; Hugo's module graph "
          f"{args.module_kb} KB; {args.rounds} counted rounds; medians in RTTs [min-max]")  # fmt: skip
    print("| site | variant | nghttp: page + blocking set | nghttp: last response | pushed KB |"
          " Chromium: FCP | Chromium: web fonts in | Chromium: load |")  # fmt: skip
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (name, variant), s in samples.items():
        print(
            f"| {name} | {variant} | {_cell(s.nghttp_blocking, rtt)} | {_cell(s.nghttp_last, rtt)} | "
            f"{statistics.median(s.pushed_bytes) / 1024:.0f} | {_cell(s.fcp, rtt)} | "
            f"{_cell(s.font, rtt)} | {_cell(s.load, rtt)} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
