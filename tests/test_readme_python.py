"""The Python snippets of README.md are correct: each compiles, and the ASGI ones serve.

tests/test_readme_commands.py runs the ``sh`` blocks; this runs the snippets that
wrap an ASGI app in :class:`pushgen.asgi.PushgenMiddleware` (Starlette, FastAPI,
Django) as written, in a folder holding a push manifest, with only what the
snippet leaves to the reader filled in (Starlette's ``routes``, FastAPI's view),
and asks the app for ``/`` through httpx: the answer carries the manifest's
``Link`` header.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import HTMLResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
_PYTHON = re.compile(r"^```python\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
BLOCKS = [m.group("body") for m in _PYTHON.finditer((ROOT / "README.md").read_text("utf-8"))]
MANIFEST = "version: 1\nroutes:\n  /:\n    - {path: /static/site.css, as: style}\n"
LINK = "</static/site.css>; rel=preload; as=style"


def asgi_block(title: str) -> str:
    """The README's snippet whose first line is ``# TITLE``."""
    found = [block for block in BLOCKS if block.startswith(f"# {title}")]
    assert len(found) == 1, f"README.md: one python block starting `# {title}`"
    return found[0]


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_every_python_block_compiles(number: int) -> None:
    compile(BLOCKS[number], f"README.md python block {number + 1}", "exec")


async def home(request: Any) -> HTMLResponse:
    return HTMLResponse("<h1>home</h1>")


async def fastapi_home() -> HTMLResponse:
    return HTMLResponse("<h1>home</h1>")


def get_root(app: Any) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.get("/")

    return asyncio.run(get())


@pytest.mark.parametrize("title", ["Starlette", "FastAPI", "Django"])
def test_an_asgi_snippet_serves_the_manifests_link_header(
    title: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "push-manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the snippets name the manifest relative to it
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.asgi.django_site.settings")
    namespace: dict[str, Any] = {"routes": [Route("/", home)]}  # Starlette's: the reader's
    exec(compile(asgi_block(title), f"README.md {title}", "exec"), namespace)
    if title == "FastAPI":
        namespace["app"].get("/")(fastapi_home)  # the reader's view
    app = namespace["application" if title == "Django" else "app"]
    response = get_root(app)
    assert response.status_code == 200
    assert response.headers.get_list("link") == [LINK]
