"""While a new manifest loads, requests are answered from the old one (issue 27).

The generic ASGI middleware serves a manifest; the file is replaced and a
reload started, whose load is held (a gate the test opens, around the real
load) for as long as the test asks: every request made meanwhile gets the old
hints, at once; once the load ends, the new table is swapped in whole. Both
the compiled form and the YAML are loaded this way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from pushgen.asgi import PushgenMiddleware
from pushgen.manifest.compiled import compiled_path, write_compiled
from pushgen.runtime.headers import RouteTable

pytestmark = pytest.mark.anyio

OLD = "version: 1\nroutes:\n  /:\n    - {path: /static/old.css, as: style}\n"
NEW = "version: 1\nroutes:\n  /:\n    - {path: /static/new.css, as: style}\n"


async def plain_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"page"})


async def link_of(app: PushgenMiddleware, path: str = "/") -> bytes:
    """The Link field of a GET of ``path`` over HTTP/1.1 (no extensions)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    request = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "extensions": {},
    }
    await asyncio.wait_for(app(request, receive, send), timeout=30)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return b"".join(v for n, v in start["headers"] if n.lower() == b"link")


@pytest.mark.parametrize("form", ["compiled", "yaml"])
async def test_requests_during_a_slow_reload_get_the_old_hints(form: str, tmp_path: Path) -> None:
    manifest = tmp_path / "push-manifest.yaml"
    manifest.write_text(OLD, encoding="utf-8")
    if form == "compiled":
        assert write_compiled(manifest, OLD).current
    app = PushgenMiddleware(plain_app, manifest=manifest, reload_interval=0, environ={})
    assert b"/static/old.css" in await link_of(app)

    manifest.write_text(NEW, encoding="utf-8")
    if form == "compiled":
        assert write_compiled(manifest, NEW).current
    assert compiled_path(manifest).exists() == (form == "compiled")
    gate, loading = threading.Event(), threading.Event()
    real_load = app.state._load

    def held_load() -> RouteTable:
        loading.set()
        gate.wait(timeout=60)  # bounded: a failing test must not hang the suite
        return real_load()

    app.state._load = held_load  # type: ignore[method-assign]
    reload = asyncio.create_task(app.state.reload())
    for _ in range(600):  # the load runs in its own thread; wait until it has begun
        if loading.is_set():
            break
        await asyncio.sleep(0.05)
    assert loading.is_set()
    for _ in range(5):
        assert b"/static/old.css" in await link_of(app)  # answered at once, the old table
        assert not reload.done()
    gate.set()
    assert await asyncio.wait_for(reload, timeout=60)
    assert b"/static/new.css" in await link_of(app)
