"""Which template line wrote each line of a rendered page, and warnings moved there.

The scanners see a page's rendered HTML, so a reference is found at a line of the
output (``pages/about.html:16``) while the user wrote it in a layout
(``templates/base.html:10``), once for every page that uses the layout. A render
that records where each piece of output came from lets the build report it where
it was written, once, with the pages it affects.

Jinja2 compiles a template to Python generators that yield the output piece by
piece; ``Template.get_corresponding_lineno`` maps the line of the yielding code to
the template's line (as ``jinja2.debug`` does for tracebacks). Text of the template
comes as constant pieces that keep its line ends, so a line inside one is exact; a
line that starts inside the output of an expression (a macro's, a filter block's)
is attributed only when it starts the piece. Anything else is "not known", and the
warning says "in the output of pages/x.html at line N" rather than pretend.

Recording costs a walk of the generators per piece (a recording render took 5%
more than a plain one on bench/shapes.py's small shape); the build does it only
for a page that has a warning to place (see :func:`relocate`), in a render of its
own, so a page without warnings renders as before.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from types import GeneratorType
from typing import Any

import jinja2

from ..errors import Diagnostic, Location, counted

__all__ = ["LineOrigins", "PageCounts", "affected", "record_render", "relocate"]


@dataclass(frozen=True, slots=True)
class _Piece:
    """One piece of output: where it starts and what wrote it."""

    start: int  # offset in the page's text
    filename: str  # the template's file, "" when not known
    line: int  # the template's line of the code that yielded the piece (0: not known)
    literal: bool  # template text, lines kept as written (not an expression's value)


@dataclass(frozen=True, slots=True)
class LineOrigins:
    """Where each line of one rendered page came from: ``origin(line)``."""

    text: str
    pieces: tuple[_Piece, ...]

    def origin(self, line: int, column: int = 0) -> Location | None:
        """The template file and line that wrote ``line`` of the output (column 0), or None.

        The place is that of the line's first visible character (where a tag
        starts), or of ``column`` (1-based) when given.
        """
        start = _line_start(self.text, line)
        if start is None:
            return None
        end = self.text.find("\n", start)
        end = len(self.text) if end < 0 else end
        if column:
            offset = min(start + column - 1, end)
        else:
            stripped = self.text[start:end]
            offset = start + (len(stripped) - len(stripped.lstrip()))
        starts = [p.start for p in self.pieces]
        index = bisect.bisect_right(starts, offset) - 1
        if index < 0:
            return None
        piece = self.pieces[index]
        if not piece.filename or not piece.line:
            return None
        newlines = self.text.count("\n", piece.start, offset)
        if newlines and not piece.literal:
            return None  # inside a value that spans lines: its own lines are not known
        return Location(piece.filename, piece.line + newlines)


def _line_start(text: str, line: int) -> int | None:
    """The offset where 1-based ``line`` of ``text`` starts."""
    offset = 0
    for _ in range(line - 1):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return None
    return offset


def record_render(template: jinja2.Template, variables: dict[str, Any]) -> LineOrigins:
    """Render ``template`` as ``template.render(**variables)`` does, noting each piece's origin."""
    context = template.new_context(variables)
    generator = template.root_render_func(context)
    chunks: list[str] = []
    pieces: list[_Piece] = []
    offset = 0
    for chunk in generator:
        pieces.append(_where(generator, chunk, offset))
        chunks.append(chunk)
        offset += len(chunk)
    return LineOrigins("".join(chunks), tuple(pieces))


def _where(generator: Any, chunk: str, offset: int) -> _Piece:
    """What yielded ``chunk``: the innermost generator a ``yield from`` chain is in."""
    inner = generator
    while True:
        if isinstance(inner.gi_yieldfrom, GeneratorType):  # a block: ``yield from``
            inner = inner.gi_yieldfrom
            continue
        # An include: ``for event in gen: yield event`` in the including template.
        names = inner.gi_frame.f_code.co_varnames if inner.gi_frame is not None else ()
        if "gen" in names and "event" in names:
            variables = inner.gi_frame.f_locals
            gen = variables.get("gen")
            if (
                variables.get("event") is chunk
                and isinstance(gen, GeneratorType)
                and gen.gi_frame is not None
            ):
                inner = gen
                continue
        break
    frame = inner.gi_frame
    if frame is None:
        return _Piece(offset, "", 0, False)
    template = frame.f_globals.get("__jinja_template__")
    if not isinstance(template, jinja2.Template) or not template.filename:
        return _Piece(offset, "", 0, False)
    line = template.get_corresponding_lineno(frame.f_lineno)
    # Template text is a constant of the generated code; a value is computed.
    literal = any(chunk is const for const in frame.f_code.co_consts)
    return _Piece(offset, template.filename, line, literal)


def relocate(
    diagnostics: Sequence[Diagnostic],
    page: str,
    origins: Callable[[], LineOrigins | None],
    display: Callable[[str], str],
) -> tuple[Diagnostic, ...]:
    """``diagnostics`` of page ``page`` (its display name), each located at the template
    line that wrote it instead of the rendered output's line.

    ``origins`` renders the page with recording (called once, and only when a
    diagnostic is located in the page's output), or says None when the page is its
    own output (its lines are the output's); ``display`` turns a template's file name
    into the name warnings show. A line whose origin is not known keeps the page and
    says it is a line of the output.
    """
    if not any(d.file == page and d.line for d in diagnostics):
        return tuple(diagnostics)
    lines = origins()
    if lines is None:
        return tuple(diagnostics)
    moved: list[Diagnostic] = []
    for diagnostic in diagnostics:
        if diagnostic.file != page or not diagnostic.line:
            moved.append(diagnostic)
            continue
        place = lines.origin(diagnostic.line, diagnostic.column)
        if place is None:
            message = f"{diagnostic.message} (in the output of {page} at line {diagnostic.line})"
            moved.append(replace(diagnostic, line=0, column=0, message=message))
        else:
            moved.append(replace(diagnostic, file=display(place.file), line=place.line, column=0))
    # A macro or a layout's line met twice in one page is still one warning for it.
    return tuple(dict.fromkeys(moved))


class PageCounts:
    """Which pages raised each warning found outside the page itself (in a layout, say).

    Every page that uses a layout raises the layout's warnings again: the build
    notes them per page and reports each one once, with the pages it affects.
    """

    def __init__(self) -> None:
        self._pages: dict[Diagnostic, list[str]] = {}

    def note(self, page: str, diagnostics: Sequence[Diagnostic]) -> Sequence[Diagnostic]:
        """Note the diagnostics page ``page`` raised (its display name); return them."""
        for diagnostic in diagnostics:
            if diagnostic.file != page:
                self._pages.setdefault(diagnostic, []).append(page)
        return diagnostics

    def merge(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """``diagnostics`` without repeats, each noted one saying the pages it affects."""
        return [self._with_pages(d) for d in dict.fromkeys(diagnostics)]

    def _with_pages(self, diagnostic: Diagnostic) -> Diagnostic:
        pages = self._pages.get(diagnostic)
        if not pages:
            return diagnostic
        return replace(diagnostic, message=f"{diagnostic.message} ({affected(pages)})")


def affected(pages: Sequence[str], shown: int = 3) -> str:
    """``in 6 pages: pages/404.html, pages/about.html, pages/blog.html, ...``."""
    names = sorted(dict.fromkeys(pages))
    listed = ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")
    return f"in {counted(len(names), 'page')}: {listed}"
