"""What the ASGI apps of tests/asgi share: the site folder, its manifest, the streamed page,
and what their tests check of a hinted page under Hypercorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.clients import Exchange

SITE = Path(__file__).resolve().parent / "site"
MANIFEST = SITE / "push-manifest.yaml"
TEMPLATES = SITE / "templates"
STATIC = SITE / "static"
# The app's own Link field on /about, which pushgen's must not replace.
APP_LINK = "<https://cdn.example>; rel=preconnect"
STREAM_CHUNKS = 3
# The Link values of the manifest's / and /blog/<slug> (in manifest order), and the
# pushes each page gets: what every app's test asks of them under Hypercorn.
HOME_LINKS = ["</static/site.css>; rel=preload; as=style", "</static/app.js>; rel=modulepreload"]
BLOG_LINKS = [
    "</static/site.css>; rel=preload; as=style",
    "</static/blog.css>; rel=preload; as=style",
]
HINTED_PAGES = [
    ("/", HOME_LINKS, ["/static/site.css", "/static/app.js"]),
    ("/blog/hello-world", BLOG_LINKS, ["/static/site.css", "/static/blog.css"]),
]


async def chunks() -> AsyncIterator[bytes]:
    """A page in several body messages, each after a pause (the app still thinking)."""
    for n in range(STREAM_CHUNKS):
        yield f"<p>chunk {n}</p>\n".encode()
        await asyncio.sleep(0)


def assert_hinted_page(exchange: Exchange, links: list[str], pushed: list[str]) -> None:
    """An HTTP/2 exchange of a manifest route: its pushes, then the 103, then the page,
    the 103 and the 200 each with one ``Link`` field of every hint in manifest order,
    the pushed bodies the static files, the page the template's."""
    assert exchange.order[: len(pushed) + 2] == [
        *["push_promise"] * len(pushed),
        "informational",
        "response",
    ]
    [hint] = exchange.informational
    assert dict(hint)[":status"] == "103"
    assert [v for n, v in hint if n == "link"] == [", ".join(links)]
    assert [v for n, v in exchange.headers if n == "link"] == [", ".join(links)]
    assert list(exchange.pushes) == pushed
    for url, response in exchange.pushes.items():
        assert response.status == 200
        assert response.body == (STATIC / url.removeprefix("/static/")).read_bytes()
    assert b"/static/site.css" in exchange.body  # the template's page, rendered
