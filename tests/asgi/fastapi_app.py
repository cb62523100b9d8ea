"""A FastAPI app with Jinja2 templates and StaticFiles, wrapped in pushgen's middleware."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from pushgen.asgi import PushgenMiddleware
from tests.asgi.apps import MANIFEST, SITE, STATIC, TEMPLATES

app = FastAPI()
app.add_middleware(PushgenMiddleware, manifest=MANIFEST, output=SITE, early_hints_delay=0)
app.mount("/static", StaticFiles(directory=STATIC), name="static")
templates = Jinja2Templates(directory=TEMPLATES)


@app.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"title": "Home"})


@app.get("/blog/{slug}", response_class=HTMLResponse)
async def post(request: Request, slug: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "post.html", {"slug": slug})
