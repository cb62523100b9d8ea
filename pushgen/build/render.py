"""Rendering pages with Jinja2, with the same ``url_for`` a Quart app offers.

A page is any ``.html`` file under ``SITE/pages`` (pushgen/build/pages.py finds them
and gives each its route and endpoint); layouts, partials and macros live in
``SITE/templates``. Both folders are on the loader's search path, so a page
``{% extends "base.html" %}`` finds ``templates/base.html``. The environment the
pages render in (charsets, undefined names, nesting) is
pushgen/build/template_env.py's; this module renders one page to bytes and says
where in its templates a failure is.

``url_for`` endpoints are the page path without ``.html``, dots for slashes:
``index``, ``docs.index``, ``about``; plus ``static`` with ``filename=``, as in Quart.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import jinja2

from ..config import SiteConfig
from ..errors import Diagnostic, Location, PushgenError, did_you_mean
from ..scan.decode import python_codec
from ..urls import document_url
from .fingerprint_pages import page_rewriter
from .pages import Page, discover_pages
from .template_env import PLAIN_MARKER, CharsetLoader, Environment, RecordingUndefined
from .template_lines import LineOrigins, record_render, relocate

__all__ = [
    "PLAIN_MARKER",
    "Page",
    "RenderError",
    "Rendered",
    "Renderer",
    "UrlForError",
    "discover_pages",
]

_BOMS = {"utf-16le": codecs.BOM_UTF16_LE, "utf-16be": codecs.BOM_UTF16_BE}


class UrlForError(PushgenError):
    """A template called ``url_for`` with an endpoint (or arguments) the site has not."""

    def __init__(self, endpoint: str, message: str) -> None:
        self.endpoint = endpoint
        super().__init__(message)


class RenderError(PushgenError):
    """A page failed to render; ``diagnostic`` says where (template file and line)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered page: its bytes, in its charset, and warnings located in its templates.

    The warnings: bytes invalid in a template's charset (they became U+FFFD), and
    undefined variables printed or looped over.
    """

    data: bytes
    diagnostics: tuple[Diagnostic, ...] = ()


class Renderer:
    """Renders the pages of one site. Create one per process; it caches compiled templates."""

    def __init__(self, config: SiteConfig, pages: list[Page]) -> None:
        self.config = config
        self._endpoints = {p.endpoint: p.route for p in pages}
        self._loader = CharsetLoader([config.pages, config.templates], self._display_path)
        self.environment = Environment(
            loader=self._loader,
            undefined=RecordingUndefined,
            autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
            cache_size=-1,
            auto_reload=False,
            keep_trailing_newline=True,
        )
        self.environment.globals.update(dict(config.context))
        self.environment.globals["site"] = dict(config.context)
        self.environment.globals["url_for"] = self.url_for
        # fingerprint: true: static/... -> static/<name>.<hash>.<ext> (build/fingerprint.py),
        # for url_for and for the names pages write by hand; one listing of static/ for both.
        self._rewriter = page_rewriter(config)
        self._hashed = self._rewriter.names if self._rewriter is not None else {}

    def url_for(self, endpoint: str, **values: Any) -> str:
        """Quart's ``url_for`` for a static build: ``static`` files and page endpoints."""
        values.pop("_external", None)
        anchor = values.pop("_anchor", None)
        if endpoint == "static":
            filename = values.pop("filename", None)
            if not filename:
                raise UrlForError(endpoint, "url_for('static') needs filename=")
            rel = f"static/{str(filename).lstrip('/')}"
            url = f"{self.config.base_path}{quote(self._hashed.get(rel, rel), safe='/')}"
        elif endpoint in self._endpoints:
            url = self._endpoints[endpoint]
        else:
            hint = did_you_mean(endpoint, [*self._endpoints, "static"])
            if not hint:
                close = [e for e in self._endpoints if e.endswith(endpoint) or endpoint in e][:3]
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UrlForError(
                endpoint,
                f"url_for: no page or endpoint named {endpoint!r}{hint} (an endpoint is a page's"
                " path under pages/ without .html, with dots for slashes: 'docs.index')",
            )
        if values:
            url += "?" + urlencode(values)
        if anchor:
            url += "#" + quote(str(anchor))
        return url

    def render(self, page: Page) -> Rendered:
        """Render ``page`` to bytes in its declared charset. Raises :class:`RenderError`.

        A plain page (``page.plain``, or one that carries :data:`PLAIN_MARKER`) is its
        file's bytes, as they are (but for ``fingerprint: true``'s hashed names).
        """
        rendered = self._render(page)
        if self._rewriter is None:
            return rendered
        done = self._rewriter.rewrite(rendered.data, document_url(page.route), page.display)
        return Rendered(done.data, (*rendered.diagnostics, *done.diagnostics))

    def _render(self, page: Page) -> Rendered:
        if page.plain:
            try:
                return Rendered((self.config.pages / page.source).read_bytes())
            except OSError as exc:
                message = f"cannot read the page: {exc.strerror or exc}"
                raise RenderError(Diagnostic(page.display, 0, 0, message, "error")) from None
        self.environment.used.clear()
        self.environment.undefined_uses.clear()
        try:
            text = self._text(page)
        except Exception as exc:  # a template raised while rendering: locate it in the template
            raise RenderError(self._failure(exc, page)) from None
        if isinstance(text, bytes):  # it carries the plain marker: its file's bytes
            return Rendered(text)
        return self._encoded(page, text)

    def _text(self, page: Page) -> str | bytes:
        """The text ``page`` renders to; the file's bytes when it carries the plain marker."""
        plain = self._loader.plain_text(self.environment, page.source)
        marked = self._loader.marked_plain.pop(page.source, None)
        if marked is not None:
            self._loader.forget(page.source)
            return marked
        if plain is not None:
            self.environment.used[page.source] = None
            return plain
        template = self.environment.get_template(page.source)
        self._loader.forget(page.source)  # compiled already: Jinja2 did not ask
        text = template.render(page=_page_variable(page))
        # A page renders once a build: keeping its compiled code (about
        # 30 KiB) made memory grow with the site; layouts stay cached.
        self.environment.forget(page.source)
        return text

    def _failure(self, exc: Exception, page: Page) -> Diagnostic:
        """Where in its templates ``page`` failed with ``exc``, and why."""
        if isinstance(exc, jinja2.TemplateSyntaxError):
            filename = self._display(exc.filename) or page.display
            return Diagnostic(filename, exc.lineno, 0, exc.message or "syntax error", "error")
        if isinstance(exc, jinja2.TemplateNotFound):
            where = self._template_location(exc.__traceback__, page)
            return _located(where, f"template not found: {exc.name}")
        if isinstance(exc, RecursionError):
            return _located(
                self._cycle_location(exc.__traceback__, page),
                f"RecursionError: {exc}: a template extends, includes or calls itself without"
                " end (directly or through others): break the cycle at this line",
            )
        where = self._template_location(exc.__traceback__, page)
        if isinstance(exc, UrlForError):  # the template's mistake: no Python exception name
            return _located(where, str(exc))
        return _located(where, f"{type(exc).__name__}: {exc}")

    def _encoded(self, page: Page, text: str) -> Rendered:
        """``text`` in the page's charset, with the warnings of the templates it used."""
        decoding = (
            d for name in self.environment.used for d in self._loader.diagnostics.get(name, ())
        )
        undefined = (
            Diagnostic(self._display(filename) or page.display, line, 0, message, "warning")
            for filename, line, message in self.environment.undefined_uses.values()
        )
        encoding = self._loader.encodings.get(page.source, "utf-8")
        data = text.encode(python_codec(encoding) or "utf-8", errors="xmlcharrefreplace")
        if encoding in _BOMS:
            # UTF-16 is only recognised by its byte order mark (no <meta> can say
            # it), so the output keeps the one the template had.
            data = _BOMS[encoding] + data
        return Rendered(data, tuple(dict.fromkeys((*decoding, *undefined))))

    def origins(self, page: Page) -> LineOrigins | None:
        """Render ``page`` again, noting which template line wrote each output line.

        None for a page that is its own output (plain, or without Jinja2 syntax: its
        lines are the output's), and for one that fails to render (the build reported
        that already, and there is nothing to place).
        """
        if page.plain:
            return None
        try:
            if self._loader.plain_text(self.environment, page.source) is not None:
                return None
            if self._loader.marked_plain.pop(page.source, None) is not None:
                self._loader.forget(page.source)
                return None
            template = self.environment.get_template(page.source)
            self._loader.forget(page.source)
            try:
                return record_render(template, {"page": _page_variable(page)})
            finally:
                self.environment.forget(page.source)
        except Exception:  # a failed render was reported when the page was built
            return None

    def place(self, page: Page, diagnostics: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
        """Diagnostics found in ``page``'s output, at the template lines that wrote them.

        Renders the page again with recording, only when one of them is located in
        the output (see pushgen/build/template_lines.py).
        """
        return relocate(diagnostics, page.display, lambda: self.origins(page), self.display)

    def display(self, filename: str) -> str:
        """A template's file name as warnings show it (relative to the site)."""
        return self._display_path(filename)

    def _display(self, filename: str | None) -> str | None:
        return self._display_path(filename) if filename else None

    def _display_path(self, filename: str) -> str:
        try:
            return os.path.relpath(filename, self.config.root).replace(os.sep, "/")
        except ValueError:
            return filename

    def _template_frames(self, tb: TracebackType | None) -> Iterator[_Frame]:
        """The template frames of ``tb``, outermost first."""
        # Jinja2 rewrites tracebacks so that template frames carry the template's
        # file name and line.
        roots = (str(self.config.pages), str(self.config.templates))
        for frame_tb in _walk(tb):
            code = frame_tb.tb_frame.f_code
            if code.co_filename.startswith(roots):
                yield _Frame(code.co_filename, code.co_name, frame_tb.tb_lineno)

    def _template_location(self, tb: TracebackType | None, page: Page) -> Location:
        # The innermost template frame is where the error is.
        where = Location(page.display, 0)
        for frame in self._template_frames(tb):
            where = Location(self._display(frame.file) or frame.file, frame.line)
        return where

    def _cycle_location(self, tb: TracebackType | None, page: Page) -> Location:
        """Where the render first came back to a template function it was already in.

        The innermost frame of a RecursionError is wherever the stack ran out, which
        differs between Python versions (3.12 counts C and Python recursion apart) and
        for a cycle of two templates can be either of them. The call that first closes
        the cycle does not depend on that: it is the line to change.
        """
        seen: set[tuple[str, str]] = set()
        previous: Location | None = None
        for frame in self._template_frames(tb):
            if (frame.file, frame.function) in seen and previous is not None:
                return previous
            seen.add((frame.file, frame.function))
            previous = Location(self._display(frame.file) or frame.file, frame.line)
        return self._template_location(tb, page)


@dataclass(frozen=True, slots=True)
class _Frame:
    """A template's frame in a traceback: its file, its function and the line it is at."""

    file: str
    function: str
    line: int


def _located(where: Location, message: str) -> Diagnostic:
    """An error in a template, at ``where``."""
    return Diagnostic(where.file, where.line, where.column, message, "error")


def _page_variable(page: Page) -> dict[str, str]:
    """The ``page`` variable every page's template sees."""
    return {"route": page.route, "source": page.source, "endpoint": page.endpoint}


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next
