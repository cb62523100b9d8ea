"""A bare ASGI app that sends a 103 with the links its path names, under pushgen's Hypercorn hook.

``/think``: ASCII links, then the 200 only after a pause (a view that thinks);
``/busy``: ASCII links, then the event loop held past the hold's timer (a server
behind its work), then the 200 a moment later;
``/ascii``: plain ASCII links (the hook's fast path for the 103's frame);
``/utf8``: a link with a raw UTF-8 byte, ``/tab``: one with a tab inside (both handed
to h2: pushgen/runtime/h2hints.py). tests/runtime/test_h2hints_frame.py runs it
under real Hypercorn.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pushgen.runtime import h2push

h2push.install()

LINKS: dict[str, list[bytes]] = {
    "/ascii": [b"</a.css>; rel=preload; as=style", b"</b.js>; rel=preload; as=script"],
    "/utf8": ["</café.css>; rel=preload; as=style".encode(), b"</b.js>; rel=preload; as=script"],
    "/tab": [b"</a.css>;\trel=preload; as=style"],
    "/think": [b"</a.css>; rel=preload; as=style"],
    "/busy": [b"</a.css>; rel=preload; as=style"],
}
# Far beyond the hook's hold (h2hints.HOLD, 2 ms): the 103 must leave on its own.
THINK = 0.3
# The loop held well past the hold's timer (h2hints.BEHIND), then a pause shorter
# than the hold (h2hints.HOLD) before the 200.
BUSY, BUSY_PAUSE = 0.02, 0.0005


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        return
    links = LINKS.get(scope["path"], [])
    if scope["path"] in ("/think", "/busy"):
        # After Hypercorn's write at the end of reading the request, so that the
        # 103 has nothing to leave with but the hook's timer.
        await asyncio.sleep(THINK / 6)
    if "http.response.early_hint" in scope.get("extensions", {}):
        await send({"type": "http.response.early_hint", "links": links})
    if scope["path"] == "/think":
        await asyncio.sleep(THINK)
    if scope["path"] == "/busy":
        time.sleep(BUSY)  # the loop runs nothing else meanwhile: its timers fall behind
        await asyncio.sleep(BUSY_PAUSE)  # the late timer runs before this view goes on
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})
