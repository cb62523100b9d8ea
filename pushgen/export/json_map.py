"""A plain JSON map, route -> ``Link`` header value, for tools of your own."""

from __future__ import annotations

import json

from .blocks import route_blocks
from .context import Context, Format

__all__ = ["JSON_MAP"]


def _json_map(ctx: Context) -> str:
    blocks = route_blocks(ctx)
    exact, patterns = blocks.exact, blocks.patterns
    for block in patterns:
        ctx.refuse(
            block.route, block.line, "a JSON map's keys are exact routes, with no pattern syntax"
        )
    data = {b.route: ", ".join(b.links) for b in exact if b.links}
    return json.dumps(data, indent=2, ensure_ascii=True, sort_keys=True) + "\n"


JSON_MAP = Format("json", "JSON map route -> Link header value", _json_map, text=False)
