"""What cache-aware push saves: pushes and bytes on a second page and on a revisit, seen by nghttp.

site_example is built into a temporary folder and served by ``pushgen serve``
(this checkout, or ``--baseline SRC``, a source tree such as ``git archive main``
unpacked, run with the same interpreter). nghttp (``-nv``: bodies discarded)
then loads:

* ``/docs/`` alone, on a new connection;
* ``/docs/`` and ``/docs/install.html`` on one connection (``nghttp -nv URL1 URL2``);
* five pages on one connection;
* ``/docs/`` again on a new connection, sending the ``Set-Cookie`` value the
  first run received (a returning visitor).

For each: the PUSH_PROMISEs received, the pushes nghttp cancelled (RST_STREAM:
it already had the asset; a browser cancels too, but only after the bytes are in
flight over a real network), the bytes of pushed bodies, and all bytes received
(frames with their 9-byte headers). Counts, not timings: one run suffices.

Usage::

    python bench/push_cache_bench.py [--baseline /tmp/main-src]
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_FRAME = re.compile(r"(send|recv) (\w+) frame <length=(\d+), flags=0x[0-9a-f]+, stream_id=(\d+)>")
_URL = re.compile(r"serving at (https://\S+?/)")


def _nghttp(*args: str) -> tuple[int, int, int, int, list[str]]:
    out = subprocess.run(
        ["nghttp", "-nv", *args], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    promises = cancels = pushed = received = 0
    for direction, kind, length, stream in _FRAME.findall(out):
        if direction == "recv":
            received += 9 + int(length)
            promises += kind == "PUSH_PROMISE"
            if kind == "DATA" and int(stream) % 2 == 0:
                pushed += int(length)
        elif kind == "RST_STREAM":
            cancels += 1
    cookies = re.findall(r"recv \(stream_id=\d+\) set-cookie: ([^;\n]+)", out)
    return promises, cancels, pushed, received, cookies


def _serve(src: Path, site: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = dict(os.environ, PYTHONPATH=str(src), XDG_CACHE_HOME=str(log.parent / "cache"))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pushgen", "serve", str(site), "--no-build", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=src,
        )
    deadline = time.monotonic() + 60
    while not (match := _URL.search(log.read_text(errors="replace"))):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    return process, match.group(1)


def measure(url: str) -> list[str]:
    """The table rows for the server at ``url``."""
    pages = ["", "about.html", "blog.html", "docs/", "docs/install.html"]
    one = _nghttp(url + "docs/")
    cookie = one[4][-1] if one[4] else None
    runs = [
        ("`/docs/` alone", one),
        (
            "`/docs/` then `/docs/install.html`, one connection",
            _nghttp(url + "docs/", url + "docs/install.html"),
        ),
        ("5 pages, one connection", _nghttp(*(url + p for p in pages))),
        (
            "revisit `/docs/`, new connection"
            + (f", cookie sent ({len(cookie)} bytes)" if cookie else " (no cookie to send)"),
            _nghttp(*(["-H", f"cookie: {cookie}"] if cookie else []), url + "docs/"),
        ),
    ]
    return [f"| {name} | {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for name, r in runs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a pushgen source tree to compare with")
    args = parser.parse_args(argv)
    if shutil.which("nghttp") is None:
        raise SystemExit("needs nghttp (Debian package nghttp2-client)")
    header = [
        "| server | run | PUSH_PROMISEs | pushes the client cancelled "
        "| bytes of pushed bodies | bytes received |",
        "|---|---|---:|---:|---:|---:|",
    ]
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pushgen-push-cache-") as tmp:
        site = Path(tmp, "site")
        shutil.copytree(REPO / "site_example", site, ignore=shutil.ignore_patterns("_site"))
        subprocess.run(
            [sys.executable, "-m", "pushgen", "build", str(site)],
            check=True,
            capture_output=True,
            env=dict(os.environ, PYTHONPATH=str(REPO)),
        )
        servers = [("this checkout", REPO)]
        if args.baseline is not None:
            servers.insert(0, ("baseline", args.baseline.resolve()))
        for name, src in servers:
            process, url = _serve(src, site, Path(tmp, f"{len(rows)}.log"))
            try:
                rows += [f"| {name} {row}" for row in measure(url)]
            finally:
                process.terminate()
                process.wait(30)
    print("\n".join(header + rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
