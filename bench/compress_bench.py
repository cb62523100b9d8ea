"""What precompressed assets save: sizes of site_example's files, bytes of a page view, server CPU.

site_example is copied to a temporary folder and built; :func:`pushgen.precompress.precompress`
writes the ``.br``/``.gz`` siblings of its output (timed, then timed again when
everything is up to date). Then :func:`pushgen.app.create_app` on
``pushgen.commands.serve_site.run_server`` (one process, HTTP/2 over TLS, access log off):

* **sizes**: every page, stylesheet, script and SVG, as the file and as each sibling;
* **a page view**: the bytes curl downloads (``--http2``) for ``/`` and every asset
  its manifest entry names, with ``Accept-Encoding: identity`` and with what
  Chromium sends (``gzip, deflate, br, zstd``);
* **server CPU per request** (``/proc/PID/stat``, which varies far less than a rate
  on a shared machine) under h2load for ``/static/css/site.css`` with each
  ``Accept-Encoding``, rounds interleaved, medians with min and max.

Usage::

    python bench/compress_bench.py [--rounds 5] [--requests 3000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_process import REPO, SERVING, Process, spawn_url

from pushgen.build import build_site
from pushgen.config import load_config
from pushgen.manifest import parse_manifest
from pushgen.precompress import precompress
from pushgen.runtime.certs import dev_certificate

CHROMIUM = "gzip, deflate, br, zstd"
SHOWN = (".html", ".css", ".js", ".svg")

_SERVE = """
import sys
from pushgen.app import create_app
from pushgen.commands.serve_site import run_server
sys.exit(run_server(create_app(sys.argv[1]), port=0, certfile=sys.argv[2], keyfile=sys.argv[3],
                    access_log=False))
"""


def build(work: Path) -> Path:
    site = work / "site"
    shutil.copytree(REPO / "site_example", site)
    build_site(load_config(site))
    return site


def sizes(output: Path) -> str:
    files = sorted(
        p.relative_to(output).as_posix()
        for p in output.rglob("*")
        if p.is_file() and not p.name.endswith((".br", ".gz"))
    )
    started = time.perf_counter()
    first = precompress(output, files)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = precompress(output, files)
    warm = time.perf_counter() - started
    lines = [
        f"precompress: {len(first.written)} siblings in {cold:.2f} s; again, all"
        f" {len(again.up_to_date)} up to date, in {warm * 1000:.1f} ms",
        "",
        "| file | bytes | gzip -9 | brotli 11 |",
        "|---|---:|---:|---:|",
    ]
    totals = [0, 0, 0]
    for rel in files:
        if not rel.endswith(SHOWN):
            continue
        size = (output / rel).stat().st_size
        cells = []
        for i, suffix in enumerate((".gz", ".br"), 1):
            sibling = output / (rel + suffix)
            packed = sibling.stat().st_size if sibling.exists() else None
            totals[i] += size if packed is None else packed
            cells.append("not written" if packed is None else f"{packed} ({packed / size:.0%})")
        totals[0] += size
        lines.append(f"| {rel} | {size} | {cells[0]} | {cells[1]} |")
    t = totals
    lines.append(
        f"| **all of these** | {t[0]} | {t[1]} ({t[1] / t[0]:.0%}) | {t[2]} ({t[2] / t[0]:.0%}) |"
    )
    return "\n".join(lines)


def _downloaded(url: str, accept: str) -> int:
    argv = ["curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{size_download}"]
    done = subprocess.run([*argv, "-H", f"Accept-Encoding: {accept}", url], capture_output=True)
    return int(done.stdout)


def page_view(site: Path, base: str) -> str:
    manifest = parse_manifest((site / "push-manifest.yaml").read_text(encoding="utf-8"))
    assets = [entry.path for entry in manifest.routes["/"]]
    lines = ["| Accept-Encoding | page | its assets | total |", "|---|---:|---:|---:|"]
    for accept in ("identity", CHROMIUM):
        page = _downloaded(base, accept)
        rest = sum(_downloaded(base + path.lstrip("/"), accept) for path in assets)
        lines.append(f"| `{accept}` | {page} | {rest} ({len(assets)} files) | {page + rest} |")
    return "\n".join(lines)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(server: Process, url: str, accept: str, requests: int) -> float:
    before = _cpu_seconds(server.popen.pid)
    argv = ["h2load", "-n", str(requests), "-c", "4", "-m", "10", "-t", "1"]
    subprocess.run(
        [*argv, "-H", f"accept-encoding: {accept}", url], capture_output=True, check=True
    )
    return (_cpu_seconds(server.popen.pid) - before) / requests * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="1 round of 200 requests")
    args = parser.parse_args(argv)
    rounds, requests = (1, 200) if args.quick else (args.rounds, args.requests)
    work = Path(tempfile.mkdtemp(prefix="pushgen-compress-"))
    try:
        site = build(work)
        print(sizes(site / "_site"), end="\n\n")
        cert = dev_certificate(work / "certs")
        server = spawn_url(
            [sys.executable, "-c", _SERVE, str(site), str(cert.certfile), str(cert.keyfile)],
            work / "server.log",
            {},
            SERVING,
        )
        try:
            base = f"https://127.0.0.1:{server.port}/"
            print(page_view(site, base), end="\n\n")
            url = base + "static/css/site.css"
            runs: dict[str, list[float]] = {"identity": [], "br": []}
            cpu_per_request(server, url, "identity", max(requests // 10, 50))  # warm-up
            for _ in range(rounds):
                for accept in runs:
                    runs[accept].append(cpu_per_request(server, url, accept, requests))
        finally:
            server.stop()
        print("| Accept-Encoding | server CPU per request (median, min-max) |")
        print("|---|---|")
        for accept, values in runs.items():
            median = statistics.median(values)
            print(f"| `{accept}` | {median:.0f} µs ({min(values):.0f}-{max(values):.0f}) |")
        ratio = statistics.median(runs["br"]) / statistics.median(runs["identity"])
        print(f"\nbr / identity: {ratio:.2f}x the server CPU of a request")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
