"""An nginx include file: a ``location`` per page path, ``add_header Link`` and pushes."""

from __future__ import annotations

from urllib.parse import unquote

from .blocks import header, pushes_on_link, route_blocks, server_aliases, server_blocks, source_name
from .context import Block, Context, Format
from .patterns import pattern_regex
from .text import comment

__all__ = ["NGINX", "NGINX_MAX_PUSHES"]

# http2_max_concurrent_pushes defaults to 10 ("Limits the maximum number of concurrent
# push requests in a connection", https://nginx.org/en/docs/http/ngx_http_v2_module.html);
# nginx 1.22 silently skips the pushes of a response beyond it.
NGINX_MAX_PUSHES = 10


def _nginx_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _nginx(ctx: Context) -> str:
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
    blocks = route_blocks(ctx)
    exact, patterns = blocks.exact, blocks.patterns
    push = ctx.options.push
    max_pushes = NGINX_MAX_PUSHES if ctx.options.max_pushes is None else ctx.options.max_pushes
    limit = ""
    if max_pushes == NGINX_MAX_PUSHES:
        limit = f"nginx's limit of {max_pushes} pushes per response (http2_max_concurrent_pushes)"
    laid = server_blocks(ctx, exact, patterns, "first", max_pushes=max_pushes, limit=limit)
    exact, patterns = laid.exact, laid.patterns
    notes = [
        "Include it in the server { } block that serves the site: include pushgen-links.conf;",
        "Each location inherits root and index from that block; add_header in a location",
        "replaces the add_header directives of the server block for those requests.",
    ]
    if push:
        notes.append("http2_push_preload and http2_push need nginx 1.13.9 to 1.25.0 (export with")
        notes.append("--no-push for later versions, which no longer push).")
    out = header(ctx, notes)
    written: set[str] = set()

    for block in exact:
        lines = _directives(ctx, block, push)
        if lines is not None:
            out.extend(_exact_locations(ctx, block, lines, written))
    for block in patterns:
        lines = _directives(ctx, block, push)
        if lines is None or block.pattern is None:
            continue
        expression = "^" + pattern_regex(block.tokens, decode=True) + "$"
        out.append("")
        out.append(f"# rule match: {comment(block.route)} ({source_name(ctx)}:{block.line})")
        out.append(f"location ~ {_nginx_string(expression)} {{")
        out.extend(lines)
        out.append("}")
    return "\n".join(out) + "\n"


def _directives(ctx: Context, block: Block, push: bool) -> list[str] | None:
    """The ``add_header Link`` and ``http2_push`` lines of one block, or None when it has none."""
    lines = []
    if push and any(h.push and pushes_on_link(h.link) for h in block.hints):
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
        if hint.push and not pushes_on_link(hint.link) and push:
            if "$" in hint.path:
                ctx.cut(block, hint.path, "left out: nginx cannot write '$' in http2_push")
                continue
            lines.append(f"    http2_push {_nginx_string(hint.path)};")
    return lines or None


def _exact_locations(ctx: Context, block: Block, lines: list[str], written: set[str]) -> list[str]:
    """A route's ``location =`` blocks, one per path that serves it and is not ``written`` yet."""
    where = f"{source_name(ctx)}:{block.line}" if block.line else "the manifest"
    out = ["", f"# route {comment(block.route)} ({where})"]
    for alias in server_aliases(ctx.manifest, block.route, ctx.options.pretty_urls):
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
    return out


NGINX = Format("nginx", "nginx include file", _nginx, regex=True)
