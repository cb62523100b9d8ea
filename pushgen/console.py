"""Where a command's words go: the commands layer's output, apart from the engine.

Standard error is for people: the phases of long work (a rich progress bar on a
terminal; one line per phase with its time otherwise, as in a CI log), the
diagnostics, the closing summary. Standard output is for what a command makes:
the manifest's diff under ``--check``, the JSON document of ``--format json``
(pushgen/outcome.py), the workflow commands of ``--format github``.

``-q`` keeps only problems (a success prints nothing); ``-v`` adds every phase's
line on a terminal too. Colour only on a terminal, and never with ``NO_COLOR``
set (https://no-color.org; rich reads it).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import click

from .errors import ConfigError, Diagnostic, ManifestError, PushgenError, counted
from .fsutil import display_path
from .outcome import Outcome, Status, Summary, workflow_command
from .progress import NO_PROGRESS, Progress

if TYPE_CHECKING:
    from rich.progress import TaskID

__all__ = [
    "Console",
    "Format",
    "OutputOptions",
    "PlainProgress",
    "current_console",
    "output_options",
]

Format = Literal["text", "json", "github"]
F = TypeVar("F", bound=Callable[..., Any])

_KEY = "pushgen.console"
# A line in a log at least this often while a phase counts pages: a CI log that
# is silent for minutes looks like a hung job.
_HEARTBEAT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """The output flags of a command: ``-q``/``-v`` and ``--format``."""

    verbosity: int = 0  # -1 quiet, 0 normal, 1 verbose
    format: Format = "text"


class PlainProgress:
    """Phases as lines, for a log: ``render: 5000 pages in 3.21s`` as each ends.

    A phase that counts pages and runs long also says how far it got, every
    _HEARTBEAT_SECONDS. Overlapping phases each get their line when they end.
    """

    def __init__(
        self, write: Callable[[str], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._write, self._clock = write, clock
        self._open: dict[str, tuple[float, int | None, str]] = {}  # phase -> started, total, unit
        self._done: dict[str, int] = {}  # phase -> items done, as last reported
        self._said = clock()

    def start(self, phase: str, total: int | None = None, unit: str = "page") -> None:
        self._open[phase] = (self._clock(), total, unit)
        self._done.pop(phase, None)

    def advance(self, phase: str, done: int) -> None:
        if phase not in self._open:
            return
        self._done[phase] = done
        if self._clock() - self._said >= _HEARTBEAT_SECONDS:
            _, total, unit = self._open[phase]
            self._say(f"{phase}: {done}/{total if total is not None else '?'} {unit}s ...")

    def end(self, phase: str) -> None:
        opened = self._open.pop(phase, None)
        if opened is None:
            return  # ended twice, or never started (a failure before it)
        started, total, unit = opened
        # A phase of no known total (an app's crawl) says what it counted, if anything.
        done = total if total is not None else self._done.get(phase)
        # "in N.NNs" last, as on the summary line: a log compared across runs drops it.
        count = counted(done, unit) if done is not None else "done"
        self._say(f"{phase}: {count} in {self._clock() - started:.2f}s")

    def close(self) -> None:
        """Forget the phases still open: they failed, and the error says so."""
        self._open.clear()

    def _say(self, line: str) -> None:
        self._said = self._clock()
        self._write(line)


class _RichProgress:
    """Phases as live bars on a terminal (rich), the running ones only; -v keeps a line per phase."""

    def __init__(self, verbose: bool) -> None:
        from rich.console import Console as RichConsole
        from rich.progress import (
            BarColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichBars

        # rich reads NO_COLOR itself; highlight=False: no colouring of numbers in messages.
        self._console = RichConsole(file=sys.stderr, highlight=False)
        self._bars = RichBars(
            SpinnerColumn(),
            TextColumn("{task.description:<11}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),  # done/total, or nothing for a phase of no pages
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._tasks: dict[str, tuple[TaskID, int | None, str]] = {}  # phase -> task, total, unit
        self._plain = PlainProgress(self._line) if verbose else None

    def __enter__(self) -> _RichProgress:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._plain is not None:
            self._plain.close()
        self._bars.stop()

    def _line(self, text: str) -> None:
        self._bars.console.print(text, markup=False)

    def start(self, phase: str, total: int | None = None, unit: str = "page") -> None:
        if phase in self._tasks:  # a build that starts again (its saved state was unusable)
            self._bars.remove_task(self._tasks.pop(phase)[0])
        count = f"0/{total}" if total is not None else ""
        task = self._bars.add_task(phase, total=total, count=count)
        self._tasks[phase] = (task, total, unit)
        if self._plain is not None:
            self._plain.start(phase, total, unit)

    def advance(self, phase: str, done: int) -> None:
        if phase in self._tasks:
            task, total, unit = self._tasks[phase]
            count = f"{done}/{total}" if total is not None else counted(done, unit)
            self._bars.update(task, completed=done, count=count)
        if self._plain is not None:
            self._plain.advance(phase, done)

    def end(self, phase: str) -> None:
        if phase not in self._tasks:
            return
        task, total, _ = self._tasks.pop(phase)
        if total is not None:
            # Drawn full once, however fast the phase was, before it leaves the display.
            self._bars.update(task, completed=total, count=f"{total}/{total}")
            self._bars.refresh()
        self._bars.remove_task(task)
        if self._plain is not None:
            self._plain.end(phase)


@dataclass(slots=True)
class Console:
    """One command's output (see the module docs); in ``json`` mode it also gathers the document."""

    options: OutputOptions = field(default_factory=OutputOptions)
    _diagnostics: list[Diagnostic] = field(default_factory=list)
    _diff: str | None = None

    @property
    def quiet(self) -> bool:
        return self.options.verbosity < 0

    def diagnostics(self, diagnostics: Sequence[Diagnostic]) -> None:
        """Say every problem: on standard error, or as workflow commands on standard output."""
        self._diagnostics.extend(diagnostics)
        github = self.options.format == "github"
        for diagnostic in diagnostics:
            if github:
                click.echo(workflow_command(diagnostic))
            else:
                click.echo(str(diagnostic), err=True)

    def info(self, text: str) -> None:
        """A line about work done well: not under -q."""
        if not self.quiet:
            click.echo(text, err=True)

    def failure(self, text: str) -> None:
        """Why the command fails: always said."""
        click.echo(text, err=True)

    def diff(self, text: str) -> None:
        """``--check``'s diff: on standard output, or into the JSON document."""
        self._diff = text
        if self.options.format != "json":
            click.echo(text, nl=False)

    def report(
        self,
        command: str,
        status: Status,
        summary: Summary,
        *,
        manifest: str | os.PathLike[str] | None = None,
        written: bool = False,
        unchanged: bool = False,
        phases: dict[str, float] | None = None,
    ) -> None:
        """Print the ``--format json`` document (nothing in the other formats)."""
        if self.options.format != "json":
            return
        report = Outcome(
            command=command,
            status=status,
            exit_code=0 if status == "ok" else 1,
            diagnostics=tuple(self._diagnostics),
            summary=summary,
            manifest=display_path(manifest) if manifest is not None else None,
            written=written,
            unchanged=unchanged,
            diff=self._diff,
            phases=phases,
        )
        click.echo(report.text(), nl=False)

    @contextlib.contextmanager
    def progress(self) -> Iterator[Progress]:
        """An observer for the engine's phases for the block: bars, lines or nothing (-q)."""
        if self.quiet:
            yield NO_PROGRESS
        elif sys.stderr.isatty():
            with _RichProgress(verbose=self.options.verbosity > 0) as bars:
                yield bars
        else:
            plain = PlainProgress(functools.partial(click.echo, err=True))
            try:
                yield plain
            finally:
                plain.close()


def current_console() -> Console:
    """The console of the running command (see :func:`output_options`), or a default one."""
    context = click.get_current_context(silent=True)
    console = context.meta.get(_KEY) if context is not None else None
    return console if isinstance(console, Console) else Console()


def output_options(command: str) -> Callable[[F], F]:
    """The ``-q``, ``-v`` and ``--format``/``--json`` options of ``command`` (a click callback).

    The command finds its console with :func:`current_console`. Under ``--format
    json`` an error that stops the command before it has a result (a bad
    pushgen.yaml, a manifest that does not load) is a document too.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def run(
            *args: Any, quiet: bool, verbose: bool, format_: Format, json_: bool, **kwargs: Any
        ) -> Any:
            format_ = "json" if json_ else format_
            verbosity = -1 if quiet else 1 if verbose else 0
            console = Console(OutputOptions(verbosity, format_))
            click.get_current_context().meta[_KEY] = console
            try:
                return function(*args, **kwargs)
            except PushgenError as exc:
                if format_ != "json":
                    raise
                console.diagnostics(_as_diagnostics(exc))
                console.report(command, "failed", Summary.of_diagnostics(console._diagnostics))
                raise SystemExit(1) from None

        options = [
            click.option("-q", "--quiet", is_flag=True, help="Print only problems."),
            click.option(
                "-v", "--verbose", is_flag=True, help="Also a line per phase on a terminal."
            ),
            click.option(
                "--format",
                "format_",
                type=click.Choice(["text", "json", "github"]),
                default="text",
                show_default=True,
                help="Standard output: text; one JSON document (docs/ci.md); GitHub Actions annotations.",
            ),
            click.option("--json", "json_", is_flag=True, help="The same as --format json."),
        ]
        for option in reversed(options):
            run = option(run)
        return cast(F, run)

    return decorate


def _as_diagnostics(exc: PushgenError) -> list[Diagnostic]:
    if isinstance(exc, ManifestError):
        return list(exc.diagnostics)
    if isinstance(exc, ConfigError) and exc.file:
        # str(exc) starts with the place, which the diagnostic holds apart.
        where = exc.file + (f":{exc.line}" if exc.line else "")
        where += f":{exc.column}" if exc.line and exc.column else ""
        message = str(exc).removeprefix(f"{where}: ")
        return [Diagnostic(display_path(exc.file), exc.line, exc.column, message, "error")]
    return [Diagnostic("pushgen", 0, 0, str(exc), "error")]
