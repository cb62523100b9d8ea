"""Django's ASGI handler in pushgen's middleware; /static/ served by Starlette's StaticFiles.

Django serves no static files in production (``DEBUG = False``); a server or a
static-file app does. Here that is Starlette's ``StaticFiles``, beside the
wrapped handler, so the pushed requests for /static/ reach it.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application
from starlette.staticfiles import StaticFiles

from pushgen.asgi import PushgenMiddleware
from pushgen.runtime.middleware import Receive, Scope, Send
from tests.asgi.apps import MANIFEST, SITE, STATIC

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.asgi.django_site.settings")

django_app = PushgenMiddleware(
    get_asgi_application(), manifest=MANIFEST, output=SITE, early_hints_delay=0
)
static = StaticFiles(directory=STATIC)


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    """/static/... to the static files, everything else to Django."""
    if scope["type"] == "http" and scope["path"].startswith("/static/"):
        await static({**scope, "root_path": "/static"}, receive, send)
    elif scope["type"] == "lifespan":
        # Django's handler refuses the lifespan protocol; answer it here.
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    else:
        await django_app(scope, receive, send)
