"""Precision before/after in Chromium, on site_example and two real generator sites (issue 15).

    python bench/precision_browser.py [--before 4a8b647] [--linger-ms 4000]

Three sites: site_example (``pushgen build``), a Sphinx site (Read the Docs
theme) and an MkDocs Material site (``pushgen scan`` of the folder each
generator built, from the sources of tests/generators/test_generators.py).
Each gets two manifests: **before**, made by the pushgen of commit ``--before``
(extracted with ``git archive`` into a temporary folder and run with it first
on ``PYTHONPATH``), and **after**, made by this checkout.

Every page is loaded cold in headless Chromium (pushgen/verify/browser.py), one
at a time:

* from a plain static server (no hints): what the page itself fetches; the
  stylesheets, scripts and fonts its parser fetched are the render-blocking set;
* from ``pushgen serve`` with each manifest (a 103 before every page, Link
  headers; Chromium refuses push), kept open ``--linger-ms`` after network idle
  so Chromium's "preloaded but not used" warning (3 s after load) is seen.

Printed per site and manifest: recall (render-blocking set listed / fetched),
pushed entries and hinted-only entries the page never fetched, "preloaded but
not used" warnings, duplicate requests (a path requested twice in one load:
pushgen serve run), and entries, pushes and pushed bytes per route (median /
max). A Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench_process import REPO

sys.path.insert(0, str(REPO))

from pushgen.manifest import Manifest, load_manifest
from pushgen.model import Asset
from pushgen.runtime.certs import dev_certificate
from pushgen.urls import url_path_to_relpath
from pushgen.verify.browser import PageLoad, load_page, open_chromium, trust_args
from tests.browser_harness import StaticServer, load_served


@dataclass
class Site:
    name: str
    output: Path  # the folder served
    serve: Path  # what `pushgen serve` takes: SITE, or the folder with --folder
    manifest: Path
    args: tuple[str, ...]  # ("--folder",) for a generator's folder


def _pushgen(tree: Path, *argv: str) -> None:
    """``python -m pushgen ARGV`` with ``tree``'s package first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-m", "pushgen", *argv],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pushgen {' '.join(argv)} ({tree}):\n{done.stdout}{done.stderr}")


@contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """The tree of ``commit`` in a temporary folder (``git archive``: no worktree to clean up)."""
    with tempfile.TemporaryDirectory(prefix=f"pushgen-{commit}-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        yield Path(folder)


def site_example(work: Path, label: str, tree: Path) -> Site:
    site = work / f"site_example-{label}"
    shutil.copytree(
        REPO / "site_example", site, ignore=shutil.ignore_patterns("_site", "push-manifest.yaml")
    )
    _pushgen(tree, "build", str(site))
    return Site("site_example", site / "_site", site, site / "push-manifest.yaml", ())


def generated(work: Path) -> dict[str, Path]:
    """The Sphinx and MkDocs folders, built once (the generators are the test extra's)."""
    from tests.generators.builders import build_mkdocs, build_sphinx

    return {"sphinx": build_sphinx(work), "mkdocs": build_mkdocs(work).folder}


def scanned(name: str, folder: Path, work: Path, label: str, tree: Path) -> Site:
    manifest = work / f"{name}-{label}.yaml"
    _pushgen(tree, "scan", str(folder), "-m", str(manifest))
    return Site(name, folder, folder, manifest, ("--folder",))


def _size(site: Site, path: str) -> int:
    relpath = url_path_to_relpath(path.split("?")[0])
    file = site.output / relpath if relpath else None
    return file.stat().st_size if file is not None and file.is_file() else 0


def _fetched(asset: Asset, paths: set[str]) -> bool:
    """Whether the page fetched what the hint preloads: with ``imagesrcset``, any candidate."""
    if asset.preconnect:
        return True  # not a fetch
    candidates = {asset.path}
    if asset.imagesrcset:
        candidates |= {c.strip().split()[0] for c in asset.imagesrcset.split(",") if c.strip()}
    return bool(candidates & paths)


def _mm(values: list[int]) -> str:
    return f"{statistics.median(values):,.0f} / {max(values):,}" if values else "-"


def row(label: str, site: Site, plain: dict[str, PageLoad], hinted: list[PageLoad]) -> str:
    manifest: Manifest = load_manifest(site.manifest)
    needed = listed = 0
    pushed_unused = hinted_unused = 0
    entries: list[int] = []
    pushes: list[int] = []
    pushed_bytes: list[int] = []
    for route, load in plain.items():
        assets = manifest.assets(route)
        paths = {a.path for a in assets}
        needed += len(load.needed)
        listed += len(load.needed & paths)
        pushed_unused += sum(1 for a in assets if a.push and a.path not in load.paths)
        hinted_unused += sum(
            1 for a in assets if a.hint and not a.push and not _fetched(a, load.paths)
        )
        entries.append(len(assets))
        pushes.append(sum(1 for a in assets if a.push))
        pushed_bytes.append(sum(_size(site, a.path) for a in assets if a.push))
    warnings = sum(len(load.unused_preloads) for load in hinted)
    duplicates = sum(sum(n - 1 for n in load.duplicates.values()) for load in hinted)
    return (
        f"| {site.name} | {label} | {len(plain)} | {listed}/{needed} | {pushed_unused} | "
        f"{hinted_unused} | {warnings} | {duplicates} | {_mm(entries)} | {_mm(pushes)} | "
        f"{_mm(pushed_bytes)} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--before", default="4a8b647", help="the commit whose manifests are 'before'"
    )
    parser.add_argument("--linger-ms", type=int, default=4000)
    args = parser.parse_args(argv)
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="precision-") as folder, checkout(args.before) as base:
        work = Path(folder)
        cache = work / "cache"
        cert = dev_certificate(cache / "pushgen")
        env = {"XDG_CACHE_HOME": str(cache), "PUSHGEN_PUSH": "0"}
        folders = generated(work)
        sites: list[tuple[str, Site]] = []
        for label, tree in (("before", base), ("after", REPO)):
            sites.append((label, site_example(work, label, tree)))
            for name, built in folders.items():
                sites.append((label, scanned(name, built, work, label, tree)))
        with open_chromium(trust_args(cert.certfile)) as browser:
            plain: dict[str, dict[str, PageLoad]] = {}
            for label, site in sites:
                routes = sorted(load_manifest(site.manifest).routes)
                key = f"{site.name}-{label}" if site.name == "site_example" else site.name
                if key not in plain:
                    with StaticServer(site.output) as server:
                        plain[key] = {r: load_page(browser, server.origin, r) for r in routes}
                hinted = load_served(
                    browser,
                    site.serve,
                    routes,
                    log=work / f"{site.name}-{label}.log",
                    env=env,
                    args=(*site.args, "-m", str(site.manifest)),
                    linger_ms=args.linger_ms,
                )
                rows.append(row(label, site, plain[key], hinted))
    print(
        "| site | manifest | pages | render-blocking listed | pushed, never fetched |"
        " hinted, never fetched | unused-preload warnings | duplicate requests |"
        " entries per route (median / max) | pushes per route | pushed bytes per route |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for line in sorted(rows, key=lambda r: r.split("|")[1]):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
