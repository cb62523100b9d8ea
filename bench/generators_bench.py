"""Issue 25's table: every real generator's site, every page cold in Chromium under ``pushgen serve --folder``.

    python bench/generators_bench.py [--only hugo --only vitepress ...]

The generators are the suite's (tests/generators/builders.py: Read the Docs
Sphinx, MkDocs Material, Hugo with fingerprint and SRI, sphinx-book-theme,
VitePress 1.6 built for ``/docs/``, Docusaurus 3), built into a temporary
folder and scanned with this checkout's ``pushgen scan`` (``--base-path /docs/``
for VitePress). Each site then goes through the suite's check
(tests/generators/chromium_check.py): every page loaded cold from a plain server
(what Chromium blocks on) and from ``pushgen serve --folder`` (HTTP/2, TLS
trusted through the SPKI flag, a 103 and Link headers), kept open past
Chromium's unused-preload warning.

Printed per site, a Markdown table on stdout: pages; render-blocking assets
(stylesheets and scripts Chromium's Resource Timing calls blocking, fonts the
first render fetched) pushed or hinted / needed; pushed or hinted entries never
fetched; "preloaded but not used" and "integrity mismatch" console messages;
double downloads (a URL fetched more often than the plain load fetched it); and
requests under pushgen serve / distinct URLs the plain load needed. What failed,
per page, goes to stderr. One load per page and server: the figures are counts,
not times, and repeat from run to run.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

from bench_process import REPO

sys.path.insert(0, str(REPO))

from pushgen.cli import main as pushgen
from pushgen.runtime.certs import dev_certificate
from pushgen.verify.browser import open_chromium, trust_args
from tests.generators.builders import BUILDERS, Missing
from tests.generators.chromium_check import TABLE_HEADER, SiteCheck, check_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--only", action="append", choices=sorted(BUILDERS), help="this generator (repeatable)"
    )
    args = parser.parse_args(argv)
    names = args.only or list(BUILDERS)
    checks: list[SiteCheck] = []
    with tempfile.TemporaryDirectory(prefix="generators-") as folder:
        work = Path(folder)
        cache = work / "cache"
        cert = dev_certificate(cache / "pushgen")
        with open_chromium(trust_args(cert.certfile)) as browser:
            for name in names:
                (work / name).mkdir()
                try:
                    site = BUILDERS[name](work / name)
                except Missing as missing:
                    print(f"{name}: skipped, {missing}", file=sys.stderr)
                    continue
                with contextlib.redirect_stdout(sys.stderr):
                    if pushgen(site.scan_args()) != 0:
                        print(f"{name}: pushgen scan failed", file=sys.stderr)
                        continue
                check = check_site(browser, site, work, {"XDG_CACHE_HOME": str(cache)})
                print(f"{check.row()}\n{check.details()}", file=sys.stderr)
                checks.append(check)
    print(TABLE_HEADER)
    for check in checks:
        print(check.row())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
