"""The static imports of an ES module: what loading it makes the browser fetch before it runs.

A module's dependencies are its ``import ... from "x"``, ``import "x"`` and
``export ... from "x"`` declarations (ECMAScript, section 16.2 "Modules"). A dynamic
``import("x")`` runs later, if ever, and is not followed; ``import.meta`` is not an
import at all; nor is anything inside a comment, a string, a template literal or a
regular expression literal.

The scanner reads the tokens of pushgen/scan/js_tokens.py (a small hand-written
tokenizer, not a parser) and recognises the declarations and calls among them.

Specifiers are resolved as the HTML Standard's "resolve a module specifier" does
without an import map: ``/``, ``./`` and ``../`` are relative to the module's URL,
absolute URLs stand for themselves, and bare specifiers (``"lodash"``) cannot be
resolved, so they are reported and skipped.
"""

from __future__ import annotations

import re

from ..errors import Diagnostic, Position
from ..model import Reference, ReferenceKind, ScanResult
from ..urls import resolve, unservable
from .decode import as_text, decode_utf8
from .js_tokens import Token, TokenStream, tokens, unescape

__all__ = ["scan_js"]

# Calls whose literal URL argument a script fetches later (issue 15): name ->
# (destination, module). import("x") is handled with the import keyword.
_CALLS = {
    "fetch": ("fetch", False),
    "Worker": ("worker", False),
    "importScripts": ("script", False),
}
# Methods of well-known libraries that load a URL given as a literal: Sphinx's
# search page (the Read the Docs theme) calls Search.loadIndex("searchindex.js"),
# which appends a classic <script src> for it (searchtools.js).
_METHOD_CALLS = {("Search", "loadIndex"): ("script", False)}
# HTML Standard, "resolve a module specifier": a URL-like specifier starts with one of these.
_RELATIVE_PREFIXES = ("/", "./", "../")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Import attributes a browser supports (HTML Standard, "fetch a single module script").
_ATTRIBUTE_TYPES = {"json": "json", "css": "style"}


def scan_js(
    data: bytes | str,
    url: str,
    *,
    filename: str = "",
    line_offset: int = 0,
    inline: bool = False,
    crossorigin: str = "anonymous",
    fetches: bool = False,
    declarations: bool = True,
) -> ScanResult:
    """Find the static imports of an ES module.

    ``data`` is the module (bytes are decoded as UTF-8, as browsers decode module
    scripts), ``url`` the URL specifiers are resolved against: the module's own URL,
    or the document's base URL for an inline ``<script type=module>``. ``line_offset``
    is added to every line number; with ``inline=True`` columns on the first line, which
    are relative to the embedding element, are reported as 0. ``crossorigin`` is the
    credentials mode the imports inherit from the module that imports them.

    Every reference has destination ``"script"`` (``"json"``/``"style"`` for JSON and
    CSS modules), ``module=True``, kind ``"module"``.

    With ``fetches=True`` (for classic scripts too) it also records, with kind
    ``"fetch"``, what the script fetches later through a literal URL:
    ``fetch("x")`` (destination ``fetch``), ``new Worker("x")`` (``worker``),
    ``importScripts("x")`` (``script``), ``import("x")`` (``script``, module) and
    Sphinx's ``Search.loadIndex("x")`` (``script``). ``declarations=False`` is for a
    classic script, where ``import``/``export`` declarations cannot stand: only its
    fetches are recorded.
    """
    source = as_text(data, decode_utf8, filename)
    text, encoding = source.text, source.encoding
    diagnostics = list(source.diagnostics)
    scanner = _Scanner(text, url, filename, line_offset, inline, crossorigin, diagnostics)
    scanner.fetches = fetches
    scanner.declarations = declarations
    scanner.run()
    if scanner.assertion is not None:
        # Chromium rejects the whole module ("Unexpected identifier 'assert'"), so it
        # fetches none of its imports: neither does pushgen.
        where = scanner._where(scanner.assertion.start)
        diagnostics.append(
            Diagnostic(
                filename,
                where.line,
                where.column,
                "import attributes written 'assert { ... }' are a SyntaxError in browsers,"
                " which then load nothing of this module; write 'with { ... }'."
                " Its imports are not followed",
            )
        )
        return ScanResult((), tuple(diagnostics), encoding)
    return ScanResult(tuple(scanner.references), tuple(diagnostics), encoding)


class _Scanner:
    def __init__(
        self,
        text: str,
        base: str,
        filename: str,
        line_offset: int,
        inline: bool,
        crossorigin: str,
        diagnostics: list[Diagnostic],
    ) -> None:
        self.text = text
        self.base = base
        self.filename = filename
        self.line_offset = line_offset
        self.inline = inline
        self.crossorigin = crossorigin
        self.diagnostics = diagnostics
        self.references: list[Reference] = []
        # Where the first `assert { ... }` clause starts: the module then fails to parse.
        self.assertion: Token | None = None
        self._problems: list[tuple[int, str]] = []
        self._previous_name = ""
        self.fetches = False
        self.declarations = True
        # Lazy: nothing is read before run() asks for the first token.
        stream = TokenStream(tokens(text, self._problems))
        self._next, self._peek, self._accept = stream.next, stream.peek, stream.accept
        # Incremental line counting: positions are asked for in increasing order.
        self._line_pos = 0
        self._line = 1
        self._line_start = 0

    def run(self) -> None:
        text = self.text
        # Nothing after the last "import"/"export" (or a name of _CALLS) can start a
        # declaration or a call this scanner records: stop there.
        words: tuple[str, ...] = ("import", "export") if self.declarations else ("import",)
        if self.fetches:
            words += (*_CALLS, *(method for _, method in _METHOD_CALLS))
        last = max(text.rfind(word) for word in words)
        if last < 0:
            return
        previous = ""
        owner = ""  # the name before a ".", for a method call
        while True:
            token = self._next()
            if token is None or token.start > last:
                break
            if token.kind == "name" and previous not in (".", "?."):
                if token.value == "import":
                    if not (self.fetches and self._call(token)) and self.declarations:
                        self._import()
                elif token.value == "export" and self.declarations:
                    self._export()
                elif self.fetches and token.value in _CALLS:
                    self._call(token)
            elif (
                token.kind == "name"
                and previous == "."
                and self.fetches
                and (owner, token.value) in _METHOD_CALLS
            ):
                self._call(token, _METHOD_CALLS[owner, token.value])
            if token.kind == "punct":
                owner = self._previous_name if token.value == "." else ""
            previous = token.value if token.kind == "punct" else ""
            self._previous_name = token.value if token.kind == "name" else ""
        for position, message in self._problems:
            where = self._where(position)
            self.diagnostics.append(Diagnostic(self.filename, where.line, where.column, message))

    # --- fetches through a literal URL --------------------------------------------------

    def _call(self, name: Token, fetched_as: tuple[str, bool] | None = None) -> bool:
        """Record ``fetch("x")``, ``new Worker("x")``, ``importScripts("x")`` or ``import("x")``.

        Only a string literal as the first argument counts: anything computed is
        unknowable here. A ``Worker`` must follow ``new``. Returns whether a call
        with a literal was read.
        """
        if name.value == "Worker" and self._previous_name != "new":
            return False
        opening = self._peek()
        literal = self._peek(1)
        closing = self._peek(2)
        if (
            opening is None
            or (opening.kind, opening.value) != ("punct", "(")
            or literal is None
            or literal.kind != "string"
            or closing is None
            or closing.value not in (")", ",")
        ):
            return False
        self._next()
        self._next()
        destination, module = fetched_as or _CALLS.get(name.value, ("script", True))
        where = self._where(literal.start)
        # fetch(), module workers and import() are in CORS mode; importScripts is not.
        cors = "anonymous" if destination in ("fetch", "worker") or module else None
        self._record(
            unescape(literal.value), where.line, where.column, destination, cors, module, "fetch"
        )
        return True

    # --- declarations (ECMAScript, section 16.2.2 "Imports" and 16.2.3 "Exports") --------

    def _import(self) -> None:
        token = self._peek()
        if token is None:
            return
        if token.kind == "string":  # import "x"
            self._next()
            self._specifier(token)
            return
        if token.kind == "name":
            after = self._peek(1)
            # Proposals ("import defer * as ns", "import source x from"): not followed.
            if after is not None and (
                (token.value == "defer" and after.value == "*")
                or (token.value == "source" and after.kind == "name" and after.value != "from")
            ):
                return
            self._next()  # the default binding
            if not self._accept("punct", ","):
                self._from()
                return
            token = self._peek()
            if token is None:
                return
        if token.kind == "punct" and token.value == "{":
            self._next()
            if self._skip_braces():
                self._from()
        elif token.kind == "punct" and token.value == "*":
            self._next()
            if self._accept("name", "as") and self._accept("name"):
                self._from()
        # Anything else ("(" of import(), "." of import.meta): not a declaration.

    def _export(self) -> None:
        token = self._peek()
        if token is None or token.kind != "punct":
            return
        if token.value == "*":
            self._next()
            if self._accept("name", "as") and not (self._accept("name") or self._accept("string")):
                return
            self._from()
        elif token.value == "{":
            self._next()
            if self._skip_braces():
                self._from()

    def _skip_braces(self) -> bool:
        """Step over a named imports/exports list up to its "}"."""
        while True:
            token = self._next()
            if token is None:
                return False
            if token.kind == "punct":
                if token.value == "}":
                    return True
                if token.value != ",":
                    return False  # not an import/export list after all

    def _from(self) -> bool:
        if self._accept("name", "from") is None:
            return False
        specifier = self._accept("string")
        if specifier is None:
            return False
        self._specifier(specifier)
        return True

    def _attributes(self) -> dict[str, str] | None:
        """``with { key: "value", ... }`` after a specifier (ECMAScript 2025, import attributes).

        ``assert`` is the older spelling, a SyntaxError in current browsers (V8 dropped
        it; tests/scenarios/test_chromium_urls.py): its first place is kept in ``assertion``.
        Returns None when the clause is malformed.
        """
        keyword = self._peek()
        brace = self._peek(1)
        if (
            keyword is None
            or keyword.kind != "name"
            or keyword.value not in ("with", "assert")
            or brace is None
            or brace.value != "{"
        ):
            return {}
        if keyword.value == "assert" and self.assertion is None:
            self.assertion = keyword
        self._next()
        self._next()
        attributes: dict[str, str] = {}
        while True:
            token = self._next()
            if token is None:
                return None
            if token.kind == "punct" and token.value == "}":
                return attributes
            if token.kind == "punct" and token.value == ",":
                continue
            if token.kind not in ("name", "string") or not self._accept("punct", ":"):
                return None
            value = self._accept("string")
            if value is None:
                return None
            key = token.value if token.kind == "name" else unescape(token.value)
            attributes[key] = unescape(value.value)

    def _specifier(self, token: Token) -> None:
        specifier = unescape(token.value)
        attributes = self._attributes()
        where = self._where(token.start)
        line, column = where.line, where.column
        if attributes is None:
            self._diagnose(line, column, f"malformed import attributes after {specifier!r}")
            return
        destination = "script"
        unknown = sorted(set(attributes) - {"type"})
        if unknown:
            self._diagnose(
                line,
                column,
                f"import of {specifier!r} has unsupported attribute {unknown[0]!r};"
                " browsers refuse to load the module",
            )
            return
        if "type" in attributes:
            found = _ATTRIBUTE_TYPES.get(attributes["type"])
            if found is None:
                self._diagnose(
                    line,
                    column,
                    f"import of {specifier!r} has unsupported type {attributes['type']!r};"
                    " browsers refuse to load the module",
                )
                return
            destination = found
        if not specifier.startswith(_RELATIVE_PREFIXES) and not _SCHEME.match(specifier):
            self._diagnose(
                line,
                column,
                f"bare module specifier {specifier!r} cannot be resolved without an import map;"
                " not followed",
            )
            return
        self._record(specifier, line, column, destination, self.crossorigin, True, "module")

    def _record(
        self,
        url: str,
        line: int,
        column: int,
        destination: str,
        crossorigin: str | None,
        module: bool,
        kind: ReferenceKind,
    ) -> None:
        resolved = resolve(url, self.base)
        if resolved is None:
            return
        problem = unservable(url, resolved)
        if problem is not None:
            self._diagnose(line, column, problem)
            return
        self.references.append(
            Reference.from_resolved(
                resolved,
                destination=destination,
                line=line,
                column=column,
                crossorigin=crossorigin,
                module=module,
                kind=kind,
            )
        )

    # --- locations ------------------------------------------------------------------------

    def _where(self, position: int) -> Position:
        if position < self._line_pos:  # out of order (end-of-scan problems): recount
            self._line_pos, self._line, self._line_start = 0, 1, 0
        text = self.text
        self._line += text.count("\n", self._line_pos, position)
        newline = text.rfind("\n", self._line_pos, position)
        if newline >= 0:
            self._line_start = newline + 1
        self._line_pos = position
        column = position - self._line_start + 1
        if self.inline and self._line == 1:
            column = 0
        return Position(self._line + self.line_offset, column)

    def _diagnose(self, line: int, column: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.filename, line, column, message))
