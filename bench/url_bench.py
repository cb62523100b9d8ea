"""Per-call cost of :func:`pushgen.urls.resolve`, in microseconds, one row per input kind.

The inputs are the references a built site holds (plain absolute paths, relative
paths, queries) and the hard ones (non-ASCII, spaces, brackets, other origins).
Each row is the median of ROUNDS timings of NUMBER calls. Usage:

    python bench/url_bench.py [--rounds 5] [--number 20000]
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from functools import partial

from pushgen.urls import document_url, resolve

BASE = document_url("/docs/guide/page.html")
INPUTS = {
    "plain absolute": "/static/css/site.css",
    "relative": "../img/logo.png",
    "query": "/static/js/app.js?v=42",
    "dot segments": "./a/../b/c.css",
    "brackets": "a[1].css",
    "non-ASCII": "caf\u00e9/\u65e5\u672c.png",
    "spaces": " a b.css ",
    "other origin": "https://fonts.example/css2?family=X",
    "data: URL": "data:image/png;base64,AAAA",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args(argv)
    print(f"{'input':<16} {'µs/call':>8}")
    for name, ref in INPUTS.items():
        times = timeit.repeat(partial(resolve, ref, BASE), number=args.number, repeat=args.rounds)
        print(f"{name:<16} {statistics.median(times) / args.number * 1e6:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
