"""Chromium over HTTP/3 against ``pushgen serve --quic``, with the flags the server prints.

Issue 28, item 4: a locally trusted certificate is not enough for Chromium to
take up h3 through Alt-Svc (its QUIC verifier wants a public root), so
``pushgen serve --quic`` prints the Chromium command line that works in
development. This test starts a real ``pushgen serve --quic`` on site_example,
takes the flags from that printed line (nothing else: no CA installed, no
flag the test adds), loads the site's routes 20 times in fresh contexts, and
requires every page and every asset over h3 and the 103's preloads used.

The production command of docs/deploy.md (Hypercorn's CLI with ``--quic-bind``)
the same way with one worker; with several, whose shared UDP socket spreads a
QUIC connection over processes that do not know it, the app refuses to start.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pushgen.cli import main
from pushgen.manifest import load_manifest
from pushgen.runtime.certs import dev_certificate
from pushgen.runtime.server import chromium_h3, listen
from tests.browser_harness import ARGS, CHROMIUM, PageLoad, load_page, pushgen_serve
from tests.clients import REPO, ServerProcess, _env

pytest.importorskip("aioquic")
pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]

LOADS = 20
_COMMAND = re.compile(r"pushgen: to test HTTP/3 in Chromium: (chromium .*)")


@contextlib.contextmanager
def chromium_with(flags: Sequence[str]) -> Iterator[Any]:
    """Headless Chromium with the suite's flags except ``--disable-quic``, and ``flags``."""
    from playwright.sync_api import sync_playwright

    args = [a for a in ARGS if a != "--disable-quic"] + list(flags)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


def printed_flags(log: str) -> tuple[list[str], str]:
    """The flags and the URL of the Chromium command ``pushgen serve --quic`` printed.

    ``--user-data-dir`` is left out: Playwright gives Chromium a fresh profile itself.
    """
    match = _COMMAND.search(log)
    assert match, f"no Chromium command line in the server's output:\n{log}"
    words = shlex.split(match.group(1))
    assert words[0] == "chromium" and words[-1].startswith("https://"), words
    flags = [w for w in words[1:-1] if not w.startswith("--user-data-dir=")]
    return flags, words[-1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("h3")
    site = root / "site"
    shutil.copytree(
        REPO / "site_example",
        site,
        ignore=shutil.ignore_patterns("_site", "push-manifest.yaml", ".*"),
    )
    assert main(["build", str(site)]) == 0
    return site


def assert_all_h3(load: PageLoad) -> None:
    assert load.status == 200, load.route
    assert load.failed == [], (load.route, load.failed)
    assert load.document is not None and load.document.protocol == "h3", load.document
    assert load.fetched, load.route
    assert {f.protocol for f in load.fetched} == {"h3"}, [
        (f.path, f.protocol) for f in load.fetched
    ]


def load_over_h3(site: Path, flags: Sequence[str], origin: str) -> list[PageLoad]:
    """:data:`LOADS` loads of the site's routes in turn, each in a fresh context; each checked."""
    manifest = load_manifest(site / "push-manifest.yaml")
    routes = sorted(manifest.routes)
    with chromium_with(flags) as browser:
        loads = [load_page(browser, origin, routes[i % len(routes)]) for i in range(LOADS)]
    for load in loads:
        assert_all_h3(load)
        hinted = {a.path for a in manifest.assets(load.route) if a.hint}
        # Over h3 the 103 reaches Chromium before the page and its preloads are used.
        assert load.via_early_hints, load.route
        assert load.via_early_hints <= hinted, load.route
    return loads


def test_chromium_loads_every_route_over_h3_with_the_printed_flags(
    site: Path, tmp_path: Path
) -> None:
    env = {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PUSHGEN_CAROOT": str(tmp_path / "no-ca"),  # no local CA: the pin must do
    }
    server = pushgen_serve(
        site, tmp_path / "serve.log", env, ("--quic", "--early-hints-delay", "0")
    )
    try:
        flags, url = printed_flags(server.log())
        assert url == f"https://127.0.0.1:{server.port}/"
        assert f"--origin-to-force-quic-on=127.0.0.1:{server.port}" in flags
        assert len(load_over_h3(site, flags, url.rstrip("/"))) == LOADS
    finally:
        server.stop()
    assert '"GET / 3"' in server.log()  # Hypercorn's access log: HTTP/3


def hypercorn(
    site: Path, tmp_path: Path, *args: str, pass_fds: Sequence[int] = ()
) -> ServerProcess:
    """The production command of docs/deploy.md: Hypercorn's CLI on ``pushgen.app:create_app()``."""
    cert = dev_certificate(tmp_path / "cache")
    log = tmp_path / "hypercorn.log"
    argv = [sys.executable, "-m", "hypercorn", "pushgen.app:create_app()", *args]
    argv += ["--certfile", str(cert.certfile), "--keyfile", str(cert.keyfile)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=_env({"PUSHGEN_SITE": str(site), "PUSHGEN_EARLY_HINTS_DELAY": "0"}),
            cwd=tmp_path, pass_fds=tuple(pass_fds),
        )  # fmt: skip
    return ServerProcess(process, log)


def test_hypercorn_with_one_worker_serves_chromium_over_h3(site: Path, tmp_path: Path) -> None:
    # TCP and UDP bound here on one free port number, as `pushgen serve --quic` binds
    # them; Hypercorn takes them as fd:// binds (the documented command names 0.0.0.0:443).
    cert = dev_certificate(tmp_path / "cache")
    bound = listen(port=0, certfile=cert.certfile, keyfile=cert.keyfile, quic=True)
    (tcp,) = bound.config.bind
    (udp,) = bound.config.quic_bind
    fds = [int(tcp.removeprefix("fd://")), int(udp.removeprefix("fd://"))]
    server = hypercorn(
        site, tmp_path, "--workers", "1", "--bind", tcp, "--quic-bind", udp, pass_fds=fds
    )
    for fd in fds:
        os.close(fd)  # the server holds them now
    try:
        chromium = chromium_h3(bound)
        assert len(load_over_h3(site, chromium.flags, chromium.url.rstrip("/"))) == LOADS
    finally:
        server.stop()


def test_hypercorn_refuses_workers_that_would_share_the_quic_socket(
    site: Path, tmp_path: Path
) -> None:
    binds = ("--bind", "127.0.0.1:0", "--quic-bind", "127.0.0.1:0")
    server = hypercorn(site, tmp_path, "--workers", "2", *binds)
    try:
        # Hypercorn stops once a worker exits. Its own exit code is no witness: 0 here,
        # since hypercorn/run.py (0.18) replaces the worker's 1 by the others' codes.
        server.process.wait(60)
    finally:
        server.stop()
    log = server.log()
    assert "pushgen: hypercorn --workers 2 with --quic-bind: the workers would share" in log, log
    assert "Serve HTTP/3 with --workers 1" in log
    assert "Traceback" not in log, log
