"""A repeat view of site_example after a change to one stylesheet, with and without ``fingerprint: true``.

For each variant site_example is copied into a temporary folder (``fingerprint:
true`` appended for the fingerprinted one), built, and served by ``pushgen serve
--no-build`` (this checkout). Headless Chromium (trusting the certificate by its
key) then, in one browser context (one HTTP cache):

1. loads ``/`` (the first view: everything is fetched and cached);
2. the site's ``static/css/site.css`` gets one more rule (a changed colour of
   ``h1``) and the site is built again (incrementally) while the server runs;
3. loads ``/`` again by navigation (the repeat view a returning visitor makes).

Reported for the repeat view: requests that reached the server (DevTools
requests not served from the browser's cache), their bytes (encodedDataLength,
headers included), 304s, the time to the load event, and whether the page shows
the new rule (``h1``'s computed colour): without fingerprinting the browser keeps
the old ``site.css`` for the hour of ``max-age`` and shows the old style.
Counts do not depend on timing; the time does, on a shared machine (the load
average is printed beside it).

Usage::

    python bench/fingerprint_bench.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pushgen.runtime.certs import dev_certificate  # noqa: E402
from pushgen.verify.browser import open_chromium, trust_args  # noqa: E402

_URL = re.compile(r"serving at (https://\S+?:(\d+)/)")
_NEW_RULE = "\nh1 { color: rgb(1, 2, 3) }\n"
_LOAD_TIME = (
    "(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd; })()"
)


@dataclass(frozen=True, slots=True)
class View:
    """What one page view cost on the network."""

    requests: int  # reached the server (not served from the browser's cache)
    bytes: int  # received for those, headers included
    not_modified: int  # of those, 304s
    paths: tuple[str, ...]  # of those, path and status
    load_ms: float  # navigation start to the load event
    new_style: bool  # h1 shows the rule added after the first view


def _build(site: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run(
        [sys.executable, "-m", "pushgen", "build", str(site), "-q"],
        env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip


@contextmanager
def _serve(site: Path, cert: Any, log: Path) -> Iterator[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", "pushgen", "serve", str(site), "--port", "0", "--no-build"]
    argv += ["--cert", str(cert.certfile), "--key", str(cert.keyfile)]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (match := _URL.search(log.read_text(errors="replace"))):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pushgen serve did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield f"https://localhost:{match.group(2)}"
    finally:
        process.terminate()
        process.wait(30)


def _view(page: Any, cdp: Any, url: str) -> View:
    """Navigate ``page`` to ``url``; what reached the network."""
    sizes: dict[str, int] = {}
    statuses: dict[str, int] = {}
    urls: dict[str, str] = {}
    cached: set[str] = set()

    def received(p: dict[str, Any]) -> None:
        # DevTools shows a revalidated response as the cached 200; the wire status is in its headers text.
        statuses[p["requestId"]] = int(p["response"]["status"])
        urls[p["requestId"]] = p["response"]["url"]

    def extra(p: dict[str, Any]) -> None:
        if p.get("statusCode") == 304:
            statuses[p["requestId"]] = 304

    handlers = {
        "Network.responseReceived": received,
        "Network.responseReceivedExtraInfo": extra,
        "Network.requestServedFromCache": lambda p: cached.add(p["requestId"]),
        "Network.loadingFinished": lambda p: sizes.__setitem__(
            p["requestId"], int(p["encodedDataLength"])
        ),
    }
    for event, handler in handlers.items():
        cdp.on(event, handler)
    page.goto(url, wait_until="networkidle", timeout=60_000)
    load_ms = float(page.evaluate(_LOAD_TIME))
    color = page.evaluate("getComputedStyle(document.querySelector('h1')).color")
    for event, handler in handlers.items():
        cdp.remove_listener(event, handler)
    # Nothing received: the browser's cache answered (DevTools does not always say
    # requestServedFromCache, for the favicon say).
    network = [r for r in sizes if r not in cached and r in statuses and sizes[r] > 0]
    return View(
        requests=len(network),
        bytes=sum(sizes[r] for r in network),
        not_modified=sum(1 for r in network if statuses[r] == 304),
        paths=tuple(f"{statuses[r]} {urls[r].split('/', 3)[3]}" for r in network),
        load_ms=load_ms,
        new_style=color == "rgb(1, 2, 3)",
    )


def _round(browser: Any, work: Path, cert: Any, fingerprint: bool) -> View:
    """First view, one stylesheet changed and rebuilt, repeat view: the repeat view."""
    site = work / ("fingerprinted" if fingerprint else "plain")
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(REPO / "site_example", site, ignore=shutil.ignore_patterns("_site", "._site*"))
    if fingerprint:
        with (site / "pushgen.yaml").open("a") as fh:
            fh.write("fingerprint: true\n")
    _build(site)
    with _serve(site, cert, work / f"{site.name}.log") as origin:
        context = browser.new_context()
        try:
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            _view(page, cdp, origin + "/")
            with (site / "static/css/site.css").open("a") as fh:
                fh.write(_NEW_RULE)
            _build(site)
            return _view(page, cdp, origin + "/")
        finally:
            context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fingerprint-bench-") as tmp:
        work = Path(tmp)
        cert = dev_certificate(work / "cert", caroot=work / "no-ca")
        results: dict[bool, list[View]] = {False: [], True: []}
        with open_chromium(trust_args(cert.certfile)) as browser:
            for _ in range(args.rounds):  # interleaved: the machine's load touches both alike
                for fingerprint in (False, True):
                    results[fingerprint].append(_round(browser, work, cert, fingerprint))
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    print("| variant | requests | bytes | 304s | load event (ms, median) | new style shown |")
    print("|---|---|---|---|---|---|")
    for fingerprint, views in results.items():
        first = views[0]
        times = sorted(v.load_ms for v in views)
        name = "fingerprint: true" if fingerprint else "plain names"
        shown = f"{sum(v.new_style for v in views)}/{len(views)}"
        counts = {(v.requests, v.bytes, v.not_modified) for v in views}
        note = "" if len(counts) == 1 else f" (rounds differ: {sorted(counts)})"
        print(
            f"| {name} | {first.requests} | {first.bytes} | {first.not_modified} |"
            f" {times[len(times) // 2]:.0f} | {shown} |{note}"
        )
        print(f"|   (what reached the server: {', '.join(first.paths)}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
