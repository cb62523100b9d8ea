"""A Starlette app with Jinja2 templates and StaticFiles, wrapped in pushgen's middleware."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.websockets import WebSocket

from pushgen.asgi import PushgenMiddleware
from tests.asgi.apps import APP_LINK, MANIFEST, SITE, STATIC, TEMPLATES, chunks

templates = Jinja2Templates(directory=TEMPLATES)


async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "index.html", {"title": "Home"})


async def post(request: Request) -> Response:
    return templates.TemplateResponse(request, "post.html", {"slug": request.path_params["slug"]})


async def about(request: Request) -> Response:
    return HTMLResponse("<h1>about</h1>", headers={"Link": APP_LINK})


async def form(request: Request) -> Response:
    return HTMLResponse(request.method)


async def stream(request: Request) -> Response:
    return StreamingResponse(chunks(), media_type="text/html")


async def extensions(request: Request) -> Response:
    """The ASGI extensions the server offered this request (what tests/asgi measures)."""
    return JSONResponse(sorted(request.scope.get("extensions") or {}))


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


routes = [
    Route("/", home),
    Route("/blog/{slug}", post),
    Route("/about", about),
    Route("/form", form, methods=["GET", "POST"]),
    Route("/stream", stream),
    Route("/extensions", extensions),
    WebSocketRoute("/ws", echo),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]


def create(**options: Any) -> Starlette:
    """The app, with pushgen's ``options`` (the 103 at once unless told otherwise)."""
    options.setdefault("early_hints_delay", 0)
    middleware = [Middleware(PushgenMiddleware, manifest=MANIFEST, output=SITE, **options)]
    return Starlette(routes=routes, middleware=middleware)


app = create()
