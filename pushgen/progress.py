"""How long work says where it is: phases and counts, reported to an observer.

The engine (a build, a scan, an app build) never prints (STYLE.md 13): it names
the phase it starts and ends and, for a phase over pages, how many are done, to a
:class:`Progress` passed in. The commands layer (pushgen/console.py) draws it: a
progress bar on a terminal, one line per phase in a log. :data:`NO_PROGRESS`, the
default, does nothing, so a library caller pays a method call per report.

Phases may overlap: a build's pages are resolved while worker processes still
render later ones, so ``render`` and ``resolve`` both run until the last page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol

__all__ = ["NO_PROGRESS", "NoProgress", "Progress", "phase"]


class Progress(Protocol):
    """What the engine tells about its work; every method returns at once."""

    def start(self, phase: str, total: int | None = None, unit: str = "page") -> None:
        """``phase`` begins; ``total`` is the number of items it counts, None if it counts
        none; ``unit`` names one item (a scan reads ``.html file``s, not all of them pages)."""

    def advance(self, phase: str, done: int) -> None:
        """``done`` items of ``phase`` are finished (a running total, not an increment)."""

    def end(self, phase: str) -> None:
        """``phase`` is done. A phase that fails is never ended: its error says what happened."""


class NoProgress:
    """The observer that ignores everything: the default of every engine entry point."""

    def start(self, phase: str, total: int | None = None, unit: str = "page") -> None:
        pass

    def advance(self, phase: str, done: int) -> None:
        pass

    def end(self, phase: str) -> None:
        pass


NO_PROGRESS: Progress = NoProgress()


@contextlib.contextmanager
def phase(
    progress: Progress, name: str, total: int | None = None, unit: str = "page"
) -> Iterator[None]:
    """Report the block as phase ``name`` of ``progress``: started on entry, ended when it succeeds."""
    progress.start(name, total, unit)
    yield
    progress.end(name)
