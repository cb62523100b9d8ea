"""Rendering pages with Jinja2, with the same ``url_for`` a Quart app offers.

A page is any ``.html`` file under ``SITE/pages``; layouts, partials and macros
live in ``SITE/templates``. Both folders are on the loader's search path, so a
page ``{% extends "base.html" %}`` finds ``templates/base.html``.

Routes follow the file path: ``pages/index.html`` -> ``/``,
``pages/docs/index.html`` -> ``/docs/``, ``pages/about.html`` -> ``/about.html``
(``/about`` with ``pretty_urls``). ``url_for`` endpoints are the page path without
``.html``, dots for slashes: ``index``, ``docs.index``, ``about``; plus ``static``
with ``filename=``, as in Quart.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from jinja2.utils import missing

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic, PushgenError, did_you_mean
from ..scan.decode import decode_html, python_codec
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


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the site: where its template is and where it is served."""

    source: str  # template name, relative to SITE/pages, with '/' separators
    route: str  # URL path the page is served at, base path included
    endpoint: str  # url_for name
    output: str  # file path relative to the output folder
    plain: bool = False  # plain HTML (pushgen.yaml's ``plain:``): copied, never rendered

    @property
    def display(self) -> str:
        return f"pages/{self.source}"


# A URL path that percent-encoding leaves as it is (most page names).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~/-]*")


def _page_for(source: str, config: SiteConfig) -> Page:
    stem = source[: -len(".html")]
    parts = stem.split("/")
    if parts[-1] == "index":
        url = "/".join(parts[:-1])
        url = url + "/" if url else ""
    elif config.pretty_urls:
        url = stem
    else:
        url = source
    if not _UNRESERVED.fullmatch(url):
        url = quote(url, safe="/")
    return Page(
        source=source,
        route=config.base_path + url,
        endpoint=".".join(parts),
        output=source,
        plain=config.is_plain(source),
    )


# A backslash is a "/" to a browser in an http(s) URL (WHATWG URL Standard, path
# state), and control characters are removed from URLs or cannot be sent in a
# request line: a page whose name holds one would be built but never served.
_UNSERVABLE = re.compile(r"[\\\x00-\x1f\x7f-\x9f]")


def discover_pages(config: SiteConfig) -> list[Page]:
    """Every page of the site, sorted by source path (deterministic build order).

    Raises :class:`BuildError` for pages no URL can reach (a backslash or a control
    character in the name) and for a page under ``pages/static/`` that would be
    written over a file of ``static/``, naming every such file.
    """
    root = config.pages
    if not root.is_dir():
        return []
    sources: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Dot-directories (.git, editor folders) hold no pages.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            if name.endswith(".html") and not name.startswith("."):
                sources.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    sources.sort()
    problems = [d for s in sources for d in _page_name_problems(s, config)]
    if problems:
        raise BuildError(problems)
    return [_page_for(s, config) for s in sources]


def _page_name_problems(source: str, config: SiteConfig) -> list[Diagnostic]:
    """Why page ``source`` cannot be built: a name no URL reaches, or a clash with static/."""
    shown = f"pages/{source}"
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        # A name that is not UTF-8 reaches Python as surrogate escapes (PEP 383);
        # URLs are percent-encoded UTF-8 (WHATWG URL Standard), so none names it.
        message = "the page's name is not UTF-8, which no URL can name: rename the file"
        return [Diagnostic(shown, 0, 0, message, "error")]
    bad = _UNSERVABLE.search(source)
    if bad is not None:
        what = "a backslash" if bad.group() == "\\" else f"the control character {bad.group()!r}"
        return [
            Diagnostic(
                repr(shown)[1:-1],
                0,
                0,
                f"the page's name holds {what}, which no URL can reach (browsers read"
                " '\\' as '/' and drop or refuse control characters): rename the file",
                "error",
            )
        ]
    if not source.startswith("static/"):
        return []
    # pages/static/x.html is written to OUT/static/x.html, where static/x.html goes
    # too; and pages/static/a/x.html needs the folder OUT/static/a, which a file
    # static/a would be.
    parts = source.split("/")[1:]
    for depth in range(1, len(parts) + 1):
        theirs = "static/" + "/".join(parts[:depth])
        other = config.static.joinpath(*parts[:depth])
        if depth == len(parts) and os.path.lexists(other):
            clash = f"this page and {theirs} would both be written to {theirs} in the output"
        elif depth < len(parts) and os.path.isfile(other):
            clash = (
                f"this page needs the folder {theirs} in the output, where the file {theirs} goes"
            )
        else:
            continue
        return [Diagnostic(shown, 0, 0, f"{clash}: rename or move one of them", "error")]
    return []


# A page that says it is plain HTML, in an HTML comment among its first 1024 bytes
# (the window of the <meta charset> prescan, HTML Standard 13.2.3.2), in any
# ASCII-compatible charset: it is its own output, as if listed under ``plain:``.
PLAIN_MARKER = b"<!-- pushgen: plain -->"
_PRESCAN = 1024

# Line ends as Jinja2's lexer finds them in template data.
_NEWLINE = re.compile(r"\r\n|\r|\n")


class _CharsetLoader(jinja2.FileSystemLoader):
    """A loader that reads each template in the charset it declares (BOM or <meta charset>).

    What the decoder found wrong (bytes invalid in that charset, which become U+FFFD
    in the output without a trace) is kept per template, located in its file, for
    :attr:`Renderer.last_diagnostics`.
    """

    def __init__(self, searchpath: list[Path], display: Callable[[str], str]) -> None:
        super().__init__([str(p) for p in searchpath])
        self._display = display
        self.encodings: dict[str, str] = {}
        self.diagnostics: dict[str, tuple[Diagnostic, ...]] = {}
        # A page's source that plain_text() read and found to be a template: Jinja2's
        # load() asks for it next and gets it without reading the file again.
        self._pending: dict[str, tuple[str, str, Callable[[], bool]]] = {}
        # The bytes of pages (not layouts) that carry the plain marker, as last read.
        self.marked_plain: dict[str, bytes] = {}

    def plain_text(self, environment: jinja2.Environment, name: str) -> str | None:
        """The output of template ``name`` when it has no Jinja2 syntax; None when it has.

        Such a page (plain HTML) renders to its own text with its line ends made
        ``\n``, as Jinja2 does to the text between tags; compiling it to a Python
        module first would cost more than the rest of its build.
        """
        source = self.get_source(environment, name)
        text = source[0]
        markers = (
            environment.block_start_string,
            environment.variable_start_string,
            environment.comment_start_string,
        )
        if (
            any(marker in text for marker in markers)
            or environment.line_statement_prefix
            or environment.line_comment_prefix
        ):
            self._pending[name] = source
            return None
        return _NEWLINE.sub(environment.newline_sequence, text) if "\r" in text else text

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pending = self._pending.pop(template, None)
        if pending is not None:
            return pending
        for searchpath in self.searchpath:
            pieces = jinja2.loaders.split_template_path(template)
            filename = os.path.join(searchpath, *pieces)
            try:
                data = Path(filename).read_bytes()
                mtime = os.path.getmtime(filename)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            filename = os.path.normpath(filename)
            decoded = decode_html(data, filename=self._display(filename))
            self.encodings[template] = decoded.encoding
            self.diagnostics[template] = decoded.diagnostics
            if searchpath == self.searchpath[0] and PLAIN_MARKER in data[:_PRESCAN]:
                self.marked_plain[template] = data

            def uptodate(filename: str = filename, mtime: float = mtime) -> bool:
                try:
                    return os.path.getmtime(filename) == mtime
                except OSError:
                    return False

            return decoded.text, filename, uptodate
        raise jinja2.TemplateNotFound(template)

    def forget(self, name: str) -> None:
        """Drop a source plain_text() kept for Jinja2's next load of ``name``."""
        self._pending.pop(name, None)

    def load(
        self,
        environment: jinja2.Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        # Jinja2's parser and code generator recurse once (or more) per nested block,
        # and the Python code it generates nests one level per block: past some depth
        # (21 {% for %}, 99 {% if %}, a few hundred of anything) compiling fails with
        # a RecursionError or a SyntaxError about the generated code, neither of which
        # says where in the template. A TemplateSyntaxError at the deepest point does.
        # (Jinja2 advises against overriding load() in loaders that other loaders
        # wrap, as those call get_source() only; this one is never wrapped.)
        try:
            return super().load(environment, name, globals)
        except (RecursionError, SyntaxError) as exc:
            source, filename, _ = self.get_source(environment, name)
            line, what, fix = _too_deep(environment, source)
            message = f"{what}, more than Jinja2 can compile ({type(exc).__name__}): {fix}"
            raise jinja2.TemplateSyntaxError(message, line, name, filename) from None


# Below this depth nesting is not what stops Jinja2 from compiling a template: the
# lowest limit is CPython's 20 statically nested blocks (each {% for %} is one).
_DEEP = 20

# Jinja2's tags that have an end tag; "set" only without "=" ({% set x %}...{% endset %}).
_BLOCK_TAGS = frozenset(
    ("autoescape", "block", "call", "filter", "for", "if", "macro", "set", "trans", "with")
)

# A macro defined at the top level, or an included template, compiles to code of its
# own whose nesting starts again from 0.
_FIX_BLOCKS = (
    "move the inner levels into a macro defined at the top of the template,"
    " or into a template of their own that you {% include %}"
)


def _too_deep(environment: jinja2.Environment, source: str) -> tuple[int, str, str]:
    """Where ``source`` nests deepest, by a scan of its tokens: (line, what, what to do).

    The line is that of the first opening tag (or bracket) at the greatest depth; 0
    when nothing is nested deep enough to be the cause. The lexer does not recurse, so
    it works on templates the parser cannot take.
    """
    blocks: list[str] = []
    brackets = 0
    deepest_block = (0, 0, "")  # (depth, line, tag)
    deepest_bracket = (0, 0)  # (depth, line)
    tag: tuple[int, str] | None = None  # the opening tag being read: (line, name)
    tag_name_next = False
    try:
        for line, kind, value in environment.lex(source):
            if kind == "whitespace":
                continue
            if kind in ("block_begin", "variable_begin"):
                # Brackets never span tags; a stray one is not carried to the next.
                brackets, tag = 0, None
            elif tag_name_next and kind == "name":
                if value in _BLOCK_TAGS:
                    tag = (line, value)
                elif value.startswith("end") and value[3:] in _BLOCK_TAGS and blocks:
                    blocks.pop()
            elif kind == "block_end" and tag is not None:
                blocks.append(tag[1])
                if len(blocks) > deepest_block[0]:
                    deepest_block = (len(blocks), tag[0], tag[1])
                tag = None
            elif kind == "operator" and value == "=" and tag is not None and tag[1] == "set":
                tag = None  # {% set x = ... %} has no end tag
            elif kind == "operator" and value in ("(", "[", "{"):
                brackets += 1
                if brackets > deepest_bracket[0]:
                    deepest_bracket = (brackets, line)
            elif kind == "operator" and value in (")", "]", "}"):
                brackets = max(0, brackets - 1)
            tag_name_next = kind == "block_begin"
    except jinja2.TemplateSyntaxError:
        pass  # what was read up to the error is all there is to go on
    depth, line, name = deepest_block
    if depth >= _DEEP:
        return line, f"{{% {name} %}} is nested {depth} blocks deep", _FIX_BLOCKS
    depth, line = deepest_bracket
    if depth >= _DEEP:
        return line, f"brackets are nested {depth} deep", "split the expression with {% set %}"
    return 0, "the template is nested too deeply", _FIX_BLOCKS


class _RecordingUndefined(jinja2.Undefined):
    """An undefined value that notes where a template prints it or loops over it.

    Jinja2's default prints an undefined variable as nothing, so a typo or a
    variable missing from ``context:`` silently empties a page. Only printing and
    iterating are noted: ``{{ x or 'd' }}``, ``{% if x %}``, ``x is defined`` and
    ``x|default(...)`` test or replace the value and stay silent. (StrictUndefined
    fails on those too; make_logging_undefined logs without a location.)
    """

    __slots__ = ()

    def __str__(self) -> str:
        self._note("printed as empty text", "''")
        return ""

    def __iter__(self) -> Iterator[Any]:
        self._note("looped over as an empty list", "[]")
        return iter(())

    def _note(self, effect: str, empty: str) -> None:
        # The innermost frame of compiled template code is where the template uses
        # the value: its globals name the template, whose debug info maps the Python
        # line to the template's line (as jinja2.debug does for tracebacks).
        frame: FrameType | None = sys._getframe(2)
        while frame is not None:
            template = frame.f_globals.get("__jinja_template__")
            if isinstance(template, jinja2.Template) and isinstance(
                template.environment, _Environment
            ):
                uses = template.environment.undefined_uses
                # A loop prints the same name at the same place many times: the
                # first time is enough (the rest would cost 9 µs each for nothing).
                key = (frame.f_code, frame.f_lineno, self._undefined_name, effect)
                if key not in uses:
                    name = self._undefined_name if self._undefined_obj is missing else None
                    uses[key] = (
                        template.filename or "",
                        template.get_corresponding_lineno(frame.f_lineno),
                        f"{self._undefined_message}, {effect}: define it (in pushgen.yaml's"
                        f" context:, or with {{% set %}}), or write {name or '...'}"
                        f" | default({empty}) where it may be missing",
                    )
                return
            frame = frame.f_back


class _Environment(jinja2.Environment):
    """An environment that notes the name of every template a render asks for.

    A compiled template is cached and its source read once, but the decoding
    warnings of a layout or a partial concern every page that uses it: each render
    needs to know which templates it used, cached or not. ``{% extends %}``,
    ``{% include %}`` and ``{% import %}`` all come through these two methods.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.used: dict[str, None] = {}  # an ordered set
        # What _RecordingUndefined noted in the render under way, in order:
        # (code, Python line, name, effect) -> (template file, template line, message).
        self.undefined_uses: dict[tuple[object, ...], tuple[str, int, str]] = {}

    def forget(self, name: str) -> None:
        """Drop the compiled template ``name`` from the cache (Jinja2's key for it)."""
        if self.cache is not None:
            self.cache.pop((weakref.ref(self.loader), name), None)

    def get_template(
        self,
        name: str | jinja2.Template,
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        template = super().get_template(name, parent, globals)
        if template.name is not None:
            self.used[template.name] = None
        return template

    def select_template(
        self,
        names: Iterable[str | jinja2.Template],
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        template = super().select_template(names, parent, globals)
        if template.name is not None:
            self.used[template.name] = None
        return template


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
        self._loader = _CharsetLoader([config.pages, config.templates], self._display_path)
        self.environment = _Environment(
            loader=self._loader,
            undefined=_RecordingUndefined,
            autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
            cache_size=-1,
            auto_reload=False,
            keep_trailing_newline=True,
        )
        self.environment.globals.update(dict(config.context))
        self.environment.globals["site"] = dict(config.context)
        self.environment.globals["url_for"] = self.url_for

    def url_for(self, endpoint: str, **values: Any) -> str:
        """Quart's ``url_for`` for a static build: ``static`` files and page endpoints."""
        values.pop("_external", None)
        anchor = values.pop("_anchor", None)
        if endpoint == "static":
            filename = values.pop("filename", None)
            if not filename:
                raise UrlForError(endpoint, "url_for('static') needs filename=")
            url = f"{self.config.base_path}static/{quote(str(filename).lstrip('/'), safe='/')}"
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
        file's bytes, as they are.
        """
        if page.plain:
            try:
                return Rendered((self.config.pages / page.source).read_bytes())
            except OSError as exc:
                message = f"cannot read the page: {exc.strerror or exc}"
                raise RenderError(Diagnostic(page.display, 0, 0, message, "error")) from None
        self.environment.used.clear()
        self.environment.undefined_uses.clear()
        try:
            plain = self._loader.plain_text(self.environment, page.source)
            marked = self._loader.marked_plain.pop(page.source, None)
            if marked is not None:
                self._loader.forget(page.source)
                return Rendered(marked)
            if plain is not None:
                text = plain
                self.environment.used[page.source] = None
            else:
                template = self.environment.get_template(page.source)
                self._loader.forget(page.source)  # compiled already: Jinja2 did not ask
                text = template.render(page=_page_variable(page))
                # A page renders once a build: keeping its compiled code (about
                # 30 KiB) made memory grow with the site; layouts stay cached.
                self.environment.forget(page.source)
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(
                Diagnostic(
                    self._display(exc.filename) or page.display,
                    exc.lineno,
                    0,
                    exc.message or "syntax error",
                    "error",
                )
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise RenderError(
                Diagnostic(
                    *self._template_location(exc.__traceback__, page),
                    f"template not found: {exc.name}",
                    "error",
                )
            ) from None
        except RecursionError as exc:
            raise RenderError(
                Diagnostic(
                    *self._cycle_location(exc.__traceback__, page),
                    f"RecursionError: {exc}: a template extends, includes or calls itself without"
                    " end (directly or through others): break the cycle at this line",
                    "error",
                )
            ) from None
        except UrlForError as exc:  # the template's mistake: no Python exception name
            raise RenderError(
                Diagnostic(*self._template_location(exc.__traceback__, page), str(exc), "error")
            ) from None
        except Exception as exc:  # a template raised while rendering: locate it in the template
            raise RenderError(
                Diagnostic(
                    *self._template_location(exc.__traceback__, page),
                    f"{type(exc).__name__}: {exc}",
                    "error",
                )
            ) from None
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

    def _template_frames(self, tb: TracebackType | None) -> Iterator[tuple[str, str, int]]:
        """The template frames of ``tb``, outermost first: (file, function, line)."""
        # Jinja2 rewrites tracebacks so that template frames carry the template's
        # file name and line.
        roots = (str(self.config.pages), str(self.config.templates))
        for frame_tb in _walk(tb):
            code = frame_tb.tb_frame.f_code
            if code.co_filename.startswith(roots):
                yield code.co_filename, code.co_name, frame_tb.tb_lineno

    def _template_location(self, tb: TracebackType | None, page: Page) -> tuple[str, int, int]:
        # The innermost template frame is where the error is.
        where: tuple[str, int, int] = (page.display, 0, 0)
        for filename, _, line in self._template_frames(tb):
            where = (self._display(filename) or filename, line, 0)
        return where

    def _cycle_location(self, tb: TracebackType | None, page: Page) -> tuple[str, int, int]:
        """Where the render first came back to a template function it was already in.

        The innermost frame of a RecursionError is wherever the stack ran out, which
        differs between Python versions (3.12 counts C and Python recursion apart) and
        for a cycle of two templates can be either of them. The call that first closes
        the cycle does not depend on that: it is the line to change.
        """
        seen: set[tuple[str, str]] = set()
        previous: tuple[str, int, int] | None = None
        for filename, function, line in self._template_frames(tb):
            if (filename, function) in seen and previous is not None:
                return previous
            seen.add((filename, function))
            previous = (self._display(filename) or filename, line, 0)
        return self._template_location(tb, page)


def _page_variable(page: Page) -> dict[str, str]:
    """The ``page`` variable every page's template sees."""
    return {"route": page.route, "source": page.source, "endpoint": page.endpoint}


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next
