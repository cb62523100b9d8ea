"""Netlify and Cloudflare Pages ``_headers`` files: a path line, then indented headers.

Both hosts read the same syntax (https://docs.netlify.com/manage/routing/headers/,
https://developers.cloudflare.com/pages/configuration/headers/); Cloudflare adds
limits and serves ``.html`` pages without their suffix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .blocks import fit_hints, header, layout, route_blocks
from .context import Block, Context, Format
from .patterns import Token, regex_escape

__all__ = ["CLOUDFLARE", "CLOUDFLARE_MAX_LINE", "CLOUDFLARE_MAX_RULES", "NETLIFY"]

# "A project is limited to 100 header rules. Each line in the _headers file has a
# 2,000 character limit. The entire line, including spacing, header name, and value,
# counts towards the limit."
# (https://developers.cloudflare.com/pages/configuration/headers/)
CLOUDFLARE_MAX_RULES = 100
CLOUDFLARE_MAX_LINE = 2000

# A placeholder is any one whole segment: the converters (and arguments) that are too.
_PLACEHOLDER_REGEX = "[^/]+"


@dataclass(frozen=True)
class _Splat:
    """A pattern in ``_headers`` syntax, and a Python regex matching what it matches."""

    pattern: str
    regex: str


def _splat_pattern(tokens: Sequence[Token]) -> _Splat | str:
    """The pattern in ``_headers`` syntax, or why there is none.

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

    for index, token in enumerate(tokens):
        kind, value, converter = token.kind, token.value, token.converter
        last = index == len(tokens) - 1
        previous = tokens[index - 1] if index else Token("lit", "")
        following = tokens[index + 1] if not last else Token("lit", "/")
        whole_segment = previous.kind == "lit" and previous.value.endswith("/")
        whole_segment = (
            whole_segment and following.kind == "lit" and following.value.startswith("/")
        )
        if kind == "lit":
            if "*" in value or any(s.startswith(":") for s in value.split("/")):
                return f"its literal part {value!r} would read as a splat or a placeholder"
            if " " in value:
                # The path is the whole line up to the first space.
                return f"its literal part {value!r} holds a space, which ends the path"
            out.append(value)
            regex.append(regex_escape(value))
        elif kind == "globstar" or (kind == "var" and not token.segment):
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
            if token.regex != _PLACEHOLDER_REGEX:
                return (
                    "placeholders match any segment, with no equivalent of the "
                    f"<{converter}:...> converter (its regular expression {token.regex})"
                )
            out.append(placeholder(value))
            regex.append("[^/]+")
        else:
            return "a wildcard or variable inside a path segment has no splat or placeholder equivalent"
    return _Splat("".join(out), "".join(regex))


def _cloudflare_route(route: str) -> str:
    # "Pages will also redirect HTML pages to their extension-less counterparts:
    # /contact.html will be redirected to /contact, and /about/index.html will be
    # redirected to /about/." (https://developers.cloudflare.com/pages/configuration/serving-pages/)
    if route.endswith("/index.html"):
        return route[: -len("index.html")]
    if route.endswith(".html"):
        return route[: -len(".html")]
    return route


def _headers_file(ctx: Context, *, cloudflare: bool) -> str:
    found = route_blocks(ctx)
    exact, patterns = found.exact, found.patterns
    names: dict[str, str] = {}
    regex: dict[str, re.Pattern[str]] = {}
    kept_patterns = _splat_blocks(ctx, patterns, names, regex)
    routes: list[Block] = []
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
    laid = layout(ctx, routes, kept_patterns, regex, "merge", names)
    routes, kept_patterns = laid.exact, laid.patterns
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
    return "\n".join(header(ctx, notes) + _rule_lines(ctx, blocks, names, cloudflare)) + "\n"


def _splat_blocks(
    ctx: Context, patterns: list[Block], names: dict[str, str], regex: dict[str, re.Pattern[str]]
) -> list[Block]:
    """The pattern blocks the format can express, their names and regexes put in ``names``/``regex``."""
    kept: list[Block] = []
    for block in patterns:
        assert block.pattern is not None
        converted = _splat_pattern(block.tokens)
        if isinstance(converted, str):
            ctx.refuse(block.route, block.line, f"{ctx.title} cannot express it: {converted}")
            continue
        names[block.route] = converted.pattern
        regex[block.route] = re.compile(converted.regex + r"\Z")
        kept.append(block)
    return kept


def _rule_lines(
    ctx: Context, blocks: list[Block], names: dict[str, str], cloudflare: bool
) -> list[str]:
    """A blank line, the path line and the ``Link`` lines of each block."""
    out: list[str] = []
    for block in blocks:
        out.append("")
        out.append(names[block.route])
        links = block.links
        if cloudflare:
            # One line per rule, so the combined value is what the limit measures.
            # The most important values that fit, as the Link budget keeps them.
            prefix = "  Link: "
            fitted = fit_hints(block.hints, CLOUDFLARE_MAX_LINE - len(prefix))
            for hint in fitted.left_out:
                ctx.cut(
                    block,
                    hint.path,
                    f"left out: the Link line would pass {CLOUDFLARE_MAX_LINE} characters",
                )
            if fitted.links.kept:
                out.append(prefix + fitted.links.field)
            else:
                del out[-2:]
        else:
            out.extend(f"  Link: {link}" for link in links)
    return out


def _write_netlify(ctx: Context) -> str:
    return _headers_file(ctx, cloudflare=False)


def _write_cloudflare(ctx: Context) -> str:
    return _headers_file(ctx, cloudflare=True)


NETLIFY = Format("netlify", "Netlify _headers", _write_netlify)
CLOUDFLARE = Format("cloudflare", "Cloudflare Pages _headers", _write_cloudflare)
