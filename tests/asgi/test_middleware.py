"""pushgen.asgi.PushgenMiddleware on a real Starlette app, driven message by message.

The server's side of ASGI is played here so that every message the app and the
middleware exchange can be seen: what a server offering the push and early-hint
extensions gets (Hypercorn over HTTP/2), what one offering none gets (Uvicorn,
Hypercorn over HTTP/1.1), and what must pass untouched.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from pushgen.asgi import PushgenMiddleware
from pushgen.errors import ConfigError, ManifestError
from pushgen.runtime.middleware import ASGIApp
from tests.asgi import starlette_app
from tests.asgi.apps import APP_LINK, MANIFEST, SITE

pytestmark = pytest.mark.anyio

HOME_LINK = b"</static/site.css>; rel=preload; as=style, </static/app.js>; rel=modulepreload"
BLOG_LINK = b"</static/site.css>; rel=preload; as=style, </static/blog.css>; rel=preload; as=style"
# What Hypercorn offers an HTTP/2 request.
H2_EXTENSIONS: dict[str, Any] = {"http.response.push": {}, "http.response.early_hint": {}}

Message = dict[str, Any]


def scope(path: str, method: str = "GET", extensions: dict[str, Any] | None = None) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "2" if extensions else "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"user-agent", b"test")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 443),
        "extensions": extensions or {},
    }


async def call(app: ASGIApp, request: Message, body: bytes = b"") -> list[Message]:
    """Every message ``app`` sends for ``request``."""
    sent: list[Message] = []
    inbox = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        if inbox:
            return inbox.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app(request, receive, send)
    return sent


def start(messages: list[Message]) -> Message:
    return next(m for m in messages if m["type"] == "http.response.start")


def fields(messages: list[Message], name: bytes) -> list[bytes]:
    return [v for n, v in start(messages)["headers"] if n.lower() == name]


async def test_a_server_without_extensions_gets_the_link_header_only() -> None:
    messages = await call(starlette_app.app, scope("/"))
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert fields(messages, b"link") == [HOME_LINK]
    assert b"/static/site.css" in messages[1]["body"]


async def test_pushes_then_103_then_the_response_with_link_and_digest() -> None:
    messages = await call(starlette_app.app, scope("/", extensions=H2_EXTENSIONS))
    types = [m["type"] for m in messages]
    assert types == [
        "http.response.push",
        "http.response.push",
        "http.response.early_hint",
        "http.response.start",
        "http.response.body",
    ]
    assert [m["path"] for m in messages[:2]] == ["/static/site.css", "/static/app.js"]
    # One Link value with every hint, in manifest order: the 200's field.
    assert messages[2]["links"] == [HOME_LINK]
    assert fields(messages, b"link") == [HOME_LINK]
    assert len(fields(messages, b"set-cookie")) == 1


async def test_a_url_rule_matches_a_starlette_path_parameter() -> None:
    # A new app: the shared one's diary knows site.css was pushed on this connection.
    messages = await call(starlette_app.create(), scope("/blog/hello", extensions=H2_EXTENSIONS))
    assert [m["path"] for m in messages if m["type"] == "http.response.push"] == [
        "/static/site.css",
        "/static/blog.css",
    ]
    assert fields(messages, b"link") == [BLOG_LINK]


async def test_an_app_link_header_is_kept_and_ours_appended() -> None:
    messages = await call(starlette_app.app, scope("/about"))
    assert fields(messages, b"link") == [
        APP_LINK.encode(),
        b"</static/site.css>; rel=preload; as=style",
    ]


async def test_head_gets_the_link_header_and_nothing_else() -> None:
    messages = await call(starlette_app.app, scope("/", "HEAD", H2_EXTENSIONS))
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert fields(messages, b"link") == [HOME_LINK]


@pytest.mark.parametrize(("path", "method"), [("/form", "POST"), ("/nothing", "GET")])
async def test_other_methods_and_other_paths_are_untouched(path: str, method: str) -> None:
    bare = await call(
        starlette_app.create(push=False, early_hints=False, link_headers=False),
        scope(path, method, H2_EXTENSIONS),
    )
    wrapped = await call(starlette_app.app, scope(path, method, H2_EXTENSIONS))
    assert wrapped == bare


async def test_a_response_that_is_not_200_gets_no_link() -> None:
    async def gone(request: Request) -> Response:
        return Response("gone", status_code=410)

    app = PushgenMiddleware(Starlette(routes=[Route("/", gone)]), manifest=MANIFEST, environ={})
    messages = await call(app, scope("/"))
    assert start(messages)["status"] == 410
    assert fields(messages, b"link") == []


async def test_link_headers_off_sends_none() -> None:
    messages = await call(starlette_app.create(link_headers=False), scope("/"))
    assert fields(messages, b"link") == []


async def test_a_streamed_body_passes_message_by_message() -> None:
    # The second chunk is made only once the first has reached the server: a
    # middleware that held the body back would never let it be made.
    first_sent = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"<p>one</p>"
        await first_sent.wait()
        yield b"<p>two</p>"

    async def stream(request: Request) -> Response:
        return StreamingResponse(chunks(), media_type="text/html")

    app = PushgenMiddleware(
        Starlette(routes=[Route("/stream", stream)]), manifest=MANIFEST, environ={}
    )
    sent: list[Message] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))
        if message.get("body") == b"<p>one</p>":
            first_sent.set()

    async def receive() -> Message:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    await asyncio.wait_for(app(scope("/stream"), receive, send), 30)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert bodies[:2] == [b"<p>one</p>", b"<p>two</p>"]
    assert fields(sent, b"link") == [b"</static/site.css>; rel=preload; as=style"]


async def test_a_websocket_is_untouched() -> None:
    inbox: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "hello"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0) if inbox else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    ws = {**scope("/ws"), "type": "websocket", "scheme": "wss", "subprotocols": []}
    del ws["method"]
    await starlette_app.app(ws, receive, send)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == "hello"
    assert "headers" not in sent[0] or sent[0]["headers"] in ([], None)


async def test_lifespan_messages_pass_and_the_watcher_stops_at_shutdown() -> None:
    app = PushgenMiddleware(Starlette(routes=starlette_app.routes), manifest=MANIFEST, environ={})
    inbox: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert app.state._task is None


def test_a_positional_setting_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"takes its settings as keywords \(manifest=...\)"):
        PushgenMiddleware(starlette_app.app, MANIFEST, environ={})


def test_the_watcher_runs_on_the_loop_that_serves(tmp_path: Path) -> None:
    # One app, served by one event loop after another (asyncio.run twice): each
    # loop gets a watcher that picks up a changed manifest.
    manifest = tmp_path / "push-manifest.yaml"
    manifest.write_text(MANIFEST.read_text())
    app = PushgenMiddleware(
        Starlette(routes=starlette_app.routes), manifest=manifest, reload_interval=0.05, environ={}
    )

    async def serve_once() -> list[Message]:
        messages = await call(app, scope("/about"))
        assert app.state.watching
        return messages

    asyncio.run(serve_once())
    assert not app.state.watching  # its loop is gone
    manifest.write_text(MANIFEST.read_text().replace("  /about:\n", "  /elsewhere:\n"))

    async def after_reload() -> list[Message]:
        await call(app, scope("/"))
        for _ in range(200):  # bounded: the watcher polls every 50 ms
            if app.state.table.lookup("/elsewhere") is not None:
                break
            await asyncio.sleep(0.05)
        return await call(app, scope("/about"))

    messages = asyncio.run(after_reload())
    assert fields(messages, b"link") == [APP_LINK.encode()]  # /about left the manifest


def test_an_unknown_option_is_named_with_the_nearest() -> None:
    with pytest.raises(ConfigError) as caught:
        PushgenMiddleware(starlette_app.app, manifest=MANIFEST, max_push=3, environ={})
    assert str(caught.value) == (
        "PushgenMiddleware() got an unknown option 'max_push'; did you mean 'max_pushes'?"
    )
    with pytest.raises(ConfigError, match=r"only pushgen\.app\.create_app takes it"):
        PushgenMiddleware(starlette_app.app, manifest=MANIFEST, site=".", environ={})


def test_a_bad_value_names_its_setting_and_the_environment_is_read() -> None:
    with pytest.raises(ConfigError, match="PUSHGEN_MAX_PUSHES must be a whole number"):
        PushgenMiddleware(starlette_app.app, manifest=MANIFEST, max_pushes="x", environ={})
    with pytest.raises(ConfigError, match="environment variable PUSHGEN_PUSH='maybe'"):
        PushgenMiddleware(starlette_app.app, manifest=MANIFEST, environ={"PUSHGEN_PUSH": "maybe"})
    app = PushgenMiddleware(
        starlette_app.app, manifest=MANIFEST, environ={"PUSHGEN_LINK_HEADERS": "0"}
    )
    assert app.state.options.link_headers is False


def test_a_missing_manifest_is_a_located_error_unless_not_required(tmp_path: Path) -> None:
    missing = tmp_path / "push-manifest.yaml"
    with pytest.raises(ManifestError, match="cannot read manifest"):
        PushgenMiddleware(starlette_app.app, manifest=missing, environ={})
    app = PushgenMiddleware(
        starlette_app.app, manifest=missing, manifest_required=False, environ={}
    )
    assert app.state.table.routes == 0


def test_help_shows_the_settings_as_keywords() -> None:
    shown = inspect.signature(PushgenMiddleware).parameters
    assert list(shown)[:3] == ["app", "policy", "environ"]
    assert {"manifest", "push", "early_hints", "early_hints_delay", "link_headers"} <= set(shown)
    assert "site" not in shown


def test_the_manifest_output_folder_versions_the_digest() -> None:
    app = PushgenMiddleware(starlette_app.app, manifest=MANIFEST, output=SITE, environ={})
    assert app.state.version("/static/site.css") != ""
