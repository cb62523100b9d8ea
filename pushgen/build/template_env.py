"""The Jinja2 environment pages render in: templates read in their own charset, undefined
variables noted where a template prints them, templates too deep to compile located.

:class:`CharsetLoader` reads each template in the charset it declares (BOM or
``<meta charset>``) and keeps the decoding warnings per template; a page without
Jinja2 syntax is its own output, never compiled. :class:`RecordingUndefined` notes
where an undefined name is printed or looped over. :class:`Environment` notes the
templates each render used, so that a layout's warnings reach every page using it.
The render of a page is pushgen/build/render.py's.
"""

from __future__ import annotations

import os
import re
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import jinja2
from jinja2.utils import missing

from ..errors import Diagnostic
from ..scan.decode import decode_html

__all__ = ["PLAIN_MARKER", "CharsetLoader", "Environment", "RecordingUndefined"]


# (the window of the <meta charset> prescan, HTML Standard 13.2.3.2), in any
# ASCII-compatible charset: it is its own output, as if listed under ``plain:``.
PLAIN_MARKER = b"<!-- pushgen: plain -->"
_PRESCAN = 1024

# Line ends as Jinja2's lexer finds them in template data.
_NEWLINE = re.compile(r"\r\n|\r|\n")


class CharsetLoader(jinja2.FileSystemLoader):
    """A loader that reads each template in the charset it declares (BOM or <meta charset>).

    What the decoder found wrong (bytes invalid in that charset, which become U+FFFD
    in the output without a trace) is kept per template, located in its file, for
    :class:`~pushgen.build.render.Renderer`.
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
            deep = _too_deep(environment, source)
            message = (
                f"{deep.what}, more than Jinja2 can compile ({type(exc).__name__}): {deep.fix}"
            )
            raise jinja2.TemplateSyntaxError(message, deep.line, name, filename) from None


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


@dataclass(frozen=True)
class _TooDeep:
    """Where a template nests deepest: the line, what nests there and what to do about it."""

    line: int
    what: str
    fix: str


def _too_deep(environment: jinja2.Environment, source: str) -> _TooDeep:
    """Where ``source`` nests deepest, by a scan of its tokens.

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
        return _TooDeep(line, f"{{% {name} %}} is nested {depth} blocks deep", _FIX_BLOCKS)
    depth, line = deepest_bracket
    if depth >= _DEEP:
        return _TooDeep(
            line, f"brackets are nested {depth} deep", "split the expression with {% set %}"
        )
    return _TooDeep(0, "the template is nested too deeply", _FIX_BLOCKS)


class RecordingUndefined(jinja2.Undefined):
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
                template.environment, Environment
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


class Environment(jinja2.Environment):
    """An environment that notes the name of every template a render asks for.

    A compiled template is cached and its source read once, but the decoding
    warnings of a layout or a partial concern every page that uses it: each render
    needs to know which templates it used, cached or not. ``{% extends %}``,
    ``{% include %}`` and ``{% import %}`` all come through these two methods.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.used: dict[str, None] = {}  # an ordered set
        # What RecordingUndefined noted in the render under way, in order:
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
