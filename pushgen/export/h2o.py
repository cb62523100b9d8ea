"""An h2o ``paths`` fragment: an mruby handler that adds ``link`` headers, then the files."""

from __future__ import annotations

import json
from urllib.parse import unquote

from .blocks import header, pushes_on_link, route_blocks, server_aliases, server_blocks
from .context import Block, Context, Format
from .patterns import pattern_regex
from .text import comment

__all__ = ["H2O"]


def _ruby_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _h2o_links(block: Block, push: bool) -> list[str]:
    # h2o pushes every `Link: rel=preload` unless it says `nopush`, and with
    # `x-http2-push-only` pushes without forwarding the header
    # (https://h2o.examp1e.net/configure/http2_directives.html#server-push).
    values = []
    for hint in block.hints:
        if hint.link is not None:
            values.append(hint.link if hint.push else hint.link + "; nopush")
        if hint.push and push and not pushes_on_link(hint.link):
            # Only rel=preload is pushed: a modulepreload (or no hint) needs its own.
            values.append(f"<{hint.path}>; rel=preload; x-http2-push-only")
    return values


def _h2o(ctx: Context) -> str:
    """A ``paths`` mapping whose ``/`` runs an mruby handler, then serves the files.

    h2o matches ``paths`` by prefix, the longest winning
    (https://h2o.examp1e.net/configure/base_directives.html#paths): a path-level
    ``header.add`` on ``/`` or ``/docs/`` would reach every file below it. The
    handler looks the exact request path up instead, then the patterns (first
    match wins), and returns status 399: "H2O delegates the request to the next
    handler while preserving the headers emitted by the handler"
    (https://h2o.examp1e.net/configure/mruby.html#modifying-response).
    """
    blocks = route_blocks(ctx)
    exact, patterns = blocks.exact, blocks.patterns
    root = ctx.options.root
    if root is None:
        ctx.error(
            0, "the h2o fragment serves the files itself: give the document root (--root DIR)"
        )
        return ""
    laid = server_blocks(ctx, exact, patterns, "first", max_pushes=ctx.options.max_pushes)
    exact, patterns = laid.exact, laid.patterns
    notes = [
        "Use it as the paths of a host (h2o built with mruby: `h2o --version` says mruby: YES):",
        "    paths: !file /etc/h2o/pushgen-paths.yaml",
        'or copy the "/" entry into your paths.',
        # CASPer: a cookie of what was pushed, so a returning browser is pushed only
        # what changed (https://h2o.examp1e.net/configure/http2_directives.html#http2-casper).
        # h2o accepts it at global or host level only, not in paths.
        "Beside paths:, at the host level, turn on h2o's cache-aware push:  http2-casper: ON",
    ]
    out = header(ctx, notes)
    out.append('"/":')
    out.append("  mruby.handler: |")
    code = _handler(ctx, exact, patterns)
    out.extend(f"    {line}" for line in code)
    out.append(f"  file.dir: {json.dumps(root)}")
    return "\n".join(out) + "\n"


def _handler(ctx: Context, exact: list[Block], patterns: list[Block]) -> list[str]:
    """The mruby handler: the Link values of exact paths, then of patterns, then the Proc."""
    code = ["links = {"]
    written: set[str] = set()
    push, pretty_urls = ctx.options.push, ctx.options.pretty_urls
    for block in exact:
        values = _h2o_links(block, push)
        if not values:
            continue
        code.append(
            f"  # route {comment(block.route)} (line {block.line})"
            if block.line
            else f"  # route {comment(block.route)}"
        )
        for alias in server_aliases(ctx.manifest, block.route, pretty_urls):
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
        expression = "\\A" + pattern_regex(block.tokens, decode=True) + "\\z"
        code.append(f"  # rule match: {comment(block.route)} (line {block.line})")
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
    return code


H2O = Format("h2o", "h2o paths fragment", _h2o, regex=True)
