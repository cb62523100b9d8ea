"""Does Chromium use a 103's preloads when the 103 and its 200 arrive together? h2 against h3.

Issue 28 (item 4, last paragraph) saw Chromium record the 103 over h2 but preload
nothing in 7 of 20 loads, and use it in 20 of 20 over h3. This measures it again
for the 103 timing decision (issue 27): ``pushgen serve --quic`` on a built copy of
``site_example/`` (loopback, no delay line), Debian's Chromium through Playwright,
LOADS page loads per scenario (its routes in turn, each in a fresh context), for
h2 and h3 and for a 103 at once (``--early-hints-delay 0``) and the default (a 103
only when the page has not started after 2 ms). Per scenario it counts the loads
over the expected protocol, those where Chromium recorded a 103
(``Network.responseReceivedEarlyHints``) and those where at least one asset came
from the 103's preloads (DevTools' ``fromEarlyHints``). Chromium trusts the
server by its key; h3 is forced with the flags ``pushgen serve --quic`` prints
(``pushgen.runtime.server.chromium_h3``), h2 is Chromium with QUIC off. Usage::

    python bench/early_hints_h3_bench.py [--loads 20]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pushgen.cli import main as pushgen_main
from pushgen.manifest import load_manifest
from pushgen.verify.browser import ARGS, load_page
from tests.browser_harness import pushgen_serve
from tests.runtime.test_h3_chromium import chromium_with, printed_flags

_REPO = Path(__file__).resolve().parent.parent


def scenario(site: Path, tmp: Path, protocol: str, delay: str | None, loads: int) -> str:
    args = ("--quic", "--early-hints-delay", delay) if delay is not None else ("--quic",)
    env = {"XDG_CACHE_HOME": str(tmp / "cache"), "PUSHGEN_CAROOT": str(tmp / "no-ca")}
    server = pushgen_serve(site, tmp / f"{protocol}-{delay}.log", env, args)
    try:
        flags, url = printed_flags(server.log())
        if protocol == "h2":  # the pin only, and QUIC off as every check of h2 has it
            flags = [f for f in flags if "spki" in f] + ["--disable-quic"]
        routes = sorted(load_manifest(site / "push-manifest.yaml").routes)
        with chromium_with(flags) as browser:
            done = [
                load_page(browser, url.rstrip("/"), routes[i % len(routes)]) for i in range(loads)
            ]
    finally:
        server.stop()
    over = sum(1 for d in done if d.document is not None and d.document.protocol == protocol)
    recorded = sum(1 for d in done if d.early_hint_links)
    used = sum(1 for d in done if d.via_early_hints)
    failed = sum(1 for d in done if d.failed or d.status != 200)
    when = "at once (0)" if delay == "0" else "default (2 ms)"
    return (
        f"| {protocol} | {when} | {over}/{loads} | {recorded}/{loads} | {used}/{loads} | {failed} |"
    )


def run(loads: int) -> None:
    assert "--disable-quic" in ARGS
    with tempfile.TemporaryDirectory(prefix="pushgen-h3-") as folder:
        tmp = Path(folder)
        site = tmp / "site"
        shutil.copytree(
            _REPO / "site_example", site,
            ignore=shutil.ignore_patterns("_site", "push-manifest.yaml", ".*"),
        )  # fmt: skip
        assert pushgen_main(["build", "--quiet", str(site)]) == 0
        print("| protocol | 103 | loads over it | 103 recorded | preloads used | failed |")
        print("|---|---|---|---|---|---|")
        for protocol in ("h2", "h3"):
            for delay in ("0", None):
                print(scenario(site, tmp, protocol, delay, loads), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--loads", type=int, default=20)
    run(parser.parse_args(argv).loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
