"""What a hint for a script's fetch costs or gains in Chromium (issue 15, item 1).

    python bench/script_fetch_bench.py [--linger-ms 4000]

pushgen finds resources a script fetches through a literal URL (``import()``,
``fetch()``); this measures whether hinting them helps. Two sites, each built
and served by ``pushgen serve`` (a 103 before every page, Link headers; Chromium
refuses push) twice: with the script fetches **hinted** at low priority, and
only **listed** (``hint: false``):

* site_example: ``lazy.js`` is reached through ``import()`` on a click;
* a Sphinx site (Read the Docs theme, the sources of
  tests/generators/test_generators.py): ``search.html`` loads
  ``searchindex.js`` at once, by a script (``Search.loadIndex``); the hinted
  variant adds that entry to the manifest by hand.

Every page is loaded cold in headless Chromium (pushgen/verify/browser.py), kept
open ``--linger-ms`` past network idle (Chromium warns about an unused preload 3 s
after load). Printed per site and variant: bytes on the wire (all pages), the
script-fetch targets fetched / hinted, "preloaded but not used" warnings,
duplicate requests, and how each target was fetched (Resource Timing
initiatorType: ``early-hints``/``link`` means the hint served it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench_process import REPO

sys.path.insert(0, str(REPO))

from pushgen.cli import main as pushgen
from pushgen.manifest import load_manifest
from pushgen.runtime.certs import dev_certificate
from pushgen.verify.browser import PageLoad, open_chromium, trust_args
from tests.browser_harness import load_served

_LOW = re.compile(r", fetchpriority: low\}")


@dataclass
class Variant:
    site: str
    name: str
    serve: Path  # SITE, or the folder with --folder
    manifest: Path
    targets: set[str]  # the script fetches of this site
    args: tuple[str, ...] = ()
    loads: list[PageLoad] = field(default_factory=list)


def _listed(manifest: Path) -> Path:
    """A copy of ``manifest`` whose low-priority script-fetch hints are listed only."""
    out = manifest.with_name("listed-" + manifest.name)
    out.write_text(_LOW.sub(", hint: false}", manifest.read_text()))
    return out


def site_example(work: Path) -> list[Variant]:
    site = work / "site_example"
    shutil.copytree(
        REPO / "site_example", site, ignore=shutil.ignore_patterns("_site", "push-manifest.yaml")
    )
    # Hinted: what main wrote at 4a8b647 (fetchpriority: low).
    assert pushgen(["build", str(site)]) == 0
    hinted = site / "push-manifest.yaml"
    if not _LOW.search(hinted.read_text()):  # this branch lists them: hint them for the measure
        text = re.sub(
            r"(\{path: /static/js/lazy\.js, [^}]*?), hint: false\}",
            r"\1, fetchpriority: low}",
            hinted.read_text(),
        )
        hinted = site / "hinted.yaml"
        hinted.write_text(text)
    targets = {"/static/js/lazy.js"}
    return [
        Variant("site_example", "hinted", site, hinted, targets),
        Variant("site_example", "listed", site, _listed(hinted), targets),
    ]


def sphinx(work: Path) -> list[Variant]:
    from tests.generators.builders import build_sphinx

    folder = build_sphinx(work)
    listed = work / "sphinx.yaml"
    assert pushgen(["scan", str(folder), "-m", str(listed)]) == 0
    # searchindex.js is fetched by Search.loadIndex: hint it by hand.
    hinted = work / "sphinx-hinted.yaml"
    hinted.write_text(
        listed.read_text().replace(
            "  /search.html:\n",
            "  /search.html:\n    - {path: /searchindex.js, as: script, push: false,"
            " fetchpriority: low}\n",
        )
    )
    targets = {"/searchindex.js"}
    args = ("--folder",)
    return [
        Variant("sphinx", "hinted", folder, hinted, targets, args),
        Variant("sphinx", "listed", folder, listed, targets, args),
    ]


def run(variants: list[Variant], work: Path, linger_ms: int) -> None:
    cache = work / "cache"
    cert = dev_certificate(cache / "pushgen")
    env = {"XDG_CACHE_HOME": str(cache), "PUSHGEN_PUSH": "0"}
    with open_chromium(trust_args(cert.certfile)) as browser:
        for variant in variants:
            variant.loads = load_served(
                browser,
                variant.serve,
                sorted(load_manifest(variant.manifest).routes),
                log=work / f"{variant.site}-{variant.name}.log",
                env=env,
                args=(*variant.args, "-m", str(variant.manifest)),
                linger_ms=linger_ms,
            )


def report(variant: Variant) -> str:
    manifest = load_manifest(variant.manifest)
    hinted = fetched = 0
    how: set[str] = set()
    for load in variant.loads:
        entries = {a.path: a for a in manifest.assets(load.route)}
        for target in variant.targets:
            if target in entries and entries[target].hint:
                hinted += 1
            if target in load.requests:
                fetched += 1
                how.add(load.initiator_types.get(target, "?"))
    warnings = sum(len(load.unused_preloads) for load in variant.loads)
    duplicates = sum(len(load.duplicates) for load in variant.loads)
    total = sum(load.bytes for load in variant.loads)
    return (
        f"| {variant.site} | {variant.name} | {len(variant.loads)} | {total} | "
        f"{hinted} | {fetched} | {', '.join(sorted(how)) or '-'} | {warnings} | {duplicates} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--linger-ms", type=int, default=4000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="script-fetch-") as folder:
        work = Path(folder)
        makers: list[Callable[[Path], list[Variant]]] = [site_example, sphinx]
        variants = [v for make in makers for v in make(work)]
        run(variants, work, args.linger_ms)
        print(
            "| site | variant | pages | subresource bytes (all pages) | pages hinting a target |"
            " pages fetching it | fetched by | unused-preload warnings | duplicates |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for variant in variants:
            print(report(variant))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
