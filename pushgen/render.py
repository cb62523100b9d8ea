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
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import jinja2

from .config import SiteConfig
from .errors import Diagnostic
from .scan.decode import decode_html, python_codec

__all__ = ["Page", "RenderError", "Renderer", "discover_pages"]

_BOMS = {"utf-16le": codecs.BOM_UTF16_LE, "utf-16be": codecs.BOM_UTF16_BE}


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the site: where its template is and where it is served."""

    source: str  # template name, relative to SITE/pages, with '/' separators
    route: str  # URL path the page is served at, base path included
    endpoint: str  # url_for name
    output: str  # file path relative to the output folder

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
    )


def discover_pages(config: SiteConfig) -> list[Page]:
    """Every page of the site, sorted by source path (deterministic build order)."""
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
    return [_page_for(s, config) for s in sorted(sources)]


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


class RenderError(Exception):
    """A page failed to render; ``diagnostic`` says where (template file and line)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


class Renderer:
    """Renders the pages of one site. Create one per process; it caches compiled templates."""

    def __init__(self, config: SiteConfig, pages: list[Page]) -> None:
        self.config = config
        self._endpoints = {p.endpoint: p.route for p in pages}
        self._loader = _CharsetLoader([config.pages, config.templates], self._display_path)
        # Warnings about the templates of the page rendered last (see render()).
        self.last_diagnostics: tuple[Diagnostic, ...] = ()
        self.environment = _Environment(
            loader=self._loader,
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
                raise ValueError("url_for('static') needs filename=")
            url = f"{self.config.base_path}static/{quote(str(filename).lstrip('/'), safe='/')}"
        elif endpoint in self._endpoints:
            url = self._endpoints[endpoint]
        else:
            close = [e for e in self._endpoints if e.endswith(endpoint) or endpoint in e][:3]
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise ValueError(f"url_for: no page or endpoint named {endpoint!r}{hint}")
        if values:
            url += "?" + urlencode(values)
        if anchor:
            url += "#" + quote(str(anchor))
        return url

    def render(self, page: Page) -> bytes:
        """Render ``page`` to bytes in its declared charset. Raises :class:`RenderError`.

        Afterwards :attr:`last_diagnostics` holds the warnings about the templates the
        page used (bytes invalid in a template's charset, say), located in them.
        """
        self.last_diagnostics = ()
        self.environment.used.clear()
        try:
            plain = self._loader.plain_text(self.environment, page.source)
            if plain is not None:
                text = plain
                self.environment.used[page.source] = None
            else:
                template = self.environment.get_template(page.source)
                self._loader.forget(page.source)  # compiled already: Jinja2 did not ask
                text = template.render(
                    page={"route": page.route, "source": page.source, "endpoint": page.endpoint}
                )
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
        except Exception as exc:  # a template raised while rendering: locate it in the template
            raise RenderError(
                Diagnostic(
                    *self._template_location(exc.__traceback__, page),
                    f"{type(exc).__name__}: {exc}",
                    "error",
                )
            ) from None
        self.last_diagnostics = tuple(
            dict.fromkeys(
                d for name in self.environment.used for d in self._loader.diagnostics.get(name, ())
            )
        )
        encoding = self._loader.encodings.get(page.source, "utf-8")
        data = text.encode(python_codec(encoding) or "utf-8", errors="xmlcharrefreplace")
        if encoding in _BOMS:
            # UTF-16 is only recognised by its byte order mark (no <meta> can say
            # it), so the output keeps the one the template had.
            data = _BOMS[encoding] + data
        return data

    def _display(self, filename: str | None) -> str | None:
        return self._display_path(filename) if filename else None

    def _display_path(self, filename: str) -> str:
        try:
            return os.path.relpath(filename, self.config.root).replace(os.sep, "/")
        except ValueError:
            return filename

    def _template_location(self, tb: TracebackType | None, page: Page) -> tuple[str, int, int]:
        # Jinja2 rewrites tracebacks so that template frames carry the template's
        # file name and line: the innermost such frame is where the error is.
        where: tuple[str, int, int] = (page.display, 0, 0)
        roots = (str(self.config.pages), str(self.config.templates))
        for frame_tb in _walk(tb):
            filename = frame_tb.tb_frame.f_code.co_filename
            if filename.startswith(roots):
                where = (self._display(filename) or filename, frame_tb.tb_lineno, 0)
        return where


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next
