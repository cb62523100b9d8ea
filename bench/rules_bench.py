"""Rules and manifests at scale: loading, checking, glob matching, writing (issue 11 item 9).

Prints seconds for each case; run with ``.venv/bin/python -m bench.rules_bench``.
Times depend on the machine and its load; compare them with each other, or
with the same script run against another checkout (PYTHONPATH).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pushgen.manifest import Manifest, dump_manifest, load_manifest
from pushgen.manifest.check import check_manifest
from pushgen.manifest.rules import glob_matches
from pushgen.model import Asset


def exact_rules(count: int) -> str:
    """``count`` exact rules, one entry added each: 16,000 of them are 1.2 MB."""
    rules = "".join(
        f"  - match: /page/{i}.html\n    add: [{{path: /static/css/p{i}.css, as: style}}]\n"
        for i in range(count)
    )
    return f"version: 1\nrules:\n{rules}"


def timed(label: str, run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    print(f"{label:<52} {best:8.3f} s")
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for count in (4_000, 16_000):
            path = Path(folder) / f"rules-{count}.yaml"
            path.write_text(exact_rules(count))
            size = path.stat().st_size / 1e6
            timed(f"load {count:,} exact rules ({size:.1f} MB)", partial(load_manifest, path))
            timed(f"check {count:,} exact rules", partial(check_manifest, path))
    for length in (5_000, 20_000):
        route = "/" + "a/" * (length // 2)
        timed(
            f"glob /**/**/**/c against a {length // 1000} KB path",
            partial(glob_matches, "/**/**/**/c", route),
        )
    routes = {
        f"/p{i}/": tuple(Asset(f"/static/a{j}.css?v={i}", "style") for j in range(10))
        for i in range(10_000)
    }
    manifest = Manifest(routes=routes)
    timed("write 100,000 entries (with query strings)", lambda: dump_manifest(manifest))


if __name__ == "__main__":
    main()
