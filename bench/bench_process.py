"""Starting and stopping the server processes a benchmark measures."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Process:
    """A process started by a benchmark; stopped with SIGINT, then killed."""

    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0
) -> None:
    """Return once 127.0.0.1:``port`` accepts connections; fail when ``process`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


def bench_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment, with this checkout's pushgen first on the path, plus ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def spawn_url(argv: list[str], log: Path, env: dict[str, str], pattern: str) -> Process:
    """Start ``argv``; wait for ``pattern`` (one group: the port) in its output."""
    with log.open("wb") as out:
        popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=bench_env(env))
    process = Process(popen, log)
    deadline = time.monotonic() + 30
    while True:
        match = re.search(pattern, log.read_text(errors="replace"))
        if match:
            process.port = int(match.group(1))
            wait_for_port(process.port, popen, log)
            return process
        if popen.poll() is not None or time.monotonic() > deadline:
            process.stop()
            raise RuntimeError(f"{argv[:3]} did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


# What `pushgen serve` (and pushgen.commands.serve_site.run_server) prints once it listens.
SERVING = r"serving at https://127\.0\.0\.1:(\d+)/"
