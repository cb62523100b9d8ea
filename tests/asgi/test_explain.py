"""``pushgen explain`` on the manifest of an ASGI app that is not Quart (sources/app_pages.py).

The app is loaded as ``pushgen build --app`` loads it, and the page asked about
rendered through httpx, so each entry gets its chain (``via GET /:7 ->
/static/app.js``) as a Quart app's does; each command runs in its own interpreter
in a folder of its own, as a user runs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.asgi.test_build import BROKEN
from tests.clients import run_pushgen

APPS = [
    "tests.asgi.starlette_app:app",
    "tests.asgi.fastapi_app:app",
    "tests.asgi.django_site.asgi:application",
]


@pytest.mark.parametrize("app", APPS)
def test_explain_gives_the_chain_through_an_asgi_app(tmp_path: Path, app: str) -> None:
    (tmp_path / "pushgen.yaml").write_text("urls: [/blog/hello]\n", encoding="utf-8")
    built = run_pushgen(tmp_path, "build", "--app", app)
    assert built.returncode == 0, built.stderr
    home = run_pushgen(tmp_path, "explain", "/")
    assert home.returncode == 0, home.stderr
    assert home.stdout.splitlines() == [
        f"/ (GET /; routes written by pushgen build --app {app}): 2 entries: 2 pushed, "
        "0 hinted only, 0 listed only, 0 removed",
        "  1. push    style  /static/site.css",
        "     via GET /:6 -> /static/site.css",
        "  2. push    script /static/app.js",
        "     via GET /:7 -> /static/app.js",
    ]
    # A post folded into the rule /blog/<slug>: its page is rendered, and the
    # rule's entries are what the manifest says of it (no "differs" problem).
    post = run_pushgen(tmp_path, "explain", "/blog/hello")
    assert post.returncode == 0, post.stderr
    lines = post.stdout.splitlines()
    assert lines[0].startswith("/blog/hello (GET /blog/hello; routes written by")
    assert "     via GET /blog/hello:7 -> /static/blog.css" in lines
    assert not [line for line in lines if line.startswith("  !")], post.stdout


def test_explain_an_asgi_app_whose_startup_fails_says_so_and_explains_the_manifest(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "pushgen.yaml").write_text("urls: [/blog/hello]\n", encoding="utf-8")
    built = run_pushgen(tmp_path, "build", "--app", "broken:app")
    assert built.returncode == 0, built.stderr
    # The same routes, served by the app whose lifespan refuses to start.
    (tmp_path / "pushgen.yaml").write_text("app: broken:down\n", encoding="utf-8")
    done = run_pushgen(tmp_path, "explain", "/")
    assert done.returncode == 1, done.stderr  # / has no entries: nothing to explain
    out = done.stdout.splitlines()
    assert out[1].startswith("  ! app: error: --app: the app's lifespan startup failed:"), out
    assert "cannot reach the database" in out[1]
    assert "Traceback" not in done.stderr
