"""``pushgen build --app`` on ASGI apps that are not Quart (pushgen/sources/asgi_app.py).

Each build runs in its own interpreter in a folder of its own (as a user runs it
where the app lives), on the Starlette, FastAPI and Django apps of tests/asgi,
whose pages are rendered from templates/ and whose static files they serve.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pushgen.manifest import load_manifest
from pushgen.sources.asgi_routes import asgi_routes, django_rule, starlette_rule
from tests.clients import REPO, run_pushgen

SITE_CSS = ("/static/site.css", "style")
HOME = [SITE_CSS, ("/static/app.js", "script")]
POST = [SITE_CSS, ("/static/blog.css", "style")]


def build(tmp_path: Path, app: str) -> tuple[int, str, dict[str, list[tuple[str, str]]]]:
    """``pushgen build --app APP`` with ``urls: [/blog/hello]``: its code, stderr and routes."""
    (tmp_path / "pushgen.yaml").write_text("urls: [/blog/hello]\n", encoding="utf-8")
    done = run_pushgen(tmp_path, "build", "--app", app)
    manifest = tmp_path / "push-manifest.yaml"
    routes = load_manifest(manifest).routes if manifest.exists() else {}
    found = {route: [(a.path, a.destination) for a in assets] for route, assets in routes.items()}
    return done.returncode, done.stderr, found


def test_a_starlette_app_is_rendered_through_its_router(tmp_path: Path) -> None:
    code, stderr, routes = build(tmp_path, "tests.asgi.starlette_app:app")
    assert code == 0, stderr
    # Every GET Route without parameters (the JSON one warned, the websocket and the
    # static Mount not pages), and /blog/hello from urls: folded into its rule.
    assert routes == {
        "/": HOME,
        "/about": [],
        "/blog/<slug>": POST,
        "/form": [],
        "/stream": [],
    }
    assert "starlette_app.py:42: warning: GET /extensions: answered application/json" in stderr
    assert "5 routes, 1 warning, 0 errors" in stderr
    manifest = load_manifest(tmp_path / "push-manifest.yaml")
    # A post the build never rendered gets its rule's entries at run time.
    assert manifest.generated("/blog/unseen") == manifest.routes["/blog/<slug>"]


def test_a_fastapi_app_leaves_its_api_docs_out(tmp_path: Path) -> None:
    code, stderr, routes = build(tmp_path, "tests.asgi.fastapi_app:app")
    assert code == 0, stderr
    assert routes == {"/": HOME, "/blog/<slug>": POST}
    assert "0 warnings, 0 errors" in stderr


def test_a_django_app_is_rendered_through_its_urlconf(tmp_path: Path) -> None:
    code, stderr, routes = build(tmp_path, "tests.asgi.django_site.asgi:application")
    assert code == 0, stderr
    # path("blog/<slug:slug>") is the rule /blog/<slug> (Django's slug: Quart's default).
    assert routes == {"/": HOME, "/blog/<slug>": POST}
    assert "0 warnings, 0 errors" in stderr


def test_an_app_without_a_router_pushgen_reads_renders_root_and_urls(tmp_path: Path) -> None:
    # A bare ASGI callable: no router to read, so / and urls: are the pages.
    (tmp_path / "bare.py").write_text(
        "from tests.asgi.starlette_app import app as site\n\n"
        "async def app(scope, receive, send):\n    await site(scope, receive, send)\n"
    )
    code, stderr, routes = build(tmp_path, "bare:app")
    assert code == 0, stderr
    assert routes == {"/": HOME, "/blog/hello": POST}


def test_an_object_that_is_no_asgi_app_is_one_located_error(tmp_path: Path) -> None:
    (tmp_path / "notasgi.py").write_text("class App:\n    def __call__(self): ...\n\napp = App()\n")
    code, stderr, routes = build(tmp_path, "notasgi:app")
    assert code == 1
    assert (
        "--app notasgi:app: error: names an object of type App, not a Quart app nor any ASGI app"
    ) in stderr
    assert "Traceback" not in stderr and routes == {}


def test_without_httpx_an_asgi_build_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "pushgen.yaml").write_text("urls: [/blog/hello]\n", encoding="utf-8")
    script = (
        "import sys; sys.modules['httpx'] = None\n"  # as if httpx were not installed
        "import runpy; runpy.run_module('pushgen', run_name='__main__')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [sys.executable, "-c", script, "build", "--app", "tests.asgi.starlette_app:app"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "needs httpx (pip install 'pushgen[asgi]')" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "push-manifest.yaml").exists()


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("/blog/{slug}", "/blog/<slug>"),
        ("/item/{id:int}", "/item/<int:id>"),
        ("/files/{rest:path}", "/files/<path:rest>"),
        ("/about", "/about"),
    ],
)
def test_starlette_paths_become_quart_rules(path: str, rule: str) -> None:
    assert starlette_rule(path) == rule


@pytest.mark.parametrize(
    ("route", "rule"),
    [
        ("blog/<slug:slug>", "/blog/<slug>"),
        ("item/<int:id>/", "/item/<int:id>/"),
        ("<name>", "/<name>"),
        ("files/<path:rest>", "/files/<path:rest>"),
        ("", "/"),
    ],
)
def test_django_routes_become_quart_rules(route: str, rule: str) -> None:
    assert django_rule(route) == rule


def test_routes_are_found_in_mounted_routers_and_match_their_urls() -> None:
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Mount, Route

    async def page(request: object) -> HTMLResponse:
        return HTMLResponse("<p>")

    app = Starlette(
        routes=[
            Mount("/docs", routes=[Route("/{name}", page), Route("/files/{rest:path}", page)]),
            Route("/submit", page, methods=["POST"]),
        ]
    )
    routes = asgi_routes(app)
    assert routes is not None
    assert [r.rule for r in routes] == ["/docs/<name>", "/docs/files/<path:rest>"]
    assert routes[0].pattern.match("/docs/intro") and not routes[0].pattern.match("/docs/a/b")
    assert routes[1].pattern.match("/docs/files/a/b.txt")
    assert routes[0].file.endswith("test_build.py") and routes[0].line > 0


BROKEN = """
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route


async def home(request):
    return HTMLResponse('<link rel="stylesheet" href="/missing.css">')


async def broken(request):
    raise RuntimeError("no database")


async def moved(request):
    return HTMLResponse("", status_code=302, headers={"Location": "/"})


routes = [Route("/", home), Route("/broken", broken), Route("/moved", moved)]
app = Starlette(routes=routes)


@asynccontextmanager
async def refuse(app):
    raise RuntimeError("cannot reach the database")
    yield


down = Starlette(routes=routes, lifespan=refuse)
"""


def test_a_view_that_raises_or_redirects_is_a_warning_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    code, stderr, routes = build(tmp_path, "broken:app")
    assert code == 0, stderr
    assert "broken.py:14: warning: GET /broken: the view raised RuntimeError: no database" in stderr
    assert "broken.py:17: warning: GET /moved: redirects to /; skipped" in stderr
    # /blog/hello (urls:) is no route of this app: said, and left out.
    assert "app: warning: GET /blog/hello: answered 404; skipped" in stderr
    assert routes == {"/": []}  # the missing stylesheet is no entry


def test_a_failed_lifespan_startup_is_one_error_and_nothing_written(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    code, stderr, routes = build(tmp_path, "broken:down")
    assert code == 1
    assert "error: --app: the app's lifespan startup failed" in stderr, stderr
    assert "cannot reach the database" in stderr and "Traceback" not in stderr
    assert routes == {}


@pytest.mark.parametrize("app", ["tests.asgi.starlette_app:app", "tests.asgi.fastapi_app:app"])
def test_the_entries_are_those_a_scan_of_the_same_pages_finds(tmp_path: Path, app: str) -> None:
    """The pages as the app serves them, saved to a folder with its static files and
    scanned (``pushgen scan``), need the same entries, flag for flag."""
    import asyncio

    import httpx

    from tests.asgi.apps import STATIC

    module, _, name = app.partition(":")
    loaded = getattr(importlib.import_module(module), name)
    out = tmp_path / "out"
    shutil.copytree(STATIC, out / "static")
    (out / "blog").mkdir()

    async def save() -> None:
        transport = httpx.ASGITransport(app=loaded)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            (out / "index.html").write_bytes((await client.get("/")).content)
            (out / "blog" / "hello.html").write_bytes((await client.get("/blog/hello")).content)

    asyncio.run(save())
    scanned = run_pushgen(tmp_path, "scan", "out", "-m", "scanned.yaml")
    assert scanned.returncode == 0, scanned.stderr
    code, stderr, _ = build(tmp_path, app)
    assert code == 0, stderr
    scan = load_manifest(tmp_path / "scanned.yaml").routes
    built = load_manifest(tmp_path / "push-manifest.yaml").routes
    assert built["/"] == scan["/"] and built["/"]
    assert built["/blog/<slug>"] == scan["/blog/hello.html"] and built["/blog/<slug>"]
