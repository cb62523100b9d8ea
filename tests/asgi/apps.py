"""What the ASGI apps of tests/asgi share: the site folder, its manifest, the streamed page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

SITE = Path(__file__).resolve().parent / "site"
MANIFEST = SITE / "push-manifest.yaml"
TEMPLATES = SITE / "templates"
STATIC = SITE / "static"
# The app's own Link field on /about, which pushgen's must not replace.
APP_LINK = "<https://cdn.example>; rel=preconnect"
STREAM_CHUNKS = 3


async def chunks() -> AsyncIterator[bytes]:
    """A page in several body messages, each after a pause (the app still thinking)."""
    for n in range(STREAM_CHUNKS):
        yield f"<p>chunk {n}</p>\n".encode()
        await asyncio.sleep(0)
