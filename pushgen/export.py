"""Exporting a push manifest to CDNs and web servers: one configuration text per target.

Every target gets, per route, the entries the runtime would send
(:meth:`Manifest.assets`: generated entries with the rules and their policies
applied), written in the target's own syntax:

==============  ===================================================================
``netlify``     Netlify ``_headers``: a path line, then indented ``Link:`` lines
``cloudflare``  Cloudflare Pages ``_headers``: the same syntax, within its limits
``firebase``    Firebase Hosting ``firebase.json``: ``hosting.headers`` with globs
``nginx``       an nginx include file: a ``location`` per route with ``add_header``
``h2o``         an h2o ``paths`` fragment: an mruby handler adding ``link`` headers
``apache``      an Apache httpd include file: ``<LocationMatch>`` with ``Header add``
``json``        a plain JSON map, route -> ``Link`` header value
==============  ===================================================================

``push-manifest`` (``push_manifest.json``) lives in :mod:`pushgen.push_manifest`
and is reachable through :func:`export_manifest` too.

Only hinted entries become ``Link`` values (the same values as the runtime's,
:func:`pushgen.headers.link_value`). Servers that push on ``Link: rel=preload``
(nginx ``http2_push_preload``, h2o, Apache ``mod_http2``) get ``; nopush`` on
entries that are hinted but not pushed, and a push-only instruction for entries
that are pushed but not hinted. CDNs do not push, so push-only entries are left
out of their files.

Route patterns (rules whose ``match`` is a glob or a Quart rule and that ``add``
entries) become the target's own pattern syntax — a regular expression location,
a splat or a placeholder — and are refused, naming the rule's line, where the
target has nothing equivalent. Where a target cannot carry everything (a limit on
rules or on header length, a push limit, a character it cannot write) the entry
is left out and the result says so in :attr:`ExportResult.cuts`.

Everything here is pure: a :class:`~pushgen.manifest.Manifest` in, text and
what was cut out. The CLI decides what to do with them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from urllib.parse import unquote

from .errors import Diagnostic
from .manifest import Manifest
from .model import Asset
from .rules import RoutePattern, Rule, resolve_route
from .runtime.headers import link_value, route_aliases, wire_path

__all__ = [
    "CLOUDFLARE_MAX_LINE",
    "CLOUDFLARE_MAX_RULES",
    "FORMATS",
    "NGINX_MAX_PUSHES",
    "Cut",
    "ExportResult",
    "export_manifest",
]

# Format name -> what it is, for messages and `--help`.
FORMATS: Mapping[str, str] = {
    "netlify": "Netlify _headers",
    "cloudflare": "Cloudflare Pages _headers",
    "firebase": "Firebase Hosting headers (firebase.json)",
    "nginx": "nginx include file",
    "h2o": "h2o paths fragment",
    "apache": "Apache httpd include file",
    "json": "JSON map route -> Link header value",
    "push-manifest": "push_manifest.json (http2-push-manifest, polymer-build, prpl-server)",
}

# "A project is limited to 100 header rules. Each line in the _headers file has a
# 2,000 character limit. The entire line, including spacing, header name, and value,
# counts towards the limit."
# (https://developers.cloudflare.com/pages/configuration/headers/)
CLOUDFLARE_MAX_RULES = 100
CLOUDFLARE_MAX_LINE = 2000

# http2_max_concurrent_pushes defaults to 10 ("Limits the maximum number of concurrent
# push requests in a connection", https://nginx.org/en/docs/http/ngx_http_v2_module.html);
# nginx 1.22 silently skips the pushes of a response beyond it.
NGINX_MAX_PUSHES = 10


@dataclass(frozen=True, slots=True)
class Cut:
    """Something of the manifest the target could not carry, and why.

    ``route`` is the manifest route or the rule's ``match`` text; ``path`` is the
    entry left out (or pushed no more), or None when the whole route or rule was
    left out; ``line`` is where the route or rule is in the manifest (0 unknown).
    """

    route: str
    path: str | None
    reason: str
    line: int = 0
    # True when ``route`` is a rule's pattern (a glob or a Quart rule).
    pattern: bool = False

    def __str__(self) -> str:
        where = f"rule `match: {self.route}`" if self.pattern else f"route {self.route}"
        return where + (f": {self.path}" if self.path else "") + f": {self.reason}"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """The exported text, what was cut, and the errors that stopped the export.

    When ``errors`` is not empty, ``text`` is empty: the manifest holds something
    the target cannot express at all (a route pattern it has no syntax for).
    """

    format: str
    text: str
    cuts: tuple[Cut, ...] = ()
    errors: tuple[Diagnostic, ...] = ()
    filename: str = "manifest"

    @property
    def ok(self) -> bool:
        """True when the export produced a text (perhaps with cuts)."""
        return not self.errors

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """One warning per cut, located at the route's or rule's line in the manifest."""
        return tuple(
            Diagnostic(self.filename, cut.line, 0, str(cut), "warning") for cut in self.cuts
        )

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Errors, then warnings."""
        return self.errors + self.warnings


# --- what each route sends ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hint:
    """One entry as the target sees it: its wire path, its Link value (if hinted), push."""

    path: str
    link: str | None
    push: bool


@dataclass(frozen=True, slots=True)
class _Block:
    """An exact route, or a pattern rule that adds entries, with what it sends.

    ``sample`` is a path the pattern matches (the route itself for an exact route).
    """

    route: str
    line: int
    hints: tuple[_Hint, ...]
    pattern: RoutePattern | None = None
    sample: str = ""

    @property
    def links(self) -> list[str]:
        return [h.link for h in self.hints if h.link is not None]


@dataclass
class _Context:
    """Collects cuts and errors while one export runs."""

    manifest: Manifest
    format: str
    cuts: list[Cut] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return self.manifest.filename

    @property
    def title(self) -> str:
        return FORMATS[self.format]

    def cut(self, block: _Block, path: str | None, reason: str) -> None:
        self.cuts.append(Cut(block.route, path, reason, block.line, block.pattern is not None))

    def refuse(self, block: _Block, reason: str, *, skip: bool) -> None:
        """A pattern the target cannot express: an error, or a cut with ``skip_patterns``."""
        if skip:
            self.cut(block, None, f"left out: {reason}")
            return
        message = (
            f"rule `match: {block.route}`: {reason}; remove the rule, rewrite its match, or "
            "export with --skip-patterns to leave it out"
        )
        self.errors.append(Diagnostic(self.filename, block.line, 0, message, "error"))


def _hints(
    ctx: _Context, block_route: str, line: int, assets: Iterable[Asset], *, pattern: bool = False
) -> tuple[_Hint, ...]:
    out: list[_Hint] = []
    for asset in assets:
        try:
            link = link_value(asset)
        except ValueError as exc:
            ctx.cuts.append(Cut(block_route, asset.path, f"not hinted: {exc}", line, pattern))
            link = None
        if link is None and not asset.push:
            continue
        out.append(_Hint(wire_path(asset.path), link, asset.push))
    return tuple(out)


def _rule_line(manifest: Manifest, route: str) -> int:
    line = manifest.lines.get(route, 0)
    if line:
        return line
    return next(
        (r.line for r in manifest.rules if r.match.kind == "exact" and r.match.text == route), 0
    )


def _exact_blocks(ctx: _Context, size_of: Callable[[str], int | None]) -> list[_Block]:
    """Every route of the manifest (generated ones and exact rule routes) that sends something."""
    manifest = ctx.manifest
    routes = set(manifest.routes) | {
        r.match.text for r in manifest.rules if r.match.kind == "exact"
    }
    blocks: list[_Block] = []
    for route in sorted(routes):
        line = _rule_line(manifest, route)
        hints = _hints(ctx, route, line, manifest.assets(route, size_of=size_of))
        if hints:
            blocks.append(_Block(route, line, hints, None, route))
    return blocks


# --- route patterns -----------------------------------------------------------------

# The same variable syntax as pushgen.rules (Quart / Werkzeug rules).
_VARIABLE = re.compile(
    r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
# Regular expressions every target's engine reads alike (PCRE in nginx and Apache,
# RE2 in Firebase, Onigmo in h2o's mruby, and Python's re for checking overlaps).
_CONVERTER_REGEX = {
    "default": "[^/]+",
    "string": "[^/]+",
    "any": "[^/]+",
    "int": "[0-9]+",
    "float": "[0-9]+\\.[0-9]+",
    "path": "[^/].*",
    "uuid": "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
}
_CONVERTER_SAMPLE = {"int": "1", "float": "1.0", "uuid": "00000000-0000-0000-0000-000000000000"}

# (kind, value): kind is "lit", "star" (one segment, glob *), "globstar" (**),
# "qmark" (?) or "var" (value = "converter:name").
_Token = tuple[str, str]


def _tokens(pattern: RoutePattern) -> list[_Token]:
    text = pattern.text
    if text in ("*", "**"):
        return [("lit", "/"), ("globstar", "")]
    out: list[_Token] = []
    if pattern.kind == "rule":
        last = 0
        for variable in _VARIABLE.finditer(text):
            if variable.start() > last:
                out.append(("lit", text[last : variable.start()]))
            converter = variable.group("converter") or "default"
            out.append(("var", f"{converter}:{variable.group('name')}"))
            last = variable.end()
        if last < len(text):
            out.append(("lit", text[last:]))
        return out
    i = 0
    literal = ""
    while i < len(text):
        if text.startswith("**", i):
            kind, i = "globstar", i + 2
        elif text[i] in "*?":
            kind, i = ("star" if text[i] == "*" else "qmark"), i + 1
        else:
            literal += text[i]
            i += 1
            continue
        if literal:
            out.append(("lit", literal))
            literal = ""
        out.append((kind, ""))
    if literal:
        out.append(("lit", literal))
    return out


def _sample(tokens: Sequence[_Token]) -> str:
    parts = []
    for kind, value in tokens:
        if kind == "lit":
            parts.append(value)
        elif kind == "var":
            parts.append(_CONVERTER_SAMPLE.get(value.split(":")[0], "x"))
        else:
            parts.append("x")
    return "".join(parts)


def _escape(literal: str) -> str:
    """``literal`` for a regular expression: every ASCII punctuation but '/' escaped."""
    return "".join(
        "\\" + c if c.isascii() and not c.isalnum() and c not in "/_-%~" else c for c in literal
    )


def _regex(tokens: Sequence[_Token], *, decode: bool = False) -> str:
    """The unanchored regular expression of a pattern; ``decode`` percent-decodes literals."""
    parts = []
    for kind, value in tokens:
        if kind == "lit":
            parts.append(_escape(unquote(value) if decode else value))
        elif kind == "var":
            parts.append(_CONVERTER_REGEX.get(value.split(":")[0], "[^/]+"))
        else:
            parts.append({"star": "[^/]*", "globstar": ".*", "qmark": "[^/]"}[kind])
    return "".join(parts)


def _pattern_blocks(ctx: _Context, size_of: Callable[[str], int | None]) -> list[_Block]:
    """One block per distinct pattern that rules ``add`` entries to, with a sample path's entries."""
    manifest = ctx.manifest
    blocks: list[_Block] = []
    seen: set[str] = set()
    for rule in manifest.patterns:
        if not rule.add or rule.match.text in seen:
            continue
        seen.add(rule.match.text)
        sample = _sample(_tokens(rule.match))
        if not rule.match.matches(sample):  # pragma: no cover - samples are built to match
            sample = "/"
        decisions = resolve_route(
            sample, (), manifest.rules, size_of=size_of, source=manifest.filename
        )
        assets = [d.asset for d in decisions if not d.removed]
        hints = _hints(ctx, rule.match.text, rule.line, assets, pattern=True)
        if hints:
            blocks.append(_Block(rule.match.text, rule.line, hints, rule.match, sample))
    return blocks


def _matching_rules(rules: Sequence[Rule], path: str) -> int:
    return sum(1 for rule in rules if rule.add and rule.match.matches(path))


def _order(ctx: _Context, patterns: list[_Block], *, specific_first: bool) -> list[_Block]:
    """Pattern blocks ordered by how many pattern rules their sample path meets."""
    rules = ctx.manifest.patterns

    def key(block: _Block) -> tuple[int, int]:
        count = _matching_rules(rules, block.sample)
        return (-count if specific_first else count, block.line)

    return sorted(patterns, key=key)


def _layout(
    ctx: _Context,
    exact: list[_Block],
    patterns: list[_Block],
    regex: Mapping[str, re.Pattern[str]],
    mode: str,
    names: Mapping[str, str] | None = None,
) -> tuple[list[_Block], list[_Block]]:
    """Fit the blocks to how the target combines rules that match one request.

    ``mode`` is "merge" (every matching rule adds its headers: Netlify, Cloudflare,
    Apache), "first" (one location or handler entry wins, exact ones first: nginx,
    h2o) or "override" (every matching rule applies and a later one replaces the
    same header: Firebase). ``regex`` gives, per pattern text, what the target's
    own pattern matches; ``names`` the path a route is written as, when the target
    serves it under another (Cloudflare drops ``.html``). Returns the exact and
    pattern blocks to write, in order.
    """

    def hits(block: _Block, path: str) -> bool:
        # Server patterns match the decoded path; CDN ones the path as written.
        pattern = regex[block.route]
        return pattern.match(path) is not None or pattern.match(unquote(path)) is not None

    if mode == "first":
        ordered = _order(ctx, patterns, specific_first=True)
        for block in ordered:
            first = next((b for b in ordered if hits(b, block.sample)), block)
            if first is not block and first.hints != block.hints:
                ctx.cut(
                    block,
                    None,
                    f"paths like {block.sample} also match `{first.route}`, which comes first "
                    f"in the {ctx.title} and sends its entries instead",
                )
        return exact, ordered
    if mode == "override":
        ordered = _order(ctx, patterns, specific_first=False)
        for block in ordered:
            last = next((b for b in reversed(ordered) if hits(b, block.sample)), block)
            if last is not block and last.hints != block.hints:
                ctx.cut(
                    block,
                    None,
                    f"paths like {block.sample} also match `{last.route}`, which comes later "
                    f"in the {ctx.title} and replaces its Link header",
                )
        return exact, ordered
    # merge: each pattern block carries only what the blocks before it (more general
    # ones) do not already send for its sample path; each route what the patterns do not.
    reduced: list[_Block] = []
    for block in _order(ctx, patterns, specific_first=False):
        covered = {h.path for b in reduced if hits(b, block.sample) for h in b.hints}
        reduced.append(replace(block, hints=tuple(h for h in block.hints if h.path not in covered)))
    reduced = [b for b in reduced if b.hints]
    routes: list[_Block] = []
    for block in exact:
        written = names.get(block.route, block.route) if names else block.route
        applying = [b for b in reduced if hits(b, written)]
        covered_hints = {h.path: h for b in applying for h in b.hints}
        own = {h.path: h for h in block.hints}
        for path, hint in covered_hints.items():
            if own.get(path) != hint:
                source = next(b.route for b in applying if hint in b.hints)
                what = "adds it" if path not in own else "sends it differently"
                ctx.cut(
                    block,
                    path,
                    f"the {ctx.title} also applies `{source}` to this route, which {what}",
                )
        kept = tuple(h for h in block.hints if h.path not in covered_hints)
        if kept:
            routes.append(replace(block, hints=kept))
    return routes, reduced


# --- common helpers -----------------------------------------------------------------


def _header(ctx: _Context, comment: str, lines: Sequence[str]) -> list[str]:
    name = PurePosixPath(ctx.filename).name
    out = [f"{comment} Written by `pushgen export --format {ctx.format}` from {name}; do not edit:"]
    out.append(f"{comment} change the manifest and export again.")
    out.extend(f"{comment} {line}".rstrip() for line in lines)
    return out


def _server_aliases(manifest: Manifest, route: str, pretty_urls: bool) -> list[str]:
    """The paths a server answers for ``route`` with the page itself (not a redirect).

    An alias that is a route of its own belongs to that route, as in the runtime.
    """
    aliases = list(route_aliases(route, pretty_urls=pretty_urls))
    routes = set(manifest.routes) | {
        r.match.text for r in manifest.rules if r.match.kind == "exact"
    }
    return [a for a in aliases if a + "/" not in aliases and (a == route or a not in routes)]


def _apply_push_limit(
    ctx: _Context, blocks: list[_Block], max_pushes: int | None, push: bool, limit: str = ""
) -> list[_Block]:
    """Turn pushes beyond ``max_pushes`` (or all, without ``push``) into hints only."""
    out = []
    for block in blocks:
        hints: list[_Hint] = []
        count = 0
        for hint in block.hints:
            if hint.push and not push:
                hint = replace(hint, push=False)
            elif hint.push:
                count += 1
                if max_pushes is not None and count > max_pushes:
                    action = "not pushed" if hint.link else "left out (push only)"
                    limit = limit or f"the limit of {max_pushes} pushes per response"
                    ctx.cut(block, hint.path, f"{action}: over {limit}")
                    hint = replace(hint, push=False)
            if hint.link is None and not hint.push:
                continue
            hints.append(hint)
        if hints:
            out.append(replace(block, hints=tuple(hints)))
    return out


def _pushes_on_link(link: str | None) -> bool:
    """Whether a server that pushes on Link headers pushes this value: rel=preload only.

    nginx, h2o and mod_http2 read ``rel=preload`` (https://w3c.github.io/preload/#server-push-http-2);
    ``rel=modulepreload`` is not pushed, so module scripts are pushed by path.
    """
    return link is not None and "; rel=preload;" in link + ";"


def _refuse_patterns(ctx: _Context, patterns: list[_Block], skip: bool) -> None:
    for block in patterns:
        ctx.refuse(block, "a JSON map's keys are exact routes, with no pattern syntax", skip=skip)


# --- Netlify and Cloudflare Pages _headers ------------------------------------------------

_PLACEHOLDER_CONVERTERS = frozenset({"default", "string", "any"})


def _splat_pattern(tokens: Sequence[_Token]) -> tuple[str, str] | str:
    """(target pattern, Python regex) in ``_headers`` syntax, or why there is none.

    Both hosts read ``*`` as a splat that matches anything, '/' included, and
    ``:name`` as a placeholder for one whole path segment
    (https://docs.netlify.com/manage/routing/headers/,
    https://developers.cloudflare.com/pages/configuration/headers/). A splat is only
    written at the end, and so at most once, as both document it; a placeholder
    name is used once per path.
    """
    out: list[str] = []
    regex: list[str] = []
    used: set[str] = set()

    def placeholder(wanted: str) -> str:
        name = wanted if re.fullmatch(r"[A-Za-z]\w*", wanted) and wanted not in used else ""
        number = len(used)
        while not name or name in used:
            number += 1
            name = f"p{number}"
        used.add(name)
        return ":" + name

    for index, (kind, value) in enumerate(tokens):
        last = index == len(tokens) - 1
        previous = tokens[index - 1] if index else ("lit", "")
        following = tokens[index + 1] if not last else ("lit", "/")
        whole_segment = previous[0] == "lit" and previous[1].endswith("/")
        whole_segment = whole_segment and following[0] == "lit" and following[1].startswith("/")
        converter, _, name = value.partition(":")
        if kind == "lit":
            if "*" in value or any(s.startswith(":") for s in value.split("/")):
                return f"its literal part {value!r} would read as a splat or a placeholder"
            out.append(value)
            regex.append(_escape(value))
        elif kind == "globstar" or (kind == "var" and converter == "path"):
            if not last or not whole_segment:
                return "a '**' or <path:...> that is not the whole end of the path has no splat equivalent"
            out.append("*")
            regex.append(".*")
        elif kind == "star" and whole_segment:
            # One segment: a splat would also cross '/', so a placeholder it is. (The
            # glob also matches an empty segment, a placeholder does not.)
            out.append(placeholder(""))
            regex.append("[^/]+")
        elif kind == "var" and whole_segment:
            if converter not in _PLACEHOLDER_CONVERTERS:
                return f"placeholders match any segment, with no equivalent of the <{converter}:...> converter"
            out.append(placeholder(name))
            regex.append("[^/]+")
        else:
            return "a wildcard or variable inside a path segment has no splat or placeholder equivalent"
    return "".join(out), "".join(regex)


def _cloudflare_route(route: str) -> str:
    # "Pages will also redirect HTML pages to their extension-less counterparts:
    # /contact.html will be redirected to /contact, and /about/index.html will be
    # redirected to /about/." (https://developers.cloudflare.com/pages/configuration/serving-pages/)
    if route.endswith("/index.html"):
        return route[: -len("index.html")]
    if route.endswith(".html"):
        return route[: -len(".html")]
    return route


def _headers_file(ctx: _Context, exact: list[_Block], patterns: list[_Block], skip: bool) -> str:
    cloudflare = ctx.format == "cloudflare"
    names: dict[str, str] = {}
    regex: dict[str, re.Pattern[str]] = {}
    kept_patterns: list[_Block] = []
    for block in patterns:
        assert block.pattern is not None
        converted = _splat_pattern(_tokens(block.pattern))
        if isinstance(converted, str):
            ctx.refuse(block, f"{ctx.title} cannot express it: {converted}", skip=skip)
            continue
        names[block.route], pattern_regex = converted
        regex[block.route] = re.compile(pattern_regex + r"\Z")
        kept_patterns.append(block)
    routes: list[_Block] = []
    seen: dict[str, str] = {}
    for block in exact:
        name = _cloudflare_route(block.route) if cloudflare else block.route
        if "*" in name or any(s.startswith(":") for s in name.split("/")) or " " in name:
            ctx.cut(block, None, f"left out: {ctx.title} would read the route as a pattern")
            continue
        if name in seen:
            ctx.cut(
                block, None, f"left out: {ctx.title} serves it at {name}, as route {seen[name]}"
            )
            continue
        seen[name] = block.route
        names[block.route] = name
        routes.append(replace(block, hints=tuple(h for h in block.hints if h.link)))
    routes = [b for b in routes if b.hints]
    kept_patterns = [replace(b, hints=tuple(h for h in b.hints if h.link)) for b in kept_patterns]
    routes, kept_patterns = _layout(ctx, routes, kept_patterns, regex, "merge", names)
    blocks = routes + kept_patterns
    if cloudflare and len(blocks) > CLOUDFLARE_MAX_RULES:
        # Pattern rules cover many pages each: keep them, and the first routes.
        room = max(CLOUDFLARE_MAX_RULES - len(kept_patterns), 0)
        for block in routes[room:] + kept_patterns[CLOUDFLARE_MAX_RULES:]:
            ctx.cut(block, None, f"left out: {ctx.title} allows {CLOUDFLARE_MAX_RULES} rules")
        blocks = routes[:room] + kept_patterns[:CLOUDFLARE_MAX_RULES]
    if cloudflare:
        notes = [
            "Put it in the build output folder. Cloudflare Pages sends the Link values as",
            "103 Early Hints once it has seen them (Early Hints is on for Pages projects).",
            f"Limits: {CLOUDFLARE_MAX_RULES} rules, {CLOUDFLARE_MAX_LINE} characters a line.",
        ]
    else:
        notes = ["Put it in the publish directory; every rule matching a request adds its headers."]
    out = _header(ctx, "#", notes)
    for block in blocks:
        out.append("")
        out.append(names[block.route])
        links = block.links
        if cloudflare:
            # One line per rule, so the combined value is what the limit measures.
            prefix = "  Link: "
            while links and len(prefix + ", ".join(links)) > CLOUDFLARE_MAX_LINE:
                dropped = links.pop()
                path = next(h.path for h in block.hints if h.link == dropped)
                ctx.cut(
                    block,
                    path,
                    f"left out: the Link line would pass {CLOUDFLARE_MAX_LINE} characters",
                )
            if links:
                out.append(prefix + ", ".join(links))
            else:
                del out[-2:]
        else:
            out.extend(f"  Link: {link}" for link in links)
    return "\n".join(out) + "\n"


# --- Firebase Hosting -----------------------------------------------------------------------

# Characters that mean something in Firebase's glob syntax beyond * ** and ?
# (extglobs such as @(a|b), sets, braces, negation).
_FIREBASE_GLOB_SPECIAL = re.compile(r"[\[\]{}()!@+|\\?*]")


def _firebase(ctx: _Context, exact: list[_Block], patterns: list[_Block]) -> str:
    """``hosting.headers``: ``source`` globs (``*`` one segment, ``**`` any), or ``regex`` (RE2).

    "Specify either source or regex"; a glob ``source`` or an RE2 ``regex`` is matched
    against the request URL path (https://firebase.google.com/docs/hosting/full-config#headers).
    """
    regex: dict[str, re.Pattern[str]] = {}
    match_key: dict[str, tuple[str, str]] = {}
    for block in patterns:
        assert block.pattern is not None
        tokens = _tokens(block.pattern)
        expression = _regex(tokens)
        regex[block.route] = re.compile(expression + r"\Z")
        literal_ok = all(
            kind != "lit" or not _FIREBASE_GLOB_SPECIAL.search(value) for kind, value in tokens
        )
        if block.pattern.kind == "glob" and literal_ok:
            glob = "**" if block.route in ("*", "**") else block.route
            match_key[block.route] = ("source", glob)
        else:
            match_key[block.route] = ("regex", f"^{expression}$")
    for block in exact:
        if _FIREBASE_GLOB_SPECIAL.search(block.route):
            match_key[block.route] = ("regex", f"^{_escape(block.route)}$")
        else:
            match_key[block.route] = ("source", block.route)
    exact = [replace(b, hints=tuple(h for h in b.hints if h.link)) for b in exact]
    patterns = [replace(b, hints=tuple(h for h in b.hints if h.link)) for b in patterns]
    exact, patterns = _layout(
        ctx, [b for b in exact if b.hints], [b for b in patterns if b.hints], regex, "override"
    )
    # Later rules replace the Link header of earlier ones on the same request
    # (firebase/firebase-tools#9467), so routes come after the patterns.
    headers = []
    for block in patterns + exact:
        key, value = match_key[block.route]
        headers.append({key: value, "headers": [{"key": "Link", "value": ", ".join(block.links)}]})
    # JSON has no comments: this is firebase.json's shape, to merge into yours.
    document = {"hosting": {"headers": headers}}
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


# --- JSON map -------------------------------------------------------------------------------


def _json_map(ctx: _Context, exact: list[_Block], patterns: list[_Block], skip: bool) -> str:
    _refuse_patterns(ctx, patterns, skip)
    data = {b.route: ", ".join(b.links) for b in exact if b.links}
    return json.dumps(data, indent=2, ensure_ascii=True, sort_keys=True) + "\n"


# --- nginx ----------------------------------------------------------------------------------


def _nginx_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _nginx(
    ctx: _Context,
    exact: list[_Block],
    patterns: list[_Block],
    *,
    pretty_urls: bool,
    push: bool,
    max_pushes: int | None,
) -> str:
    """One ``location`` per path that serves a page: ``= /path`` for routes, ``~ regex`` for patterns.

    ``add_header`` adds a field to 2xx and 3xx responses, and a location that has
    its own ``add_header`` no longer inherits the server's
    (https://nginx.org/en/docs/http/ngx_http_headers_module.html#add_header).
    ``http2_push_preload on`` turns ``Link: rel=preload`` without ``nopush`` into
    pushes; ``http2_push`` pushes a path with no Link header; both exist from 1.13.9
    until 1.25.0 (https://nginx.org/en/docs/http/ngx_http_v2_module.html). A request
    for ``/docs/`` is redirected internally to ``/docs/index.html`` by the index
    module, so both get a location.
    """
    limit = ""
    if max_pushes == NGINX_MAX_PUSHES:
        limit = f"nginx's limit of {max_pushes} pushes per response (http2_max_concurrent_pushes)"
    exact = _apply_push_limit(ctx, exact, max_pushes, push, limit)
    patterns = _apply_push_limit(ctx, patterns, max_pushes, push, limit)
    regex = {
        b.route: re.compile(_regex(_tokens(b.pattern), decode=True) + r"\Z")
        for b in patterns
        if b.pattern
    }
    exact, patterns = _layout(ctx, exact, patterns, regex, "first")
    notes = [
        "Include it in the server { } block that serves the site: include pushgen-links.conf;",
        "Each location inherits root and index from that block; add_header in a location",
        "replaces the add_header directives of the server block for those requests.",
    ]
    if push:
        notes.append("http2_push_preload and http2_push need nginx 1.13.9 to 1.25.0 (export with")
        notes.append("--no-push for later versions, which no longer push).")
    out = _header(ctx, "#", notes)
    written: set[str] = set()

    def body(block: _Block) -> list[str] | None:
        lines = []
        if push and any(h.push and _pushes_on_link(h.link) for h in block.hints):
            lines.append("    http2_push_preload on;")
        for hint in block.hints:
            if hint.link is None:
                continue
            if "$" in hint.link:
                # add_header values are scripts: '$' starts a variable and cannot be escaped.
                ctx.cut(block, hint.path, "left out: nginx cannot write '$' in a header value")
                continue
            # nopush also guards against an http2_push_preload set at the server level.
            value = hint.link if hint.push else hint.link + "; nopush"
            lines.append(f"    add_header Link {_nginx_string(value)};")
        for hint in block.hints:
            # http2_push_preload only pushes rel=preload: the rest is pushed by path.
            if hint.push and not _pushes_on_link(hint.link) and push:
                if "$" in hint.path:
                    ctx.cut(block, hint.path, "left out: nginx cannot write '$' in http2_push")
                    continue
                lines.append(f"    http2_push {_nginx_string(hint.path)};")
        return lines or None

    for block in exact:
        lines = body(block)
        if lines is None:
            continue
        where = f"{PurePosixPath(ctx.filename).name}:{block.line}" if block.line else "the manifest"
        out.append("")
        out.append(f"# route {block.route} ({where})")
        for alias in _server_aliases(ctx.manifest, block.route, pretty_urls):
            path = unquote(alias)
            if path in written:
                continue
            written.add(path)
            extra = []
            if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
                # A page without a suffix (pretty URLs) is a .html file on disk.
                extra = ["    try_files $uri $uri.html =404;"]
            out.append(f"location = {_nginx_string(path)} {{")
            out.extend(extra + lines)
            out.append("}")
    for block in patterns:
        lines = body(block)
        if lines is None or block.pattern is None:
            continue
        expression = "^" + _regex(_tokens(block.pattern), decode=True) + "$"
        out.append("")
        out.append(f"# rule match: {block.route} ({PurePosixPath(ctx.filename).name}:{block.line})")
        out.append(f"location ~ {_nginx_string(expression)} {{")
        out.extend(lines)
        out.append("}")
    return "\n".join(out) + "\n"


# --- h2o ------------------------------------------------------------------------------------


def _ruby_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _h2o_links(block: _Block, push: bool) -> list[str]:
    # h2o pushes every `Link: rel=preload` unless it says `nopush`, and with
    # `x-http2-push-only` pushes without forwarding the header
    # (https://h2o.examp1e.net/configure/http2_directives.html#server-push).
    values = []
    for hint in block.hints:
        if hint.link is not None:
            values.append(hint.link if hint.push else hint.link + "; nopush")
        if hint.push and push and not _pushes_on_link(hint.link):
            # Only rel=preload is pushed: a modulepreload (or no hint) needs its own.
            values.append(f"<{hint.path}>; rel=preload; x-http2-push-only")
    return values


def _h2o(
    ctx: _Context,
    exact: list[_Block],
    patterns: list[_Block],
    *,
    root: str | None,
    pretty_urls: bool,
    push: bool,
    max_pushes: int | None,
) -> str:
    """A ``paths`` mapping whose ``/`` runs an mruby handler, then serves the files.

    h2o matches ``paths`` by prefix, the longest winning
    (https://h2o.examp1e.net/configure/base_directives.html#paths): a path-level
    ``header.add`` on ``/`` or ``/docs/`` would reach every file below it. The
    handler looks the exact request path up instead, then the patterns (first
    match wins), and returns status 399: "H2O delegates the request to the next
    handler while preserving the headers emitted by the handler"
    (https://h2o.examp1e.net/configure/mruby.html#modifying-response).
    """
    if root is None:
        ctx.errors.append(
            Diagnostic(
                ctx.filename,
                0,
                0,
                "the h2o fragment serves the files itself: give the document root (--root DIR)",
                "error",
            )
        )
        return ""
    exact = _apply_push_limit(ctx, exact, max_pushes, push)
    patterns = _apply_push_limit(ctx, patterns, max_pushes, push)
    regex = {
        b.route: re.compile(_regex(_tokens(b.pattern), decode=True) + r"\Z")
        for b in patterns
        if b.pattern
    }
    exact, patterns = _layout(ctx, exact, patterns, regex, "first")
    notes = [
        "Use it as the paths of a host (h2o built with mruby: `h2o --version` says mruby: YES):",
        "    paths: !file /etc/h2o/pushgen-paths.yaml",
        'or copy the "/" entry into your paths.',
    ]
    out = _header(ctx, "#", notes)
    out.append('"/":')
    out.append("  mruby.handler: |")
    code = ["links = {"]
    written: set[str] = set()
    for block in exact:
        values = _h2o_links(block, push)
        if not values:
            continue
        code.append(
            f"  # route {block.route} (line {block.line})"
            if block.line
            else f"  # route {block.route}"
        )
        for alias in _server_aliases(ctx.manifest, block.route, pretty_urls):
            # PATH_INFO is the path as requested; a percent-encoded route is also
            # listed decoded, for clients that send UTF-8 as it is.
            for key in dict.fromkeys([alias, unquote(alias)]):
                if key in written:
                    continue
                written.add(key)
                code.append(f"  {_ruby_string(key)} => [")
                code.extend(f"    {_ruby_string(v)}," for v in values)
                code.append("  ],")
    code.append("}")
    code.append("patterns = [")
    for block in patterns:
        values = _h2o_links(block, push)
        if not values or block.pattern is None:
            continue
        expression = "\\A" + _regex(_tokens(block.pattern), decode=True) + "\\z"
        code.append(f"  # rule match: {block.route} (line {block.line})")
        code.append(f"  [Regexp.new({_ruby_string(expression)}), [")
        code.extend(f"    {_ruby_string(v)}," for v in values)
        code.append("  ]],")
    code.append("]")
    code += [
        "Proc.new do |env|",
        "  path = env['PATH_INFO']",
        "  found = links[path]",
        "  found ||= (patterns.find { |re, _| re.match(path) } || [nil, nil])[1]",
        "  [399, found ? { 'link' => found.join(\"\\n\") } : {}, []]",
        "end",
    ]
    out.extend(f"    {line}" for line in code)
    out.append(f"  file.dir: {json.dumps(root)}")
    return "\n".join(out) + "\n"


# --- Apache httpd ---------------------------------------------------------------------------


def _apache_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _apache(
    ctx: _Context,
    exact: list[_Block],
    patterns: list[_Block],
    *,
    pretty_urls: bool,
    push: bool,
    max_pushes: int | None,
) -> str:
    """``<LocationMatch>`` sections with ``Header add Link`` and ``H2PushResource``.

    ``<Location /docs/>`` would match every path below ``/docs/``, so sections match
    the exact paths with an anchored regular expression
    (https://httpd.apache.org/docs/2.4/mod/core.html#locationmatch). ``Header add``
    takes a format string in which ``%`` must be written ``%%``
    (https://httpd.apache.org/docs/2.4/mod/mod_headers.html#header). mod_http2 pushes
    ``H2PushResource`` paths and, with ``H2EarlyHints on``, announces them in a 103;
    it also pushes ``Link: rel=preload`` values without ``nopush``
    (https://httpd.apache.org/docs/2.4/mod/mod_http2.html). Every matching section
    applies, in file order, so pattern sections only add what routes do not have.
    """
    exact = _apply_push_limit(ctx, exact, max_pushes, push)
    patterns = _apply_push_limit(ctx, patterns, max_pushes, push)
    regex = {
        b.route: re.compile(_regex(_tokens(b.pattern), decode=True) + r"\Z")
        for b in patterns
        if b.pattern
    }
    exact, patterns = _layout(ctx, exact, patterns, regex, "merge")
    notes = [
        "Include it in the <VirtualHost> that serves the site: Include pushgen-links.conf",
        "Needs mod_headers; pushes and 103 Early Hints need mod_http2.",
    ]
    out = _header(ctx, "#", notes)
    if push:
        out += ["", "<IfModule mod_http2.c>", "    H2EarlyHints on", "</IfModule>"]

    def section(comment: str, head: str, block: _Block) -> None:
        lines = []
        for hint in block.hints:
            if hint.link is not None:
                # mod_http2 pushes Link preloads unless told nopush (H2Push is on by default).
                value = hint.link if hint.push else hint.link + "; nopush"
                lines.append(f"    Header add Link {_apache_string(value.replace('%', '%%'))}")
        pushes = [h.path for h in block.hints if h.push and push]
        if pushes:
            lines.append("    <IfModule mod_http2.c>")
            lines.extend(f"        H2PushResource add {_apache_string(p)}" for p in pushes)
            lines.append("    </IfModule>")
        if not lines:
            return
        out.append("")
        out.append(comment)
        out.append(head)
        out.extend(lines)
        out.append("</LocationMatch>")

    for block in exact:
        aliases = [
            _escape(unquote(a)) for a in _server_aliases(ctx.manifest, block.route, pretty_urls)
        ]
        expression = (
            "^" + (aliases[0] if len(aliases) == 1 else "(?:" + "|".join(aliases) + ")") + "$"
        )
        where = f" ({PurePosixPath(ctx.filename).name}:{block.line})" if block.line else ""
        section(
            f"# route {block.route}{where}", f"<LocationMatch {_apache_string(expression)}>", block
        )
    for block in patterns:
        if block.pattern is None:
            continue
        expression = "^" + _regex(_tokens(block.pattern), decode=True) + "$"
        comment = f"# rule match: {block.route} ({PurePosixPath(ctx.filename).name}:{block.line})"
        section(comment, f"<LocationMatch {_apache_string(expression)}>", block)
    return "\n".join(out) + "\n"


# --- entry point ----------------------------------------------------------------------------


def export_manifest(
    manifest: Manifest,
    format: str,
    *,
    root: str | None = None,
    pretty_urls: bool = False,
    push: bool = True,
    max_pushes: int | None = None,
    skip_patterns: bool = False,
    size_of: Callable[[str], int | None] = lambda _path: None,
) -> ExportResult:
    """Write ``manifest`` for the target ``format`` (a key of :data:`FORMATS`).

    ``root`` is the document root on the server (h2o serves the files itself, so
    it needs it). ``pretty_urls`` adds the suffix-less paths of ``.html`` pages, as
    the runtime does. ``push=False`` writes no push instructions (nginx 1.25.1 and
    later have none). ``max_pushes`` caps pushes per response for servers; nginx
    defaults to its own cap of 10. ``skip_patterns`` leaves out pattern rules a
    target cannot express (as cuts) instead of refusing the export. ``size_of``
    gives file sizes for the rules' byte budgets. Raises :class:`ValueError` for an
    unknown format.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if format == "push-manifest":
        from .push_manifest import export_push_manifest

        return export_push_manifest(manifest, skip_patterns=skip_patterns, size_of=size_of)
    ctx = _Context(manifest, format)
    exact = _exact_blocks(ctx, size_of)
    patterns = _pattern_blocks(ctx, size_of)
    if format in ("netlify", "cloudflare"):
        text = _headers_file(ctx, exact, patterns, skip_patterns)
    elif format == "firebase":
        text = _firebase(ctx, exact, patterns)
    elif format == "json":
        text = _json_map(ctx, exact, patterns, skip_patterns)
    elif format == "nginx":
        limit = NGINX_MAX_PUSHES if max_pushes is None else max_pushes
        text = _nginx(ctx, exact, patterns, pretty_urls=pretty_urls, push=push, max_pushes=limit)
    elif format == "h2o":
        text = _h2o(
            ctx,
            exact,
            patterns,
            root=root,
            pretty_urls=pretty_urls,
            push=push,
            max_pushes=max_pushes,
        )
    else:
        text = _apache(
            ctx,
            exact,
            patterns,
            pretty_urls=pretty_urls,
            push=push,
            max_pushes=max_pushes,
        )
    return ExportResult(
        format=format,
        text="" if ctx.errors else text,
        cuts=tuple(ctx.cuts),
        errors=tuple(ctx.errors),
        filename=manifest.filename,
    )
