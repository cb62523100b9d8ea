"""``pushgen verify --app`` on ASGI apps that are not Quart: Starlette, FastAPI, Django.

End to end (each in its interpreter, in the app's folder, as a user runs it): a
Starlette app without pushgen's middleware, built with ``pushgen build`` and verified
with the middleware verify adds; a Django app whose own ``PushgenMiddleware`` serves,
its static files from Django's handler, its lifespan refused as Django refuses it.
Real Hypercorn on loopback, real headless Chromium. In process: which middleware
serves (the app's own, found in Starlette's and FastAPI's stacks, or one added),
and the lifespan answered for an app that refuses it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from pushgen.asgi import PushgenMiddleware
from pushgen.errors import BuildError
from pushgen.verify.apps import find_middleware, served_app
from pushgen.verify.result import schema
from tests.asgi.apps import MANIFEST
from tests.browser_harness import chromium
from tests.clients import REPO

pytestmark = [pytest.mark.timeout(600)]

APPS = Path(__file__).resolve().parent / "apps"


def _pushgen(cwd: Path, cache_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cache_dir),
           "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "pushgen", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _built(name: str, tmp_path: Path, cache_dir: Path) -> Path:
    pytest.importorskip("httpx", reason="pushgen build --app on an ASGI app needs httpx")
    with chromium():
        pass  # skip here, not in the middle, when there is no browser
    folder = tmp_path / name
    shutil.copytree(APPS / name, folder)
    build = _pushgen(folder, cache_dir, "build")
    assert build.returncode == 0, build.stderr
    return folder


def _routes(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    jsonschema.validate(data, schema())
    assert data["manifest"] == "push-manifest.yaml" and data["summary"]["ok"] is True
    return {r["route"]: r for r in data["routes"]}


def test_a_starlette_app_without_the_middleware_verifies_with_the_one_verify_adds(
    tmp_path: Path, cache_dir: Path
) -> None:
    pytest.importorskip("starlette")
    folder = _built("starlette_plain", tmp_path, cache_dir)
    done = _pushgen(folder, cache_dir, "verify", "--app", "app:app", "--json")
    routes = _routes(done)
    assert sorted(routes) == ["/", "/post"]
    for route in routes.values():
        assert route["status"] == 200 and route["protocol"] == "h2", route
    fetched = {f["path"] for f in routes["/post"]["fetched"]}
    assert {"/static/site.css", "/static/blog.css"} <= fetched
    # The hints reached Chromium: from the 103 (or, when Chromium read the 200 first,
    # from its Link field); either way no miss, nothing needless (summary ok above).
    assert "Traceback" not in done.stderr and "Lifespan" not in done.stderr


def test_a_django_app_verifies_with_its_own_middleware(tmp_path: Path, cache_dir: Path) -> None:
    pytest.importorskip("django")
    folder = _built("django_own", tmp_path, cache_dir)
    done = _pushgen(
        folder, cache_dir, "verify", "--app", "asgi:application", "--routes", "/post", "--json"
    )
    routes = _routes(done)
    assert list(routes) == ["/post"]
    assert routes["/post"]["status"] == 200 and routes["/post"]["protocol"] == "h2"
    assert {"/static/site.css", "/static/blog.css"} <= {
        f["path"] for f in routes["/post"]["fetched"]
    }
    # Django refuses the lifespan protocol: verify answers it, Hypercorn says nothing.
    assert "Lifespan" not in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("app", ["tests.asgi.starlette_app:app", "tests.asgi.fastapi_app:app"])
def test_the_apps_own_middleware_serves_found_in_its_stack(app: str) -> None:
    pytest.importorskip("httpx")
    served = served_app(REPO, app, Path("elsewhere.yaml"))
    assert served.own and served.manifest == MANIFEST


def test_an_app_without_the_middleware_is_wrapped_in_it(tmp_path: Path) -> None:
    pytest.importorskip("httpx")
    (tmp_path / "bare_asgi_for_verify.py").write_text(
        "async def app(scope, receive, send):\n    pass\n", encoding="utf-8"
    )
    manifest = tmp_path / "push-manifest.yaml"
    shutil.copy(MANIFEST, manifest)
    served = served_app(tmp_path, "bare_asgi_for_verify:app", manifest)
    assert not served.own and served.manifest == manifest
    assert isinstance(served.app, PushgenMiddleware)
    assert served.app.state.options.manifest == manifest
    assert served.app.state.options.early_hints_delay == 0.0
    assert find_middleware(served.app) is served.app


def test_an_object_that_is_no_asgi_app_is_a_located_error(tmp_path: Path) -> None:
    pytest.importorskip("httpx")
    (tmp_path / "not_asgi_for_verify.py").write_text("app = 42\n", encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        served_app(tmp_path, "not_asgi_for_verify:app", None)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.message.startswith(
        "names an object of type int, not a Quart app nor any ASGI app"
    )


def test_the_lifespan_is_answered_for_an_app_that_refuses_it(tmp_path: Path) -> None:
    pytest.importorskip("httpx")
    (tmp_path / "refuses_lifespan_for_verify.py").write_text(
        "async def app(scope, receive, send):\n    raise ValueError('only http')\n",
        encoding="utf-8",
    )
    manifest = tmp_path / "push-manifest.yaml"
    shutil.copy(MANIFEST, manifest)
    served = served_app(tmp_path, "refuses_lifespan_for_verify:app", manifest)
    inbox = ["lifespan.startup", "lifespan.shutdown"]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return {"type": inbox.pop(0)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(served.app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"] and not inbox
