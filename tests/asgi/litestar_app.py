"""A Litestar app with Jinja2 templates and its static-files router, in pushgen's middleware.

Litestar applies its own ``middleware=[...]`` per route handler, after routing
(https://docs.litestar.dev/2/usage/middleware/), so that each handler would hold a
middleware of its own, each with its copy of the manifest and its watcher; the app
is wrapped whole instead, as Django's handler is, and one middleware serves every
route (and sees the lifespan, which stops its manifest watcher).
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Litestar, MediaType, Response, get
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from pushgen.asgi import PushgenMiddleware
from pushgen.runtime.middleware import ASGIApp
from tests.asgi.apps import APP_LINK, MANIFEST, SITE, STATIC, TEMPLATES


@get("/", media_type=MediaType.HTML)
async def home() -> Template:
    return Template("index.html", context={"title": "Home"})


@get("/blog/{slug:str}", media_type=MediaType.HTML)
async def post(slug: str) -> Template:
    return Template("post.html", context={"slug": slug})


@get("/about", media_type=MediaType.HTML)
async def about() -> Response[str]:
    return Response("<h1>about</h1>", media_type=MediaType.HTML, headers={"Link": APP_LINK})


def create(**options: Any) -> PushgenMiddleware:
    """The app in pushgen's middleware, with its ``options`` (the 103 at once unless told)."""
    options.setdefault("early_hints_delay", 0)
    litestar = Litestar(
        route_handlers=[
            home,
            post,
            about,
            create_static_files_router(path="/static", directories=[STATIC]),
        ],
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
    )
    # Litestar types its __call__ with its own message unions, which pushgen's
    # plain-mapping ASGIApp does not name: the same protocol, told to mypy.
    return PushgenMiddleware(cast(ASGIApp, litestar), manifest=MANIFEST, output=SITE, **options)


app = create()
