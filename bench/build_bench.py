"""Full `pushgen build` time against the floor, measured side by side in one run.

The floor is what no build of a Jinja2 site can avoid: render every page with
Jinja2 and parse the result with lxml, in one process. The benchmark generates an
N-page site (a layout with partials, per-page assets, a shared stylesheet with
@imports and a font, a module graph) and times, per round:

* floor      - Jinja2 render + lxml parse of every page, one process;
* build -j1  - the full `pushgen build` (render, write, scan, follow, manifest), one process;
* build -j2  - the same on two worker processes;
* peer scan  - the npm tool http2-push-manifest over the rendered pages (it scans
               HTML only: no rendering, no CSS @import chains, fonts or module
               graphs), installed into bench/_work when node and npm exist;
* rendered -j1 / -j2 - `pushgen build` given what the peer is given: a site whose
               pages are the rendered pages (plain HTML, which Jinja2 passes
               through) and the same static files: the like-for-like comparison.

The table also counts what each found: manifest entries summed over all pages.

Each is run ROUNDS times, interleaved, and reported as median (min-max); ratios
are medians over the floor's median. Usage:

    python bench/build_bench.py --pages 1000 --rounds 5 [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html
from bench_markdown import put_block

from pushgen.build import build_site
from pushgen.build.render import Renderer, discover_pages
from pushgen.config import load_config

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} - {{ site_name }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
<link rel="stylesheet" media="print" href="{{ url_for('static', filename='css/print.css') }}">
<link rel="icon" href="{{ url_for('static', filename='img/icon.svg') }}">
{% block head %}{% endblock %}
</head><body>
{% include "partials/header.html" %}
<main>{% block body %}{% endblock %}</main>
{% include "partials/footer.html" %}
<script type="module" src="{{ url_for('static', filename='js/app.js') }}"></script>
<script defer src="{{ url_for('static', filename='js/stats.js') }}"></script>
</body></html>
"""
HEADER = """<header><nav><ul>
{% for name in ["index", "about", "docs.index"] %}<li><a href="{{ url_for(name) }}">{{ name }}</a></li>
{% endfor %}</ul></nav></header>
"""
FOOTER = """<footer><p>&copy; {{ site_name }}</p>{% for i in range(10) %}<a href="/p/{{ i }}.html">{{ i }}</a> {% endfor %}</footer>
"""
PAGE = """{% extends "base.html" %}
{% block head %}<link rel="stylesheet" href="{{ url_for('static', filename='css/section-N.css') }}">{% endblock %}
{% block body %}
<article><h1>Page N</h1>
{% for para in range(12) %}<p>Paragraph {{ para }} of page N with <a href="/p/{{ para }}.html">a link</a>,
<em>emphasis</em> and <code>code</code>. Lorem ipsum dolor sit amet, consectetur adipiscing elit,
sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>
{% endfor %}
<img src="/static/img/photo-N.png" srcset="/static/img/photo-N.png 1x, /static/img/photo-N@2x.png 2x" alt="">
<table>{% for r in range(8) %}<tr><td>{{ r }}</td><td>{{ r * 2 }}</td><td>{{ r * 3 }}</td></tr>{% endfor %}</table>
</article>
{% endblock %}
"""


def make_site(root: Path, pages: int) -> Path:
    files: dict[str, str | bytes] = {
        "pushgen.yaml": "context:\n  site_name: Bench\n  title: Bench\n",
        "templates/base.html": LAYOUT,
        "templates/partials/header.html": HEADER,
        "templates/partials/footer.html": FOOTER,
        "pages/index.html": PAGE.replace("N", "0").replace("section-0", "section-0"),
        "pages/about.html": PAGE.replace("N", "0"),
        "pages/docs/index.html": PAGE.replace("N", "0"),
        "static/css/site.css": '@import "base.css";\n@import "layout.css" screen;\nbody{margin:0}\n',
        "static/css/base.css": '@font-face{font-family:B;src:url(../fonts/b.woff2) format("woff2"),url(../fonts/b.woff) format("woff")}\n'
        "html{font-family:B}\n",
        "static/css/layout.css": "main{max-width:60em}\nheader{background:url(../img/bg.png)}\n",
        "static/css/print.css": "nav{display:none}\n",
        "static/fonts/b.woff2": b"wOF2" + b"\0" * 2000,
        "static/fonts/b.woff": b"wOFF" + b"\0" * 2000,
        "static/img/icon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
        "static/img/bg.png": b"\x89PNG",
        "static/js/app.js": 'import {a} from "./a.js";\nimport "./b.js";\nconsole.log(a);\n',
        "static/js/a.js": 'export {c as a} from "./c.js";\n',
        "static/js/b.js": "export default 1;\n",
        "static/js/c.js": "export const c = 1;\n",
        "static/js/stats.js": "void 0;\n",
    }
    sections = 20
    for s in range(sections):
        files[f"static/css/section-{s}.css"] = f"h1{{color:#{s:03d}}}\n"
    for i in range(pages - 3):
        files[f"pages/p/{i}.html"] = PAGE.replace("section-N", f"section-{i % sections}").replace(
            "N", str(i)
        )
        files[f"static/img/photo-{i}.png"] = b"\x89PNG"
        files[f"static/img/photo-{i}@2x.png"] = b"\x89PNG"
    files["static/img/photo-0.png"] = b"\x89PNG"
    files["static/img/photo-0@2x.png"] = b"\x89PNG"
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def floor(site: Path) -> None:
    """Jinja2 render + lxml parse of every page, one process: the unavoidable work."""
    config = load_config(site)
    pages = discover_pages(config)
    renderer = Renderer(config, pages)
    for page in pages:
        html = renderer.render(page).data
        lxml.html.document_fromstring(html)


PEER = "http2-push-manifest@1.0.1"
WORK = Path(__file__).parent / "_work"


def peer_command() -> Path | None:
    """The peer's CLI, installed on first use; None without node and npm."""
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    binary = WORK / "peer" / "node_modules" / ".bin" / "http2-push-manifest"
    if not binary.exists():
        (WORK / "peer").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(WORK / "peer"),
                PEER,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return binary


def peer_scan(binary: Path, output: Path) -> tuple[float, int]:
    """Time the peer over every rendered page; return (seconds, entries it found)."""
    pages = sorted(str(p.relative_to(output)) for p in output.rglob("*.html"))
    args = [arg for page in pages for arg in ("-f", page)]
    manifest = output.parent / "peer_push_manifest.json"
    started = time.perf_counter()
    subprocess.run(
        [str(binary), *args, "-m", str(manifest)],
        cwd=output,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    data = json.loads(manifest.read_text())
    # Multi-file format: page -> {url: props}; one page: {url: props}.
    if pages and len(pages) > 1:
        return seconds, sum(len(v) for v in data.values())
    return seconds, len(data)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


FOUND: dict[tuple[int, str], int] = {}


def rendered_site(site: Path, root: Path) -> Path:
    """A site whose pages are ``site``'s rendered pages, with the same static files."""
    output = site / "_site"
    for page in output.rglob("*.html"):
        target = root / "pages" / page.relative_to(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
    shutil.copytree(site / "static", root / "static", copy_function=os.link)
    shutil.copyfile(site / "pushgen.yaml", root / "pushgen.yaml")
    return root


def entries(site: Path, jobs: int) -> int:
    result = build_site(load_config(site), jobs=jobs, full=True)
    return sum(len(assets) for assets in result.manifest.routes.values())


def run(pages: int, rounds: int, peer: Path | None) -> dict[str, list[float]]:
    """Interleaved rounds; every build starts from no output (a clean CI checkout)."""
    work = Path(tempfile.mkdtemp(prefix="pushgen-bench-"))
    try:
        site = make_site(work / "site", pages)
        # Warms caches and imports; counts what the build finds.
        FOUND[(pages, "build -j1")] = FOUND[(pages, "build -j2")] = entries(site, 1)
        html = rendered_site(site, work / "rendered")
        FOUND[(pages, "rendered -j1")] = FOUND[(pages, "rendered -j2")] = entries(html, 1)
        times: dict[str, list[float]] = {"floor": [], "build -j1": [], "build -j2": []}
        if peer is not None:
            times["peer scan"] = []
            times["rendered -j1"] = []
            times["rendered -j2"] = []
        for _ in range(rounds):
            times["floor"].append(timed(lambda: floor(site)))
            shutil.rmtree(site / "_site")
            times["build -j1"].append(
                timed(lambda: build_site(load_config(site), jobs=1, full=True))
            )
            shutil.rmtree(site / "_site")
            times["build -j2"].append(
                timed(lambda: build_site(load_config(site), jobs=2, full=True))
            )
            if peer is not None:
                seconds, found = peer_scan(peer, site / "_site")
                times["peer scan"].append(seconds)
                FOUND[(pages, "peer scan")] = found
                for jobs in (1, 2):
                    shutil.rmtree(html / "_site")
                    times[f"rendered -j{jobs}"].append(
                        timed(lambda jobs=jobs: build_site(load_config(html), jobs=jobs, full=True))  # type: ignore[misc]
                    )
        return times
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(results: dict[int, dict[str, list[float]]], rounds: int) -> str:
    lines = [
        "| pages | what | median s | min s | max s | x floor (median) | peer scan / this "
        "| entries found |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for pages, times in results.items():
        base = statistics.median(times["floor"])
        peer = statistics.median(times["peer scan"]) if "peer scan" in times else None
        for name, values in times.items():
            med = statistics.median(values)
            found = FOUND.get((pages, name), "")
            faster = f"{peer / med:.1f}x" if peer is not None else ""
            lines.append(
                f"| {pages} | {name} | {med:.3f} | {min(values):.3f} | {max(values):.3f} "
                f"| {med / base:.2f} | {faster} | {found} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[1000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-peer", action="store_true", help="skip http2-push-manifest")
    parser.add_argument(
        "--markdown", type=Path, help="also write the table into this file between markers"
    )
    args = parser.parse_args(argv)
    peer = None if args.no_peer else peer_command()
    results = {n: run(n, args.rounds, peer) for n in args.pages}
    text = table(results, args.rounds)
    print(text)
    if args.markdown:
        command = f"python bench/build_bench.py --pages {' '.join(map(str, args.pages))} --rounds {args.rounds}"
        put_block(
            args.markdown,
            "build_bench",
            f"`{command}` ({args.rounds} rounds, interleaved):\n\n{text}",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
