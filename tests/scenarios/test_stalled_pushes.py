"""Clients that never open their flow-control window cannot pile up pushes (issue 22 item 5).

A client that sets ``SETTINGS_INITIAL_WINDOW_SIZE`` to 0 (RFC 9113 §6.9.2) and
never sends a WINDOW_UPDATE receives no DATA at all, yet every page it asks for
made ``pushgen serve`` promise that page's pushes, and Hypercorn holds each
pushed stream (its task, its request and up to 32 KiB of body) until the body
can be sent: 200 connections x 100 streams took a server from 75 MB to 720 MB.
Now a connection gets no new pushes while it has ``PUSHGEN_MAX_PUSHES_IN_FLIGHT``
(32) still unsent, so what an attacker pins per connection is bounded.

The test runs a real ``pushgen serve`` and an attacker on the h2 library:
10 connections x 20 pages, each page pushing 10 files of 48 KB (2,000 pushes
before the bound, 320 now), with the resident set (``/proc/PID/status``) read
before, during and after two rounds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import h2.events
import h2.settings
import pytest

from tests.clients import ServerProcess, h2_get
from tests.conftest import Site, make_site
from tests.scenarios.test_load_and_clients import RawH2, rss_kib, serve_site

pytestmark = [pytest.mark.timeout(240)]

CONNECTIONS = 10
PAGES = 20  # one stream per page on each connection
PUSHES = 10  # per page, the default PUSHGEN_MAX_PUSHES
MAX_IN_FLIGHT = 32  # the default PUSHGEN_MAX_PUSHES_IN_FLIGHT
ASSET = 48_000  # bytes: more than Hypercorn's 32 KiB stream buffer
# What one connection of the attack may pin: each push in flight (a stream, a
# task, a request and up to 32 KiB of body; about 150 KiB measured) and each
# page stream (about 40 KiB), with room to spare for the allocator.
PER_PUSH_KIB = 256
PER_STREAM_KIB = 64
BOUND_KIB = CONNECTIONS * (MAX_IN_FLIGHT * PER_PUSH_KIB + PAGES * PER_STREAM_KIB)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = make_site(tmp_path_factory.mktemp("stalled") / "site")
    lines = ["version: 1", "routes:"]
    for page in range(PAGES):
        (site.output / f"p{page}").mkdir()
        (site.output / f"p{page}" / "index.html").write_bytes(b"<!doctype html><title>p</title>\n")
        lines.append(f"  /p{page}/:")
        for n in range(PUSHES):
            path = site.output / "static" / "a" / f"p{page}-{n}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes([page, n]) * (ASSET // 2))
            lines.append(
                f"    - {{path: /static/a/p{page}-{n}.bin, as: fetch, crossorigin: anonymous}}"
            )
    site.manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return site


@pytest.fixture(scope="module")
def server(site: Site, cache_dir: Path) -> Iterator[ServerProcess]:
    process = serve_site(site, cache_dir, "server.log")
    yield process
    process.stop()


def read_heads(client: RawH2, pages: int) -> int:
    """Read until ``pages`` response heads came; the pushes promised meanwhile."""
    promised, heads = 0, 0
    while heads < pages:
        for event in client.events():
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id % 2:
                heads += 1
            elif isinstance(event, h2.events.PushedStreamReceived):
                promised += 1
    return promised


def stall(port: int) -> tuple[list[RawH2], int]:
    """Open the attack's connections: a zero window, every page asked for, nothing read but heads.

    Returns the open connections and the pushes promised on them, once every
    page's response head has arrived (the middleware pushes before the page
    answers, so by then every push the server made is promised).
    """
    clients = []
    for _ in range(CONNECTIONS):
        client = RawH2(port, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        for page in range(PAGES):
            client.get(f"/p{page}/")
        clients.append(client)
    return clients, sum(read_heads(client, PAGES) for client in clients)


def peak_kib(pid: int, samples: int = 6) -> int:
    """The largest resident set of a few readings 0.2 s apart (pushed streams start in tasks)."""
    highest = 0
    for _ in range(samples):
        highest = max(highest, rss_kib(pid))
        time.sleep(0.2)
    return highest


def close_all(clients: list[RawH2]) -> None:
    for client in clients:
        client.close(abort=False)


def settled_kib(pid: int) -> int:
    """The resident set once the server has let the closed connections go (a bounded wait)."""
    time.sleep(2)
    return rss_kib(pid)


def test_a_zero_window_pins_a_bounded_number_of_pushes(server: ServerProcess, site: Site) -> None:
    pid = server.process.pid
    h2_get("127.0.0.1", server.port, "/p0/")  # warm: the app has served a page and a push
    before = rss_kib(pid)
    clients, promised = stall(server.port)
    during = peak_kib(pid)
    # A well-behaved client on its own connection still gets its page's pushes.
    good = h2_get("127.0.0.1", server.port, "/p1/")
    assert good.status == 200 and len(good.pushes) == PUSHES
    assert all(p.body == site.file(p.path) for p in good.pushes.values())
    close_all(clients)
    after = settled_kib(pid)
    clients, promised_again = stall(server.port)
    during_again = peak_kib(pid)
    close_all(clients)
    after_again = settled_kib(pid)
    print(
        f"{CONNECTIONS} connections x {PAGES} pages x {PUSHES} pushes of {ASSET:,} B, window 0: "
        f"{promised} and {promised_again} pushes promised; RSS {before} KiB before, "
        f"{during} during, {after} after, {during_again} during and {after_again} after "
        f"a second round (bound {before + BOUND_KIB} KiB)"
    )
    # The attack's peak stays within what the bound lets each connection pin.
    assert max(during, during_again) - before < BOUND_KIB
    # No connection was promised more than the bound (each ends up with exactly that).
    assert promised == promised_again == CONNECTIONS * MAX_IN_FLIGHT
    # A second round reuses what the first freed: a leak keeps what each round
    # pins (all of the first round's growth again); the allocator may settle higher.
    assert after_again - after < max((after - before) // 2, 8 * 1024)


def test_the_bound_is_a_setting(site: Site, cache_dir: Path) -> None:
    server = serve_site(site, cache_dir, "small.log", {"PUSHGEN_MAX_PUSHES_IN_FLIGHT": "3"})
    try:
        client = RawH2(server.port, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        client.get("/p0/")
        client.get("/p1/")
        promised = read_heads(client, 2)
        client.close()
    finally:
        server.stop()
    # Three pushes of the first page stay unsent; the second page gets none.
    assert promised == 3


def test_pushes_that_arrived_no_longer_count(server: ServerProcess, site: Site) -> None:
    """One well-behaved connection, page after page: far more pushes than the bound, all sent."""
    client = RawH2(server.port)
    pages = 5  # 50 pushes on one connection, over the 32 allowed at once
    bodies: dict[int, bytearray] = {}
    paths: dict[int, str] = {}
    ended: set[int] = set()
    for page in range(pages):
        stream_id = client.get(f"/p{page}/")
        while stream_id not in ended or not set(bodies) <= ended:
            for event in client.events():
                if isinstance(event, h2.events.PushedStreamReceived):
                    assert event.pushed_stream_id is not None
                    bodies[event.pushed_stream_id] = bytearray()
                    path = next(v for n, v in event.headers or () if n == b":path")
                    paths[event.pushed_stream_id] = bytes(path).decode()
                elif isinstance(event, h2.events.DataReceived):
                    client.conn.acknowledge_received_data(
                        event.flow_controlled_length, event.stream_id
                    )
                    if event.stream_id in bodies:
                        bodies[event.stream_id] += event.data
                elif isinstance(event, h2.events.StreamEnded):
                    ended.add(event.stream_id)
            client.flush()
    client.close()
    assert len(bodies) == pages * PUSHES
    assert all(bytes(bodies[s]) == site.file(paths[s]) for s in bodies)
