"""`pushgen build --app` against Frozen-Flask freezing the equivalent Flask app, side by side.

Both apps have the same templates (a layout with a stylesheet behind an @import,
a module script, an image per page), an index linking every page and a rule
with an argument (`/p/<int:n>`) whose URLs come from a registered generator
(`pushgen.quart.url_generator` / `Freezer.register_generator`). Per round, each
runs in a fresh process that imports its app and times only the work:

* pushgen app - render every page through Quart's test client, fetch the assets
                through it, scan and resolve them, write the manifest;
* frozen-flask - render every page through Flask's test client and write it
                 (and copy the static files), which is all Frozen-Flask does;
* quart floor  - only GET every page through Quart's test client (what no build
                 of a Quart app through its test client avoids): pushgen's own
                 cost is the difference.

Frozen-Flask and Flask are not pushgen dependencies: install the `bench` extra
(`pip install -e '.[bench]'`). Usage:

    python bench/app_bench.py --pages 200 1000 5000 --rounds 3 [--markdown docs/performance.md]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_markdown import put_block

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
<script type="module" src="{{ url_for('static', filename='js/app.js') }}"></script>
</head><body><main>{% block body %}{% endblock %}</main></body></html>
"""
INDEX = """{% extends "base.html" %}{% block body %}<ul>
{% for n in pages %}<li><a href="{{ url_for('page', n=n) }}">{{ n }}</a></li>{% endfor %}
</ul>{% endblock %}
"""
PAGE = """{% extends "base.html" %}{% block body %}<h1>Page {{ n }}</h1>
{% for p in range(12) %}<p>Paragraph {{ p }} of page {{ n }}: lorem ipsum dolor sit amet,
consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.</p>{% endfor %}
<img src="{{ url_for('static', filename='img/photo.png') }}" alt="">{% endblock %}
"""
APP = """
from {framework} import {cls}, render_template
{extra_import}
PAGES = range({pages})
app = {cls}(__name__)

@app.get("/")
{async_}def index():
    return {await_}render_template("index.html", title="Index", pages=PAGES)

@app.get("/p/<int:n>")
{async_}def page(n):
    return {await_}render_template("page.html", title=f"Page {{n}}", n=n)
"""
RUN_PUSHGEN = """
import sys, time
from pathlib import Path
sys.path.insert(0, ".")
import pushgen.quart
from quart_app import app

@pushgen.quart.url_generator(app, "page")
def pages():
    for n in range({pages}):
        yield {{"n": n}}

from pushgen.config import load_config
from pushgen.build.from_source import build_app
config = load_config(".")
started = time.perf_counter()
result = build_app(config, app="quart_app:app", max_pages=10**9)
print(time.perf_counter() - started, len(result.pages))
"""
RUN_FROZEN = """
import sys, time
sys.path.insert(0, ".")
from flask_frozen import Freezer
from flask_app import app

app.config["FREEZER_DESTINATION"] = "frozen"
app.config["FREEZER_IGNORE_MIMETYPE_WARNINGS"] = True
freezer = Freezer(app, with_no_argument_rules=True, log_url_for=False)

@freezer.register_generator
def page():
    for n in range({pages}):
        yield {{"n": n}}

started = time.perf_counter()
urls = freezer.freeze()
print(time.perf_counter() - started, len([u for u in urls if not u.startswith("/static/")]))
"""

RUN_FLOOR = """
import asyncio, sys, time
sys.path.insert(0, ".")
from quart_app import app

async def main():
    async with app.test_app() as test_app:
        client = test_app.test_client()
        started = time.perf_counter()
        for url in ["/", *(f"/p/{{n}}" for n in range({pages}))]:
            await (await client.get(url)).get_data()
        return time.perf_counter() - started

print(asyncio.run(main()), {pages} + 1)
"""


def make_apps(root: Path, pages: int) -> None:
    files = {
        "templates/base.html": LAYOUT,
        "templates/index.html": INDEX,
        "templates/page.html": PAGE,
        "static/css/site.css": '@import "base.css";\nbody { margin: 0 }\n',
        "static/css/base.css": "html { color: #222 }\n",
        "static/js/app.js": 'import "./util.js";\n',
        "static/js/util.js": "export const ready = 1;\n",
        "static/img/photo.png": "png",
        "quart_app.py": APP.format(
            framework="quart", cls="Quart", extra_import="", pages=pages,
            async_="async ", await_="await ",
        ),
        "flask_app.py": APP.format(
            framework="flask", cls="Flask", extra_import="", pages=pages, async_="", await_="",
        ),
        "run_pushgen.py": RUN_PUSHGEN.format(pages=pages),
        "run_frozen.py": RUN_FROZEN.format(pages=pages),
        "run_floor.py": RUN_FLOOR.format(pages=pages),
    }  # fmt: skip
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def timed_run(root: Path, script: str) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, script], cwd=root, capture_output=True, text=True, check=True
    )
    seconds, rendered = done.stdout.split()[-2:]
    return float(seconds), int(rendered)


Times = dict[str, list[float]]


def measure(pages: int, rounds: int) -> tuple[Times, dict[str, int]]:
    """Each run ``rounds`` times on apps of ``pages`` pages, interleaved."""
    root = Path(tempfile.mkdtemp(prefix="pushgen-app-bench-"))
    try:
        make_apps(root, pages)
        runs = {
            "pushgen app": "run_pushgen.py",
            "frozen-flask": "run_frozen.py",
            "quart floor": "run_floor.py",
        }
        times: Times = {name: [] for name in runs}
        rendered: dict[str, int] = {}
        for _ in range(rounds):  # interleaved
            for name, script in runs.items():
                shutil.rmtree(root / "frozen", ignore_errors=True)
                seconds, rendered[name] = timed_run(root, script)
                times[name].append(seconds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return times, rendered


def table_rows(times: Times, rendered: dict[str, int]) -> list[str]:
    frozen = statistics.median(times["frozen-flask"])
    lines = []
    for name, values in times.items():
        med = statistics.median(values)
        lines.append(
            f"| {rendered[name]} | {name} | {med:.2f} | {min(values):.2f} | {max(values):.2f} "
            f"| {rendered[name] / med:,.0f} | {med / frozen:.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markdown", type=Path, help="also write the table into this file")
    args = parser.parse_args(argv)
    lines = [
        "| pages | what | median s | min s | max s | pages/s | this / frozen-flask (time) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for pages in args.pages:
        lines.extend(table_rows(*measure(pages, args.rounds)))
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        sizes = " ".join(str(pages) for pages in args.pages)
        command = f"python bench/app_bench.py --pages {sizes} --rounds {args.rounds}"
        put_block(
            args.markdown,
            "app_bench",
            f"`{command}` ({args.rounds} rounds, interleaved):\n\n{text}",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
