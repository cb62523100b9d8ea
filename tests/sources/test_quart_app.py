"""``pushgen build --app``: a Quart app rendered through its test client (examples/quart_app).

The app is built and served in subprocesses, as a user runs them in the app's
folder (its modules, ``app`` and ``docs``, must not be cached by this process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pushgen.manifest import Manifest, load_manifest
from pushgen.runtime.certs import DevCertificate
from tests.clients import REPO, nghttp, run_pushgen, start_hypercorn

EXAMPLE = REPO / "examples" / "quart_app"


pushgen = run_pushgen


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example app, built with ``pushgen build`` (``app:`` in its pushgen.yaml)."""
    copy = tmp_path_factory.mktemp("quart_app") / "quart_app"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", "push-manifest*"))
    done = pushgen(copy, "build")
    assert done.returncode == 0, done.stderr
    assert "6 pages" in done.stderr and "0 warnings, 0 errors" in done.stderr, done.stderr
    return copy


def test_the_build_renders_rules_generators_and_links(example: Path) -> None:
    routes = load_manifest(example / "push-manifest.yaml").routes
    # "/" and "/about" (rules without arguments), /docs/ (a blueprint), /blog/hello and
    # /blog/second (the generator), /blog/linked (a link on /); /blog/draft: none of them.
    assert sorted(routes) == ["/", "/about", "/blog/<slug>", "/blog/hello", "/docs/"]
    site = ["/static/css/site.css", "/static/css/base.css"]
    scripts = ["/static/js/app.js", "/static/js/util.js"]
    assert [a.path for a in routes["/blog/<slug>"]] == [*site, "/static/css/blog.css", *scripts]
    # /blog/hello needs more (its hero image): an exact route of its own.
    assert [a.path for a in routes["/blog/hello"]][-1] == "/static/img/hero.svg"
    # The blueprint's own static folder, at its own URL path, fetched through the app.
    assert "/docs/static/docs.css" in [a.path for a in routes["/docs/"]]
    manifest = load_manifest(example / "push-manifest.yaml")
    assert manifest.generated("/blog/draft") == routes["/blog/<slug>"]
    assert manifest.generated("/blog/hello") == routes["/blog/hello"]


def test_the_committed_example_manifest_is_up_to_date() -> None:
    done = pushgen(EXAMPLE, "build", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (EXAMPLE / "__pycache__").exists()


def test_a_url_the_build_never_rendered_gets_its_rules_pushes_and_103(
    example: Path, dev_cert: DevCertificate
) -> None:
    manifest: Manifest = load_manifest(example / "push-manifest.yaml")
    pushed = [a.path for a in manifest.routes["/blog/<slug>"] if a.push]
    server = start_hypercorn(
        "app:app",
        example / "hypercorn.log",
        certfile=dev_cert.certfile,
        keyfile=dev_cert.keyfile,
        env={"PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        result = nghttp(server.url + "blog/draft")
    finally:
        server.stop()
    assert result.returncode == 0, result.output
    promised = [f.header(":path") for f in result.frames if f.type == "PUSH_PROMISE"]
    assert promised == pushed
    statuses = [f.status for f in result.received("HEADERS", 13)]
    assert statuses == [103, 200], result.output
    assert "Traceback" not in server.log()


_TEST_CLIENT = """
import asyncio, json
from app import app

async def main():
    async with app.test_app() as test_app:
        client = test_app.test_client()
        response = await client.get("/blog/draft", http_version="2")
        assert response.status_code == 200
        print(json.dumps([path for path, _headers in client.push_promises]))

asyncio.run(main())
"""


def test_quarts_http2_test_client_sees_the_same_push_promises(example: Path) -> None:
    manifest = load_manifest(example / "push-manifest.yaml")
    pushed = [a.path for a in manifest.routes["/blog/<slug>"] if a.push]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(example), str(REPO)])
    done = subprocess.run(
        [sys.executable, "-c", _TEST_CLIENT],
        cwd=example, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == pushed


BAD_APP = """
from quart import Quart, jsonify, redirect
import pushgen.quart

app = Quart(__name__)

@app.get("/")
async def index():
    return '<link rel=stylesheet href="/static/s.css"><a href="/items/1">1</a><a href="/nowhere">x</a>'

@app.get("/boom")
async def boom():
    raise RuntimeError("database down")

@app.get("/five")
async def five():
    return "no", 500

@app.get("/loop")
async def loop():
    return redirect("/loop2")

@app.get("/loop2")
async def loop2():
    return redirect("/loop")

@app.get("/moved")
async def moved():
    return redirect("/")

@app.get("/api")
async def api():
    return jsonify(ok=True)

@app.get("/items/<int:item>")
async def item(item):
    return f"<link rel=stylesheet href='/static/s.css'><p>{item}</p>"

@pushgen.quart.url_generator(app, "item")
def items():
    yield {"item": 3}
    yield {"nope": 1}
    raise KeyError("no more items")
"""


def test_bad_input_never_stops_the_rest(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BAD_APP)
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "s.css").write_text("p { color: red }\n")
    done = pushgen(tmp_path, "build", "--app", "bad:app")
    err = done.stderr
    assert done.returncode == 0, err
    assert "Traceback" not in err
    expected = [
        "bad.py:13: warning: GET /boom (rule /boom, view boom): the view raised RuntimeError: database down",
        "bad.py:15: warning: GET /five (rule /five, view five): answered 500; skipped",
        "bad.py:19: warning: GET /loop (rule /loop, view loop): redirect loop /loop -> /loop2 -> /loop; skipped",
        "bad.py:23: warning: GET /loop2 (rule /loop2, view loop2): redirect loop /loop2 -> /loop -> /loop2",
        "bad.py:27: warning: GET /moved (rule /moved, view moved): redirects /moved -> /; the last is rendered",
        "bad.py:31: warning: GET /api (rule /api, view api): answered application/json, not HTML; skipped",
        # A generator is located at its definition (its decorator's line).
        "bad.py:39: warning: URL generator yielded {'nope': 1} for item, which builds no URL",
        "bad.py:43: warning: URL generator items raised KeyError: 'no more items'",
    ]
    for line in expected:
        assert line in err, (line, err)
    routes = load_manifest(tmp_path / "push-manifest.yaml").routes
    # /items/1 (a link) and /items/3 (the generator) were rendered all the same.
    assert sorted(routes) == ["/", "/items/<int:item>"]
    assert [a.path for a in routes["/items/<int:item>"]] == ["/static/s.css"]
    before = (tmp_path / "push-manifest.yaml").read_text()
    strict = pushgen(tmp_path, "build", "--app", "bad:app", "--strict")
    assert strict.returncode == 1 and "error: GET /boom" in strict.stderr
    assert (tmp_path / "push-manifest.yaml").read_text() == before


@pytest.mark.parametrize(
    ("source", "app", "message"),
    [
        ("x = 1\ndef broken(:\n", "broken:app", "broken.py:2:12: error: --app broken:app: cannot import: invalid syntax"),
        ("import quart\nraise ValueError('no config')\n", "raising:app", "raising.py:2: error: --app raising:app: cannot load the app: ValueError: no config"),
        ("app = 42\n", "number:app", "--app number:app: error: names an object of type int, not a Quart app"),
        ("", "missing_module:app", "cannot load the app: ModuleNotFoundError"),
        ("", "bad spec:", "--app 'bad spec:': write MODULE:APP"),
    ],
)  # fmt: skip
def test_an_app_that_cannot_be_loaded_is_one_located_error(
    tmp_path: Path, source: str, app: str, message: str
) -> None:
    name = app.partition(":")[0]
    if source:
        (tmp_path / f"{name}.py").write_text(source)
    done = pushgen(tmp_path, "build", "--app", app)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "push-manifest.yaml").exists()


def test_a_rule_route_is_valid_for_check_and_explain(example: Path) -> None:
    done = pushgen(example, "check", "push-manifest.yaml")
    assert done.returncode == 0, done.stderr
    done = pushgen(example, "explain", "/blog/draft")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "/static/css/blog.css" in done.stdout


def test_the_runtime_matches_a_rule_route_for_pages_only() -> None:
    from pushgen.manifest import parse_manifest
    from pushgen.runtime.headers import build_route_table

    manifest = parse_manifest(
        "version: 1\nroutes:\n"
        '  "/blog/<slug>":\n    - {path: /static/blog.css, as: style}\n'
        "  /blog/special:\n    - {path: /static/other.css, as: style}\n"
    )
    table = build_route_table(manifest)
    plan = table.lookup("/blog/never-built")
    assert plan is not None and plan.push_paths == ("/static/blog.css",)
    special = table.lookup("/blog/special")
    assert special is not None and special.push_paths == ("/static/other.css",)  # exact wins
    assert table.lookup("/blog/x.css") is None  # an asset the rule happens to match
    assert table.lookup("/blog/a/b") is None


def test_the_manifest_names_the_command_that_rewrites_its_routes(
    example: Path, tmp_path: Path
) -> None:
    # `app:` in pushgen.yaml: a plain `pushgen build` rewrites the routes.
    text = (example / "push-manifest.yaml").read_text()
    assert "# `routes` is rewritten by every `pushgen build`;" in text
    assert "routes:  # written by pushgen build;" in text
    manifest = tmp_path / "m.yaml"
    done = pushgen(example, "build", "--app", "app:app", "-m", str(manifest))
    assert done.returncode == 0, done.stderr
    text = manifest.read_text()
    assert "# `routes` is rewritten by every `pushgen build --app app:app`;" in text
    assert "routes:  # written by pushgen build --app app:app;" in text
    assert "written by pushgen build;" not in text


SLOW_APP = """
import asyncio
from pathlib import Path
from quart import Quart

app = Quart(__name__)
SENT = Path(__file__).with_name("sent.txt")

@app.get("/")
async def index():
    return '<link rel=stylesheet href="/big.css"><a href="/never">1</a><a href="/forever">2</a><a href="/huge">3</a>'

@app.get("/never")
async def never():
    await asyncio.sleep(3600)

@app.get("/forever")
async def forever():
    async def body():
        while True:
            yield b"<p>still here</p>"
            await asyncio.sleep(0.01)
    return body(), {"Content-Type": "text/html"}

def streamed(name):
    async def body():
        for i in range(300):  # 300 MB, one megabyte at a time
            SENT.write_text(f"{name} {i + 1}")
            yield b"x" * 1_000_000
    return body()

@app.get("/huge")
async def huge():
    return streamed("huge"), {"Content-Type": "text/html"}

@app.get("/big.css")
async def big_css():
    return streamed("big.css"), {"Content-Type": "text/css"}
"""


def test_a_view_that_never_answers_or_sends_too_much_is_given_up(tmp_path: Path) -> None:
    """Bounds on `build --app` requests (issue 22 item 6c): it waited forever and read 300 MB whole."""
    (tmp_path / "slow.py").write_text(SLOW_APP)
    (tmp_path / "pushgen.yaml").write_text("app: slow:app\nrequest_timeout: 0.5\n")
    done = pushgen(tmp_path, "build", "--max-body", "2000000")
    err = done.stderr
    assert done.returncode == 0, err
    assert "Traceback" not in err
    timeout = (
        "no whole answer within 0.5 s (it never answers, or streams forever); skipped. If it is "
        "only slow, raise request_timeout in pushgen.yaml or --request-timeout"
    )
    too_big = (
        "the body passed 2,000,000 bytes (max_body); skipped, the rest unread. If the page is "
        "that big, raise max_body in pushgen.yaml or --max-body"
    )
    expected = [
        f"slow.py:13: warning: GET /never (rule /never, view never): {timeout}",
        f"slow.py:17: warning: GET /forever (rule /forever, view forever): {timeout}",
        f"slow.py:32: warning: GET /huge (rule /huge, view huge): {too_big}",
        f"slow.py:36: warning: GET /big.css (rule /big.css, view big_css): {too_big}",
    ]
    for line in expected:
        assert line in err, (line, err)
    # Both bodies were abandoned a chunk past the bound: 3 MB each of the 300.
    assert (tmp_path / "sent.txt").read_text() in ("big.css 3", "huge 3")
    routes = load_manifest(tmp_path / "push-manifest.yaml").routes
    assert sorted(routes) == ["/"]


def test_the_app_bounds_are_checked_where_they_are_set(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW_APP)
    (tmp_path / "pushgen.yaml").write_text("app: slow:app\nmax_body: 1.5\n")
    done = pushgen(tmp_path, "build")
    assert done.returncode == 1
    assert "pushgen.yaml:2:11: 'max_body' must be a positive number of bytes (an integer)" in (
        done.stderr
    )
    done = pushgen(tmp_path, "build", "--app", "slow:app", "--request-timeout", "0")
    assert done.returncode == 2 and "--request-timeout" in done.stderr


def test_an_app_missing_from_a_folder_holding_pushgen_is_located_at_the_app() -> None:
    """Run from a checkout of pushgen (or a project with its ``.venv`` inside), pushgen's own
    frames are under the root: the error must still name the ``--app``, not pushgen's line."""
    import pushgen
    from pushgen.errors import BuildError
    from pushgen.sources.quart_app import AppSpec, load_object

    checkout = Path(pushgen.__file__).resolve().parents[1]
    with pytest.raises(BuildError) as raised:
        load_object(AppSpec.parse("no_such_module_here:app"), checkout)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.file == "--app no_such_module_here:app", diagnostic
    assert diagnostic.message.startswith("cannot load the app: ModuleNotFoundError"), diagnostic
