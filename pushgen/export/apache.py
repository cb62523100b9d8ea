"""An Apache httpd include file: ``<LocationMatch>`` sections with ``Header add Link``."""

from __future__ import annotations

from urllib.parse import unquote

from .blocks import header, route_blocks, server_aliases, server_blocks, source_name
from .context import Block, Context, Format
from .patterns import pattern_regex, regex_escape
from .text import comment

__all__ = ["APACHE"]


def _apache_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _apache(ctx: Context) -> str:
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
    blocks = route_blocks(ctx)
    exact, patterns = blocks.exact, blocks.patterns
    push, pretty_urls = ctx.options.push, ctx.options.pretty_urls
    laid = server_blocks(ctx, exact, patterns, "merge", max_pushes=ctx.options.max_pushes)
    exact, patterns = laid.exact, laid.patterns
    notes = [
        "Include it in the <VirtualHost> that serves the site: Include pushgen-links.conf",
        "Needs mod_headers; pushes and 103 Early Hints need mod_http2.",
    ]
    out = header(ctx, notes)
    if push:
        out += ["", "<IfModule mod_http2.c>", "    H2EarlyHints on", "</IfModule>"]

    def section(remark: str, head: str, block: Block) -> None:
        lines = []
        for hint in block.hints:
            if hint.link is not None and "${" in hint.link:
                # httpd replaces ${NAME} in every configuration line with a Define or an
                # environment variable before reading it, and has no escape for it
                # (https://httpd.apache.org/docs/2.4/configuring.html#syntax).
                ctx.cut(block, hint.path, "not hinted: Apache httpd would expand '${' in it")
            elif hint.link is not None:
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
        out.append(remark)
        out.append(head)
        out.extend(lines)
        out.append("</LocationMatch>")

    for block in exact:
        aliases = [
            regex_escape(unquote(a)) for a in server_aliases(ctx.manifest, block.route, pretty_urls)
        ]
        expression = (
            "^" + (aliases[0] if len(aliases) == 1 else "(?:" + "|".join(aliases) + ")") + "$"
        )
        where = f" ({source_name(ctx)}:{block.line})" if block.line else ""
        section(
            f"# route {comment(block.route)}{where}",
            f"<LocationMatch {_apache_string(expression)}>",
            block,
        )
    for block in patterns:
        if block.pattern is None:
            continue
        expression = "^" + pattern_regex(block.tokens, decode=True) + "$"
        remark = f"# rule match: {comment(block.route)} ({source_name(ctx)}:{block.line})"
        section(remark, f"<LocationMatch {_apache_string(expression)}>", block)
    return "\n".join(out) + "\n"


APACHE = Format("apache", "Apache httpd include file", _apache, regex=True)
