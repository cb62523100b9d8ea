"""A Starlette app without pushgen's middleware: ``pushgen verify --app`` adds it.

Its pages are tests/asgi's templates, its static files tests/asgi's (served by
StaticFiles), so ``pushgen build --app app:app`` writes a manifest with both pages.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from tests.asgi.apps import STATIC, TEMPLATES

templates = Jinja2Templates(directory=TEMPLATES)


async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "index.html", {"title": "Home"})


async def post(request: Request) -> Response:
    return templates.TemplateResponse(request, "post.html", {"slug": "hello"})


app = Starlette(
    routes=[
        Route("/", home),
        Route("/post", post),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
)
