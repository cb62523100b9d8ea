"""Content-hashed names for static files (``fingerprint: true``): pure functions, bytes in, names out.

A file ``static/css/site.css`` gets the name ``static/css/site.3f2a9c1e.css``: its
stem, a dot, a hash of its content, its extension. The hash is the shortest prefix
(8 or more) of the SHA-256 hex digest that has both a digit and a letter, the form
the runtime's :func:`pushgen.hashed_names.fingerprinted` recognises (it needs
both, so that a date or a word is not taken for a hash).

References inside stylesheets (``url()``, ``@import``, ``image-set()``, font
sources) and ES modules (``import ... from``, ``export ... from``, ``import "x"``,
``import("x")`` with a literal) that name another static file are rewritten to
that file's hashed name, and a file's hash is computed after its references are
rewritten: a font change changes the name of the stylesheet that names it, and
of the stylesheet that imports that one, transitively (as Django's
ManifestStaticFilesStorage and whitenoise do). The references are found by
pushgen's own scanners (scan/css.py, scan/js.py), at the positions they report,
so what is rewritten is exactly what discovery follows.

Two cases need a rule:

* A reference to a static file that does not exist is left as written, with a
  warning at its ``file:line:col`` (whitenoise keeps the name too; Django raises
  under ``manifest_strict``): the page may still work, and the build says where.
* Files that name each other in a cycle (``a.css`` imports ``b.css``, which
  imports ``a.css``) cannot each be hashed after the other. Django gives up after
  a bounded number of passes; here the members of a cycle are hashed together:
  each member's hash covers the bytes of every member (references to files
  outside the cycle rewritten), so a change to any of them renames all of them,
  and then the references between members are rewritten to those names.

A file whose name a bundler hashed already (``app.4f3a1c9b.js``, as
:func:`pushgen.hashed_names.fingerprinted` recognises it) keeps its name
unless a reference inside it was renamed: then its bytes differ from what the
bundler hashed, and it gets a hash of its own (``app.4f3a1c9b.5e0d2a7c.js``).

Only ``static/`` files with an extension get a hashed name; ``.br``/``.gz``
siblings a site ships keep theirs. Stylesheets and modules that are not UTF-8
are hashed but not rewritten (with a warning).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from ..errors import Diagnostic
from ..hashed_names import fingerprinted
from ..model import Reference
from ..urls import document_url, url_path_to_relpath
from .found import DocKind
from .graph import scan_doc

__all__ = [
    "Edit",
    "FingerprintPlan",
    "Where",
    "content_hash",
    "file_name_at",
    "hashed_name",
    "is_document",
    "plan_fingerprints",
    "renamed",
    "text_edits",
]

_CSS = (".css",)
_JS = (".js", ".mjs")
_KEEP = (".br", ".gz")  # precompressed siblings: named after their file, never hashed
_BOM = "\ufeff"
# Line ends as each scanner counts lines: tinycss2 turns \r\n, \r and \f into \n
# (CSS Syntax 3, section 3.3); scan/js.py counts \n.
_CSS_LINES = re.compile(r"\r\n|\r|\f|\n")
_JS_LINES = re.compile(r"\n")


def content_hash(data: bytes) -> str:
    """The hash in a hashed name: the shortest prefix of ``data``'s SHA-256 hex digest of
    8 or more characters that holds a digit and a letter (see the module docs)."""
    digest = hashlib.sha256(data).hexdigest()
    for end in range(8, len(digest) + 1):
        prefix = digest[:end]
        if any(c.isdigit() for c in prefix) and any(c.isalpha() for c in prefix):
            return prefix
    return digest  # a digest of only digits or only letters: never met in SHA-256


def hashed_name(rel: str, digest: str) -> str:
    """``static/css/site.css`` with ``digest`` before its extension: ``static/css/site.<digest>.css``."""
    folder, base = posixpath.split(rel)
    stem, ext = posixpath.splitext(base)
    return posixpath.join(folder, f"{stem}.{digest}{ext}")


def _hashable(rel: str) -> bool:
    base = posixpath.basename(rel)
    stem, ext = posixpath.splitext(base)
    return bool(stem) and bool(ext) and not base.endswith(_KEEP)


@dataclass(frozen=True, slots=True)
class FingerprintPlan:
    """The hashed names of a site's static files, and the bytes of those that differ from their source."""

    names: dict[str, str]  # output path -> hashed output path (static/...)
    rewritten: dict[str, bytes]  # hashed output path -> its bytes, where references changed
    diagnostics: tuple[Diagnostic, ...]  # references left as written, and why


@dataclass(frozen=True, slots=True)
class Edit:
    """One reference to rewrite: the span of the referenced file's name in the text."""

    start: int
    end: int
    target: str  # the output path it names


@dataclass(frozen=True, slots=True)
class _Document:
    """A stylesheet or module as read for rewriting: its text and the references to rewrite."""

    text: str
    bom: bool
    edits: tuple[Edit, ...]


def is_document(rel: str) -> bool:
    """Whether ``rel`` is a stylesheet or module whose references are rewritten (its bytes are needed)."""
    return _hashable(rel) and rel.endswith(_CSS + _JS)


def plan_fingerprints(
    files: Mapping[str, bytes],
    base_path: str = "/",
    digests: Mapping[str, str] | None = None,
) -> FingerprintPlan:
    """The hashed names of ``files`` (output path -> bytes) and the rewritten bytes (module docs).

    ``digests``: the :func:`content_hash` of more files, by output path, whose bytes
    are not needed (no stylesheet or module): a build keeps them from one build to
    the next rather than read every image again.
    """
    diagnostics: list[Diagnostic] = []
    documents: dict[str, _Document] = {}
    known = {*files, *(digests or {})}
    for rel, data in files.items():
        if is_document(rel):
            document = _read_document(rel, data, known, base_path, diagnostics)
            if document is not None:
                documents[rel] = document
    edges = {rel: {e.target for e in doc.edits} for rel, doc in documents.items()}
    names: dict[str, str] = {}
    rewritten: dict[str, bytes] = {}
    hashes = {rel: content_hash(data) for rel, data in files.items() if rel not in documents}
    hashes.update(digests or {})
    for group in _components(sorted(known), edges):
        _hash_group(group, _Contents(files, hashes), documents, names, rewritten)
    return FingerprintPlan(names, rewritten, tuple(diagnostics))


@dataclass(frozen=True, slots=True)
class _Contents:
    """What a plan knows of each file: the bytes of stylesheets and modules, the hash of the rest."""

    files: Mapping[str, bytes]
    hashes: Mapping[str, str]  # of the files that are no document


def _hash_group(
    group: list[str],
    contents: _Contents,
    documents: Mapping[str, _Document],
    names: dict[str, str],
    rewritten: dict[str, bytes],
) -> None:
    """Name the files of one strongly connected component, whose dependencies are named already."""
    members = set(group)
    hashable = [rel for rel in group if _hashable(rel)]
    files = contents.files
    if len(group) == 1 and group[0] not in _edges_of(documents, group[0]):
        rel = group[0]
        if not _hashable(rel):
            return
        if rel not in documents:
            if not fingerprinted(rel):  # a bundler's hashed name keeps it (module docs)
                names[rel] = hashed_name(rel, contents.hashes[rel])
            return
        data = _apply(rel, files[rel], documents, names)
        if data == files[rel] and fingerprinted(rel):
            return  # a bundler's hashed name, none of its references renamed: it keeps it
        names[rel] = hashed_name(rel, content_hash(data))
        if data != files[rel]:
            rewritten[names[rel]] = data
        return
    # A cycle: every member's hash covers the whole cycle (references leaving it rewritten).
    outside = {rel: _apply(rel, files[rel], documents, names, skip=members) for rel in group}
    whole = b"".join(rel.encode() + b"\0" + outside[rel] for rel in sorted(group))
    for rel in hashable:
        names[rel] = hashed_name(rel, content_hash(rel.encode() + b"\0" + whole))
    for rel in hashable:
        data = _apply(rel, files[rel], documents, names)
        if data != files[rel]:
            rewritten[names[rel]] = data


def _edges_of(documents: Mapping[str, _Document], rel: str) -> set[str]:
    """The files ``rel`` names (none for a file that is not a stylesheet or module)."""
    document = documents.get(rel)
    return {e.target for e in document.edits} if document is not None else set()


def _apply(
    rel: str,
    data: bytes,
    documents: Mapping[str, _Document],
    names: Mapping[str, str],
    skip: Iterable[str] = (),
) -> bytes:
    """``data`` with its references to named files rewritten (those to ``skip`` left as written)."""
    document = documents.get(rel)
    if document is None or not document.edits:
        return data
    left = set(skip)
    pieces: list[str] = []
    at = 0
    text = document.text
    for edit in document.edits:
        if edit.target in left or edit.target not in names:
            continue
        old = text[edit.start : edit.end]
        pieces += (text[at : edit.start], renamed(old, names[edit.target]))
        at = edit.end
    pieces.append(text[at:])
    return ((_BOM if document.bom else "") + "".join(pieces)).encode("utf-8")


def _read_document(
    rel: str,
    data: bytes,
    files: Collection[str],
    base_path: str,
    diagnostics: list[Diagnostic],
) -> _Document | None:
    """The text of a stylesheet or module and the spans of its references to static files."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        message = "not UTF-8: its references are not rewritten to hashed names"
        diagnostics.append(Diagnostic(rel, 0, 0, message))
        return None
    bom = text.startswith(_BOM)
    text = text.removeprefix(_BOM)
    kind: DocKind = "css" if rel.endswith(_CSS) else "js"
    # The scan the resolver makes of the same file (graph.py): what is rewritten is what it follows.
    found = scan_doc(kind, text.encode(), document_url(base_path + rel), rel).references
    where = Where(rel, files, base_path)
    return _Document(text, bom, text_edits(text, kind, found, where, diagnostics))


@dataclass(frozen=True, slots=True)
class Where:
    """What a reference is resolved against: the file (or page) it is in, and the static files."""

    filename: str  # in diagnostics
    files: Collection[str]  # every static file, by output path
    base_path: str
    report_missing: bool = True  # a page's missing files are the build's to report


def text_edits(
    text: str,
    kind: DocKind,
    found: Iterable[Reference],
    where: Where,
    diagnostics: list[Diagnostic],
) -> tuple[Edit, ...]:
    """The spans in a stylesheet's or module's ``text`` of the file names of the references
    a scan of it ``found`` (what the resolver follows) that name a static file, in order."""
    css = kind == "css"
    # A module's imports; what a script fetches at run time is not rewritten.
    references = found if css else (r for r in found if r.kind == "module" or r.module)
    starts = _line_starts(text, _CSS_LINES if css else _JS_LINES)
    edits: list[Edit] = []
    for reference in references:
        edit = _locate(reference, text, starts, where, diagnostics)
        if edit is not None:
            edits.append(edit)
    # One edit per place: a scanner may report one token twice (as a font and as a url).
    unique = {edit.start: edit for edit in edits}
    return tuple(sorted(unique.values(), key=lambda e: e.start))


def _line_starts(text: str, newline: re.Pattern[str]) -> list[int]:
    return [0, *(m.end() for m in newline.finditer(text))]


def _locate(
    reference: Reference,
    text: str,
    starts: list[int],
    where: Where,
    diagnostics: list[Diagnostic],
) -> Edit | None:
    """Where in ``text`` the file name of ``reference`` is written; None when it names no
    static file to rename (a missing one is reported)."""
    if not reference.local:
        return None
    target = url_path_to_relpath(reference.path, where.base_path)
    if target is None or not target.startswith("static/"):
        return None
    if target not in where.files:
        if where.report_missing:
            message = (
                f"{reference.path} names no file under static/: left as written (no hashed name)"
            )
            diagnostics.append(
                Diagnostic(where.filename, reference.line, reference.column, message)
            )
        return None
    if not _hashable(target):
        return None
    return _span(reference, text, starts, target, where.filename, diagnostics)


def _span(
    reference: Reference,
    text: str,
    starts: list[int],
    target: str,
    rel: str,
    diagnostics: list[Diagnostic],
) -> Edit | None:
    """The span of ``target``'s file name in the token the scanner found at the reference's place.

    The scanners report the start of the token (``url(``, the opening quote, the
    function's name); the token ends at its closing quote or parenthesis. The file
    name is the last occurrence of its base name (as written or percent-encoded)
    before the token's query or fragment.
    """
    if not 1 <= reference.line <= len(starts) or reference.column < 1:
        return None
    offset = starts[reference.line - 1] + reference.column - 1
    end = _token_end(text, offset)
    found = file_name_at(text[offset:end], target)
    if found is not None:
        return Edit(offset + found.start, offset + found.end, target)
    message = (
        f"{reference.path}: its file name is written in a way pushgen does not rewrite"
        " (escapes): left as written (no hashed name)"
    )
    diagnostics.append(Diagnostic(rel, reference.line, reference.column, message))
    return None


def file_name_at(token: str, target: str) -> Edit | None:
    """The span in ``token`` (a URL as written) of the file name of ``target`` (an output path):
    the last occurrence of its base name, as written or percent-encoded, before the
    URL's query or fragment. None when it is written otherwise (escapes)."""
    base = posixpath.basename(target)
    cut = min((i for i in (token.find("?"), token.find("#")) if i >= 0), default=len(token))
    for written in dict.fromkeys((base, quote(base))):
        found = token.rfind(written, 0, cut)
        if found >= 0:
            return Edit(found, found + len(written), target)
    return None


def renamed(old: str, hashed: str) -> str:
    """The file name written in place of ``old`` for the output path ``hashed``: its base
    name, percent-encoded when ``old`` was."""
    new = posixpath.basename(hashed)
    return new if "%" not in old else quote(new)


def _token_end(text: str, offset: int) -> int:
    """The end of the string or ``url(...)``/function token starting at ``offset``."""
    if offset < len(text) and text[offset] in "'\"":
        end = text.find(text[offset], offset + 1)
        return len(text) if end < 0 else end
    end = text.find(")", offset)
    return len(text) if end < 0 else end


def _components(nodes: list[str], edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of the graph, dependencies first (Tarjan's
    algorithm, iterative: a chain of thousands of imports must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                found.append(sorted(group))
    return found
