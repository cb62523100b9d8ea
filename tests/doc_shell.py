"""The ``sh`` blocks of README.md and docs/*.md, and a shell that runs them as written.

A block is read with the HTML comment right before it (blank lines between are
allowed), which says how it is run:

- ``<!-- not run: REASON -->``: shown, never run (a production deploy, a path on
  another machine); the reason is required.
- ``<!-- run in: DIR -->``: run from DIR of the checkout (the README says "run in
  the app's folder" in prose).
- ``<!-- run after: COMMANDS -->``: COMMANDS first, from the top folder, make what
  the block stands on (a ``site/`` the docs call "yours"); the block starts in the
  folder they end in.
- nothing: run from the checkout's top folder.

Within a block the shell's folder carries from one command to the next, as in a
terminal (``cd mysite && pushgen serve`` and then ``pushgen trust install``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A fence may be indented (a block inside a list item); it closes at the same indent.
_FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>[a-z]*)\n(?P<body>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL
)
_MARK = re.compile(r"<!--\s*(?P<kind>not run|run in|run after):\s*(?P<value>.*?)\s*-->\s*\Z")


@dataclass(frozen=True, slots=True)
class ShellBlock:
    """One fenced ``sh`` block: where it is, its commands and how it is run."""

    doc: str  # path relative to the checkout
    line: int  # the line of its opening fence
    commands: tuple[str, ...]  # logical lines: continuations joined, comment-only lines dropped
    not_run: str | None = None
    run_in: str = "."
    after: str = ""  # commands that make what the block stands on

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def documents(root: Path = ROOT) -> list[Path]:
    """README.md, docs/*.md and the examples' READMEs."""
    return [
        root / "README.md",
        *sorted((root / "docs").glob("*.md")),
        *sorted((root / "examples").glob("*/README.md")),
    ]


def logical_commands(body: str) -> tuple[str, ...]:
    """The commands of a block: ``\\``-continued lines joined, blank and comment-only lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", body)
    return tuple(
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def shell_blocks(path: Path, root: Path = ROOT) -> list[ShellBlock]:
    """The ``sh`` blocks of one Markdown file, with the marker before each."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        if match.group("lang") != "sh":
            continue
        mark = _MARK.search(text[: match.start()].rstrip() + "\n")
        kind, value = (mark.group("kind"), mark.group("value")) if mark else ("", "")
        found.append(
            ShellBlock(
                doc=path.relative_to(root).as_posix(),
                line=text.count("\n", 0, match.start()) + 1,
                commands=logical_commands(match.group("body")),
                not_run=value if kind == "not run" else None,
                run_in=value if kind == "run in" else ".",
                after=value if kind == "run after" else "",
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Ran:
    """A command that ran to its end: what it printed and its exit code."""

    command: str
    returncode: int
    output: str


@dataclass
class Shell:
    """A bash that runs one command at a time, keeping the folder between commands."""

    cwd: Path
    checkout: Path  # the top folder, where a block starts
    env: Mapping[str, str]
    scratch: Path

    def run(self, command: str, timeout: float = 300.0) -> Ran:
        """Run ``command`` to its end (bounded by ``timeout``); the shell moves where it ``cd``-ed."""
        where = self.scratch / "cwd"
        script = f"{command}\n__status=$?\npwd > {where}\nexit $__status\n"
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd, env=dict(self.env), capture_output=True, text=True,
            timeout=timeout, check=False, start_new_session=True,
        )  # fmt: skip
        if where.exists():
            self.cwd = Path(where.read_text(encoding="utf-8").strip())
            where.unlink()
        return Ran(command, done.returncode, done.stdout + done.stderr)

    def start(self, command: str, log: Path) -> Background:
        """Start ``command`` (a server) in a process group of its own, its output to ``log``."""
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-c", command],
                cwd=self.cwd, env=dict(self.env), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return Background(command, process, log, self)


@dataclass
class Background:
    """A command left running (a server); :meth:`stop` is Ctrl-C to its process group."""

    command: str
    process: subprocess.Popen[bytes]
    log_path: Path
    shell: Shell

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def follow_cd(self) -> None:
        """The shell moves where the command ``cd``-ed (``cd mysite && pushgen serve``)."""
        self.shell.cwd = Path(os.readlink(f"/proc/{self.process.pid}/cwd"))

    def stop(self, timeout: float = 20.0) -> int:
        """Ctrl-C (SIGINT to the group this test started), then SIGKILL after ``timeout``."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return int(self.process.returncode)
