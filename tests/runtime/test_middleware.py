"""ASGI-level tests: the recorded messages of the 103 middleware and of the whole app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

import pytest

from pushgen.app import create_app
from pushgen.manifest import parse_manifest
from pushgen.runtime.headers import RouteTable, build_route_table
from pushgen.runtime.middleware import EarlyHintsMiddleware
from pushgen.runtime.pushcache import CONNECTION_EXTENSION, PushDiary
from tests.conftest import Site

pytestmark = pytest.mark.anyio

Message = MutableMapping[str, Any]

TABLE = build_route_table(
    parse_manifest(
        "version: 1\nroutes:\n"
        "  /:\n"
        "    - {path: /a.css, as: style}\n"
        "    - {path: /f.woff2, as: font, type: font/woff2, crossorigin: anonymous}\n"
        "  /docs/:\n"
        "    - {path: /a.css, as: style}\n"
        "  /quiet/:\n"
        "    - {path: /q.js, as: script, hint: false}\n"
    )
)
HOME_LINKS = [
    b"</a.css>; rel=preload; as=style",
    b'</f.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin',
]
# The 103's links: one value, every hint comma-joined (the 200's Link field).
HOME_HINT = [b", ".join(HOME_LINKS)]


def http_scope(
    path: str = "/",
    *,
    method: str = "GET",
    http_version: str = "2",
    root_path: str = "",
    extensions: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """An ASGI HTTP scope as Hypercorn makes it (extensions only on HTTP/2 and 3)."""
    if extensions is None:
        extensions = (
            ("http.response.push", "http.response.early_hint") if http_version in ("2", "3") else ()
        )
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.1"},
        "http_version": http_version,
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": b"",
        "root_path": root_path,
        "headers": [(b"host", b"localhost"), (b"accept-encoding", b"identity")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8443),
        "extensions": {name: {} for name in extensions},
    }


class Recorder:
    """An ASGI ``send`` that records messages, and a ``receive`` with an empty body.

    ``receive`` behaves as the ASGI HTTP spec says a server's must (and as
    Hypercorn's does): the request body first, then nothing until the response
    has been sent, then ``http.disconnect``. Quart up to 0.22 cancelled its
    receiver once the view returned; Quart 0.23 (Python 3.13 and later) runs
    both in a TaskGroup and returns only when the receiver sees the disconnect,
    so a receive that never says it hangs the app.
    """

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._requested = False
        self._responded = asyncio.Event()

    async def send(self, message: Message) -> None:
        self.messages.append(dict(message))
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self._responded.set()

    async def receive(self) -> Message:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # https://asgi.readthedocs.io/en/latest/specs/www.html#disconnect-receive-event
        await self._responded.wait()
        return {"type": "http.disconnect"}

    @property
    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]


async def inner_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"page", "more_body": False})


async def run(app: Any, scope: dict[str, Any]) -> Recorder:
    recorder = Recorder()
    await app(scope, recorder.receive, recorder.send)
    return recorder


@pytest.mark.parametrize("path", ["/", "/index.html"])
async def test_103_goes_out_before_the_response_start(path: str) -> None:
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE)
    recorder = await run(app, http_scope(path))
    assert recorder.types == [
        "http.response.early_hint",
        "http.response.start",
        "http.response.body",
    ]
    assert recorder.messages[0]["links"] == HOME_HINT


@pytest.mark.parametrize(
    "scope",
    [
        http_scope(http_version="1.1"),  # Hypercorn offers no early_hint extension on HTTP/1.1
        http_scope(extensions=("http.response.push",)),
        http_scope(method="HEAD"),
        http_scope(method="POST"),
        http_scope("/static/a.css"),
        http_scope("/nope/"),
        http_scope("/quiet/"),  # a route whose entries are all hint: false
    ],
    ids=["http1.1", "no-extension", "head", "post", "asset", "unknown", "nothing-hinted"],
)
async def test_no_103_when_it_does_not_apply(scope: dict[str, Any]) -> None:
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE)
    recorder = await run(app, scope)
    assert recorder.types == ["http.response.start", "http.response.body"]


async def test_root_path_is_understood() -> None:
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE)
    recorder = await run(app, http_scope("/mount/docs", root_path="/mount"))
    assert recorder.messages[0] == {
        "type": "http.response.early_hint",
        "links": [b"</a.css>; rel=preload; as=style"],
    }


async def test_disabled_middleware_sends_no_103() -> None:
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE, enabled=False)
    recorder = await run(app, http_scope("/"))
    assert "http.response.early_hint" not in recorder.types


async def test_the_table_is_read_per_request() -> None:
    tables = [TABLE]
    app = EarlyHintsMiddleware(inner_app, lambda: tables[0])
    assert (await run(app, http_scope("/"))).types[0] == "http.response.early_hint"
    tables[0] = RouteTable()
    recorder = await run(app, http_scope("/"))
    assert recorder.types[0] == "http.response.start"


async def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await EarlyHintsMiddleware(app, lambda: TABLE)(
        {"type": "lifespan"}, Recorder().receive, Recorder().send
    )
    assert seen == ["lifespan"]


async def test_the_response_is_streamed_not_buffered() -> None:
    release = asyncio.Event()
    recorder = Recorder()

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await release.wait()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    app = EarlyHintsMiddleware(slow_app, lambda: TABLE)
    task = asyncio.create_task(app(http_scope("/"), recorder.receive, recorder.send))
    for _ in range(50):
        if len(recorder.messages) == 3:
            break
        await asyncio.sleep(0.01)
    # The start and the first chunk reached the server while the app is still running.
    assert recorder.types == [
        "http.response.early_hint",
        "http.response.start",
        "http.response.body",
    ]
    assert not task.done()
    release.set()
    await task
    assert len(recorder.messages) == 4


# --- a 103 that waits (hint_delay) ------------------------------------------------------

HOME_PUSHES = ["/a.css", "/f.woff2"]


def slow_app(seconds: float) -> Any:
    """An app that thinks ``seconds`` before it answers."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(seconds)
        await inner_app(scope, receive, send)

    return app


def left_behind(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Tasks still pending now that were not there ``before``: what a request left behind."""
    return asyncio.all_tasks() - before


async def test_a_waiting_103_stays_away_from_a_response_that_starts_in_time() -> None:
    before = asyncio.all_tasks()
    # A second is far longer than inner_app takes, however busy the machine.
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE, push=True, hint_delay=1.0)
    recorder = await run(app, http_scope("/"))
    # The pushes still go first and at once; the 200 follows without a 103.
    assert recorder.types == [
        "http.response.push",
        "http.response.push",
        "http.response.start",
        "http.response.body",
    ]
    assert [m["path"] for m in recorder.messages[:2]] == HOME_PUSHES
    assert left_behind(before) == set()


async def test_a_waiting_103_goes_out_once_before_a_late_response() -> None:
    before = asyncio.all_tasks()
    app = EarlyHintsMiddleware(slow_app(0.2), lambda: TABLE, push=True, hint_delay=0.01)
    recorder = await run(app, http_scope("/"))
    assert recorder.types == [
        "http.response.push",
        "http.response.push",
        "http.response.early_hint",
        "http.response.start",
        "http.response.body",
    ]
    assert recorder.messages[2]["links"] == HOME_HINT
    assert left_behind(before) == set()


async def test_the_103_is_sent_while_the_app_thinks() -> None:
    recorder = Recorder()
    release = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await inner_app(scope, receive, send)

    middleware = EarlyHintsMiddleware(app, lambda: TABLE, hint_delay=0.01)
    task = asyncio.create_task(middleware(http_scope("/"), recorder.receive, recorder.send))
    for _ in range(100):
        if recorder.messages:
            break
        await asyncio.sleep(0.01)
    # The app has not answered yet, and the client already has the hints.
    assert recorder.types == ["http.response.early_hint"]
    release.set()
    await task
    assert recorder.types == [
        "http.response.early_hint",
        "http.response.start",
        "http.response.body",
    ]


async def test_no_delay_sends_the_103_before_the_app_runs() -> None:
    recorder = Recorder()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        recorder.messages.append({"type": "the app began"})
        await inner_app(scope, receive, send)

    middleware = EarlyHintsMiddleware(app, lambda: TABLE, push=True, hint_delay=0)
    await middleware(http_scope("/"), recorder.receive, recorder.send)
    assert recorder.types == [
        "http.response.push",
        "http.response.push",
        "http.response.early_hint",
        "the app began",
        "http.response.start",
        "http.response.body",
    ]


@pytest.mark.parametrize("delay", [0.0, 0.01])
async def test_requests_without_hints_get_the_servers_own_send(delay: float) -> None:
    recorder = Recorder()
    send = recorder.send
    given: list[object] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        given.append(send)
        await inner_app(scope, receive, send)

    # Without the digest cookie: a page that pushes gets its Set-Cookie through a wrapper.
    middleware = EarlyHintsMiddleware(app, lambda: TABLE, push=True, hint_delay=delay, digest=False)
    for scope in (http_scope("/nope/"), http_scope("/", method="POST"), http_scope("/quiet/")):
        await middleware(scope, recorder.receive, send)
    # No wrapper, no timer: nothing is added to requests a 103 cannot help.
    assert all(s is send for s in given)


async def test_an_app_failing_after_the_103_raises_and_leaves_no_task() -> None:
    before = asyncio.all_tasks()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.1)
        raise RuntimeError("the view failed")

    middleware = EarlyHintsMiddleware(app, lambda: TABLE, hint_delay=0.01)
    recorder = Recorder()
    with pytest.raises(RuntimeError, match="the view failed"):
        await middleware(http_scope("/"), recorder.receive, recorder.send)
    # The 103 went out while the view ran; the server's 500 may follow it.
    assert recorder.types == ["http.response.early_hint"]
    assert left_behind(before) == set()


async def test_an_app_failing_before_the_delay_raises_and_cancels_the_103() -> None:
    before = asyncio.all_tasks()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("the view failed")

    middleware = EarlyHintsMiddleware(app, lambda: TABLE, hint_delay=0.05)
    recorder = Recorder()
    with pytest.raises(RuntimeError, match="the view failed"):
        await middleware(http_scope("/"), recorder.receive, recorder.send)
    await asyncio.sleep(0.15)  # well past the delay: the timer is gone
    assert recorder.messages == []
    assert left_behind(before) == set()


async def test_a_failed_103_surfaces_in_the_apps_send() -> None:
    before = asyncio.all_tasks()

    class Gone(Exception):
        pass

    async def send(message: Message) -> None:
        if message["type"] == "http.response.early_hint":
            raise Gone("the client went away")

    middleware = EarlyHintsMiddleware(slow_app(0.1), lambda: TABLE, hint_delay=0.01)
    with pytest.raises(Gone):
        await middleware(http_scope("/"), Recorder().receive, send)
    assert left_behind(before) == set()


async def test_a_103_on_its_way_goes_out_before_the_response_start() -> None:
    """The app starts its response while the server is still sending the 103."""
    before = asyncio.all_tasks()
    events: list[str] = []
    hint_in_server = asyncio.Event()
    release_hint = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.early_hint":
            events.append("103 begins")
            hint_in_server.set()
            await release_hint.wait()  # the server is busy writing it
            events.append("103 ends")
        else:
            events.append(message["type"])

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await hint_in_server.wait()
        events.append("the app sends its start")
        await inner_app(scope, receive, send)

    middleware = EarlyHintsMiddleware(app, lambda: TABLE, hint_delay=0.01)
    task = asyncio.create_task(middleware(http_scope("/"), Recorder().receive, send))
    await hint_in_server.wait()
    await asyncio.sleep(0.05)
    assert events == ["103 begins", "the app sends its start"]  # and it waits
    release_hint.set()
    await task
    assert events == [
        "103 begins",
        "the app sends its start",
        "103 ends",
        "http.response.start",
        "http.response.body",
    ]
    assert left_behind(before) == set()


async def test_a_103_not_yet_begun_when_the_response_starts_is_dropped() -> None:
    """The timer fired, but the response started before the 103's task ran."""
    before = asyncio.all_tasks()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        time.sleep(0.03)  # a blocking view: the loop cannot run the timer meanwhile
        # The loop's next turn runs the timer (past due), which makes the 103's
        # task; the turn after, this coroutine runs before that task does.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await inner_app(scope, receive, send)

    middleware = EarlyHintsMiddleware(app, lambda: TABLE, hint_delay=0.01)
    recorder = await run(middleware, http_scope("/"))
    # A 103 now would leave in the same write as the 200 and its Link field.
    assert recorder.types == ["http.response.start", "http.response.body"]
    assert left_behind(before) == set()


@pytest.mark.parametrize("delay", [-0.001, float("nan"), "0.01", True, None])
def test_a_bad_hint_delay_is_refused(delay: object) -> None:
    with pytest.raises(ValueError, match="hint_delay must be a number of seconds >= 0"):
        EarlyHintsMiddleware(inner_app, lambda: TABLE, hint_delay=delay)  # type: ignore[arg-type]


# --- the whole app, at the ASGI level ---------------------------------------------------


async def test_full_app_sends_pushes_then_103_then_the_response(built_site: Site) -> None:
    app = create_app(built_site.root, early_hints_delay=0, environ={})
    recorder = await run(app, http_scope("/"))
    types = recorder.types
    pushes = [m["path"] for m in recorder.messages if m["type"] == "http.response.push"]
    start = types.index("http.response.start")
    # Every PUSH_PROMISE precedes the 103 that names the same resources (RFC 9113
    # §8.4), and both precede the response.
    assert pushes == built_site.pushed["/"]
    assert types[:start] == ["http.response.push"] * len(pushes) + ["http.response.early_hint"]
    hint = recorder.messages[len(pushes)]
    # One Link value with every hint, in manifest order: the 200's field.
    assert hint["links"] == [built_site.link_header("/").encode()]
    headers = dict(recorder.messages[start]["headers"])
    assert recorder.messages[start]["status"] == 200
    assert headers[b"link"].decode() == built_site.link_header("/")


async def test_full_app_on_http11_sends_only_the_link_header(built_site: Site) -> None:
    app = create_app(built_site.root, environ={})
    recorder = await run(app, http_scope("/docs/", http_version="1.1"))
    assert recorder.types[0] == "http.response.start"
    assert "http.response.push" not in recorder.types
    headers = dict(recorder.messages[0]["headers"])
    assert headers[b"link"].decode() == built_site.link_header("/docs/")


async def test_full_app_pushes_percent_encoded_paths(built_site: Site) -> None:
    app = create_app(built_site.root, environ={})
    recorder = await run(app, http_scope("/docs/"))
    pushes = [m["path"] for m in recorder.messages if m["type"] == "http.response.push"]
    assert pushes == ["/static/css/site.css", "/static/img/caf%C3%A9.svg"]
    assert all(p.isascii() for p in pushes)


async def test_a_connection_with_too_many_pushes_in_flight_gets_no_more() -> None:
    # A diary whose connection has `in_flight[0]` pushes still being sent (what
    # pushgen's Hypercorn hook counts); each push the middleware makes adds one.
    in_flight = [0]
    diary = PushDiary(in_flight=lambda: in_flight[0])

    async def counting_send(message: Message) -> None:
        if message["type"] == "http.response.push":
            in_flight[0] += 1

    app = EarlyHintsMiddleware(inner_app, lambda: TABLE, push=True, digest=False, max_in_flight=3)

    async def page(path: str) -> list[str]:
        scope = http_scope(path)
        scope["extensions"][CONNECTION_EXTENSION] = diary
        recorder = Recorder()

        async def send(message: Message) -> None:
            await counting_send(message)
            await recorder.send(message)

        await app(scope, recorder.receive, send)
        assert recorder.types[-2:] == ["http.response.start", "http.response.body"]
        return [m["path"] for m in recorder.messages if m["type"] == "http.response.push"]

    in_flight[0] = 2
    assert await page("/") == ["/a.css"]  # one more reaches the bound of 3
    assert await page("/") == []  # /f.woff2 waits (hinted, not pushed, not in the diary)
    in_flight[0] = 0  # the earlier pushes were sent
    assert await page("/") == ["/f.woff2"]
    # Under another server nothing counts a connection's pushes: no bound applies.
    unbounded = EarlyHintsMiddleware(
        inner_app, lambda: TABLE, push=True, digest=False, max_in_flight=0
    )
    assert [m["path"] for m in (await run(unbounded, http_scope("/"))).messages[:2]] == [
        "/a.css",
        "/f.woff2",
    ]
