"""Running h2load against a benchmark's servers: one run, and interleaved rounds of them.

Shared by ``bench/runtime_bench.py`` and ``bench/asgi_bench.py`` (whose docstrings say
what they measure). Besides h2load's requests per second, a run reports the server
process's CPU time per request (``/proc/PID/stat``, every thread of it) and the
share of responses that began with a 103. The servers can be pinned to one CPU
and h2load to another (:func:`cpus_apart`), so that on a two-core machine the
client's work never lands on the server's core in one run and not in the next.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench_process import Process

_RPS = re.compile(r"finished in [\d.]+\w+, ([\d.]+) req/s")
_REQUESTS = re.compile(
    r"requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored"
)
_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")


@dataclass(frozen=True)
class Run:
    """One h2load run: its rate, the server's CPU time per request, the share with a 103."""

    rps: float
    cpu_us: float
    early_hints: float


def _cpu_seconds(pid: int) -> float:
    # utime + stime of the process (proc(5): fields 14 and 15, in clock ticks).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Cpus:
    """The CPU the servers run on and the one h2load runs on."""

    server: int
    client: int


def cpus_apart() -> Cpus | None:
    """Two CPUs of those this process may use, or None when there are fewer or no taskset."""
    if not hasattr(os, "sched_getaffinity") or shutil.which("taskset") is None:
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return Cpus(allowed[0], allowed[1]) if len(allowed) >= 2 else None


def pin(pid: int, cpu: int) -> None:
    """Every thread of process ``pid`` on ``cpu``; threads it starts later inherit it."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(task.name), {cpu})


def h2load(
    urls: list[str],
    *,
    pid: int,
    duration: float | None,
    clients: int,
    streams: int,
    cpus: Cpus | None = None,
) -> Run:
    """Run h2load on ``urls`` (for ``duration`` s, or 500 requests); raise when any failed.

    ``cpus``: h2load runs on ``cpus.client`` (the server is pinned by the caller).
    """
    argv = ["taskset", "-c", str(cpus.client)] if cpus is not None else []
    argv += ["h2load", "-c", str(clients), "-m", str(streams), "-t", "1"]
    argv += ["-D", f"{duration * 1000:.0f}ms"] if duration else ["-n", "500"]
    before = _cpu_seconds(pid)
    output = subprocess.run([*argv, *urls], capture_output=True, text=True, check=False).stdout
    cpu = _cpu_seconds(pid) - before
    rps, requests, status = _RPS.search(output), _REQUESTS.search(output), _STATUS.search(output)
    if not (rps and requests and status):
        raise RuntimeError(f"unexpected h2load output:\n{output}")
    done, failed, errored = (int(requests.group(i)) for i in (1, 2, 3))
    # h2load files a response under the first status it sees, so one that began
    # with a 103 Early Hints lands in "3xx"; only 4xx/5xx and failures are errors.
    answered = int(status.group(1)) + int(status.group(2))
    if failed or errored or int(status.group(3)) or int(status.group(4)) or not answered:
        raise RuntimeError(
            "requests failed; note that Hypercorn closes a connection after 1000 requests"
            " (keep_alive_max_requests), so use more --clients or a shorter --duration:"
            f"\n{output}"
        )
    return Run(float(rps.group(1)), cpu / max(done, 1) * 1e6, int(status.group(2)) / answered)


Results = dict[str, dict[str, list[Run]]]


def interleaved(
    by_name: dict[str, Process],
    url_sets: dict[str, tuple[str, ...]],
    rounds: int,
    duration: float,
    clients: int,
    streams: int,
    cpus: Cpus | None = None,
) -> Results:
    """A warm-up, then every round: each URL set against each server, in a rotating order.

    The warm-up asks each server for every URL of every set once over. ``cpus``:
    every server on ``cpus.server``, h2load on ``cpus.client``.
    """
    names = list(by_name)
    if cpus is not None:
        for server in by_name.values():
            pin(server.popen.pid, cpus.server)
    results: Results = {label: {name: [] for name in names} for label in url_sets}

    def once(name: str, paths: tuple[str, ...], seconds: float | None) -> Run:
        server = by_name[name]
        urls = [f"https://127.0.0.1:{server.port}{path}" for path in paths]
        pid = server.popen.pid
        return h2load(urls, pid=pid, duration=seconds, clients=clients, streams=streams, cpus=cpus)

    for name in names:  # warm-up: imports, caches, the first TLS handshakes
        once(
            name, tuple(dict.fromkeys(path for paths in url_sets.values() for path in paths)), None
        )
    for round_ in range(rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for label, paths in url_sets.items():
            for name in order:
                results[label][name].append(once(name, paths, duration))
    return results


def pinning(cpus: Cpus | None) -> str:
    """How the run placed its processes, for the note beside its tables."""
    if cpus is None:
        return "servers and h2load not pinned"
    return f"servers on CPU {cpus.server}, h2load on CPU {cpus.client}"
