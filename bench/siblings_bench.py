"""What checking precompressed siblings costs the file server (issue 22, item 8a).

site_example is copied to a temporary folder and built. Then, in this process, with
CPU time (``time.process_time``, steadier than wall time on a shared machine), best
of several rounds:

* **the checks**: :func:`pushgen.runtime.encodings.check_sibling` on every
  ``.br``/``.gz`` sibling of the output, as a server does once per sibling (and
  again only when the file or the sibling changes); then on one 1.1 MB stylesheet;
* **a request after them**: :meth:`pushgen.runtime.encodings.Siblings.representation`
  for a stylesheet with both siblings and Chromium's ``Accept-Encoding``, with the
  verdicts known (two ``lstat`` calls, a parse kept from the last request, two
  dictionary lookups).

Usage::

    python bench/siblings_bench.py [--rounds 20] [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gzip
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

import brotli
from bench_process import REPO

from pushgen.build import build_site
from pushgen.codings import CODINGS, Coding
from pushgen.config import load_config
from pushgen.runtime.encodings import Siblings, check_sibling
from pushgen.site_files import Found, find_file, find_sibling

CHROMIUM = "gzip, deflate, br, zstd"
Pair = tuple[Found, Found, Coding]


def siblings_of(output: Path) -> list[Pair]:
    """Every (file, sibling, coding) of ``output``."""
    pairs: list[Pair] = []
    for path in sorted(output.rglob("*")):
        if not path.is_file() or path.suffix in (".br", ".gz"):
            continue
        found = find_file(output, quote("/" + path.relative_to(output).as_posix()))
        for coding, suffix in CODINGS.items():
            sibling = find_sibling(found, suffix) if found is not None else None
            if found is not None and sibling is not None:
                pairs.append((found, sibling, coding))
    return pairs


def cpu(run: Callable[[], object], rounds: int) -> float:
    """The least CPU time one call of ``run`` took, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def check_all(pairs: list[Pair]) -> None:
    if not all(check_sibling(*pair) == "same" for pair in pairs):
        raise SystemExit("a sibling of the build did not decompress to its file")


def big_stylesheet(folder: Path) -> list[Pair]:
    data = b"".join(
        b".rule-%d { color: #%06x; margin: %dpx; }\n" % (i, i * 97 % 0xFFFFFF, i % 40)
        for i in range(25000)
    )
    (folder / "big.css").write_bytes(data)
    (folder / "big.css.br").write_bytes(brotli.compress(data, quality=11))
    (folder / "big.css.gz").write_bytes(gzip.compress(data, 9, mtime=0))
    return siblings_of(folder)


def requests(output: Path, url_path: str, count: int) -> Callable[[], object]:
    found = find_file(output, url_path)
    assert found is not None
    siblings = Siblings()

    async def loop(n: int) -> None:
        for _ in range(n):
            await siblings.representation(found, CHROMIUM, ranged=False)

    asyncio.run(loop(1))  # the checks, once
    return lambda: asyncio.run(loop(count))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(REPO / "site_example", site, ignore=shutil.ignore_patterns("_site"))
        build_site(load_config(site))
        output = site / "_site"
        pairs = siblings_of(output)
        size = sum(found.size for found, _, _ in pairs)
        took = cpu(lambda: check_all(pairs), args.rounds)
        print(f"site_example: {len(pairs)} siblings of {size:,} bytes of files, all checked:")
        print(f"  {took * 1e3:.2f} ms CPU ({took / len(pairs) * 1e6:.0f} µs a sibling)")
        (Path(tmp) / "big").mkdir()
        for pair in big_stylesheet(Path(tmp) / "big"):
            took = cpu(functools.partial(check_all, [pair]), max(args.rounds // 4, 1))
            print(f"a {pair[0].size / 1e6:.2f} MB stylesheet, {pair[2]}: {took * 1e3:.2f} ms CPU")
        css = next(found for found, _, _ in pairs if found.path.endswith(".css"))
        url_path = quote("/" + Path(css.path).relative_to(output.resolve()).as_posix())
        took = cpu(requests(output, url_path, args.requests), max(args.rounds // 2, 1))
        print(f"a request for {url_path} after the checks: {took / args.requests * 1e6:.2f} µs CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
