"""The Quart extension on an ordinary Quart app, through Quart's test client."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest
from quart import Quart, Response, redirect, request

import pushgen.quart
import pushgen.runtime.manifest_state
from pushgen.errors import ConfigError, ManifestError, PushgenError
from pushgen.fsutil import atomic_write
from pushgen.quart import DEFAULT_EARLY_HINTS_DELAY, DEFAULT_MAX_PUSHES, PushgenState
from pushgen.runtime.middleware import EarlyHintsMiddleware
from tests.conftest import MANIFEST, Site

pytestmark = pytest.mark.anyio


def user_app(**config: object) -> Quart:
    """A Quart app of someone else's, with pages at the manifest's routes."""
    app = Quart(__name__)
    app.config.update({f"PUSHGEN_{k.upper()}": v for k, v in config.items()})

    @app.route("/")
    @app.route("/index.html")
    async def home() -> str:
        return "<h1>home</h1>"

    @app.route("/docs/")
    @app.route("/docs/index.html")
    async def docs() -> str:
        return "<h1>docs</h1>"

    @app.route("/about.html")
    async def about() -> Response:
        response = Response("<h1>about</h1>")
        response.headers["Link"] = "<https://cdn.example>; rel=preconnect"
        return response

    @app.route("/static/css/site.css")
    async def css() -> str:
        return "body {}"

    @app.route("/form/", methods=["GET", "POST"])
    async def form() -> str:
        return request.method

    @app.route("/moved/")
    async def moved() -> Response:
        return redirect("/")  # type: ignore[return-value]

    return app


def pushed(client: object) -> list[str]:
    return [path for path, _ in client.push_promises]  # type: ignore[attr-defined]


async def get(
    app: Quart, path: str, *, http_version: str = "2", method: str = "GET", **kw: object
) -> tuple[Response, list[str]]:
    client = app.test_client()
    response = await client.open(path, method=method, http_version=http_version, **kw)  # type: ignore[arg-type]
    return response, pushed(client)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/", "/"),
        ("/index.html", "/"),
        ("/docs/", "/docs/"),
        ("/docs/index.html", "/docs/"),
        ("/about.html", "/about.html"),
    ],
)
async def test_http2_push_promises_are_exactly_the_pushed_entries(
    built_site: Site, path: str, route: str
) -> None:
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    response, promises = await get(app, path)
    assert response.status_code == 200
    assert promises == built_site.pushed[route]
    assert built_site.link_header(route) in response.headers.getlist("Link")


async def test_push_promises_carry_the_request_headers_quart_copies(built_site: Site) -> None:
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    client = app.test_client()
    await client.get("/", http_version="2", headers={"Accept-Encoding": "br", "User-Agent": "test"})
    [(_, headers), *_] = client.push_promises
    assert headers["accept-encoding"] == "br"
    assert headers["user-agent"] == "test"


async def test_http11_gets_link_headers_and_no_push(built_site: Site) -> None:
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    response, promises = await get(app, "/", http_version="1.1")
    assert promises == []
    assert response.headers.getlist("Link") == [built_site.link_header("/")]


async def test_an_app_link_header_is_kept_next_to_ours(built_site: Site) -> None:
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    response, _ = await get(app, "/about.html")
    assert response.headers.getlist("Link") == [
        "<https://cdn.example>; rel=preconnect",
        built_site.link_header("/about.html"),
    ]


async def test_head_gets_link_headers_but_no_push(built_site: Site) -> None:
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    response, promises = await get(app, "/", method="HEAD")
    assert response.status_code == 200
    assert promises == []
    assert response.headers["Link"] == built_site.link_header("/")


@pytest.mark.parametrize(
    ("method", "path", "pushed"),
    [
        ("POST", "/form/", []),
        # Pushes leave before the app answers (so that they precede the 103 and a
        # slow route's think time), so a manifest route that redirects or is gone
        # still gets them; its response gets no Link header.
        ("GET", "/moved/", ["/static/css/site.css"]),
        ("GET", "/nowhere/", ["/static/css/site.css"]),
        ("GET", "/static/css/site.css", []),
    ],
    ids=["post", "redirect", "404", "asset"],
)
async def test_nothing_for_non_pages_or_non_200(
    built_site: Site, method: str, path: str, pushed: list[str]
) -> None:
    text = MANIFEST + "  /form/:\n    - {path: /static/css/site.css, as: style}\n"
    text += "  /moved/:\n    - {path: /static/css/site.css, as: style}\n"
    text += "  /nowhere/:\n    - {path: /static/css/site.css, as: style}\n"
    built_site.manifest.write_text(text, encoding="utf-8")
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    response, promises = await get(app, path, method=method)
    assert promises == pushed
    assert "Link" not in response.headers


async def test_a_conditional_request_gets_no_pushes(built_site: Site) -> None:
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    client = app.test_client()
    response = await client.get("/", http_version="2", headers={"If-None-Match": '"x"'})
    assert response.status_code == 200
    assert client.push_promises == []
    assert response.headers["Link"] == built_site.link_header("/")


async def test_switches(built_site: Site) -> None:
    app = pushgen.quart.init_app(
        user_app(), manifest=built_site.manifest, push=False, link_headers=False
    )
    response, promises = await get(app, "/")
    assert promises == []
    assert "Link" not in response.headers


async def test_push_early_hints_and_link_headers_off_leave_asgi_app_unwrapped(
    built_site: Site,
) -> None:
    # The middleware adds the Link headers too (one implementation with
    # pushgen.asgi), so only all three off leave the app as it was.
    on = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    push_only = pushgen.quart.init_app(
        user_app(), manifest=built_site.manifest, early_hints=False, link_headers=False
    )
    links_only = pushgen.quart.init_app(
        user_app(), manifest=built_site.manifest, early_hints=False, push=False
    )
    off = pushgen.quart.init_app(
        user_app(), manifest=built_site.manifest, early_hints=False, push=False, link_headers=False
    )
    assert isinstance(on.asgi_app, EarlyHintsMiddleware)
    assert isinstance(push_only.asgi_app, EarlyHintsMiddleware)
    assert (push_only.asgi_app.enabled, push_only.asgi_app.push) == (False, True)
    assert isinstance(links_only.asgi_app, EarlyHintsMiddleware)
    assert (links_only.asgi_app.enabled, links_only.asgi_app.push) == (False, False)
    assert not isinstance(off.asgi_app, EarlyHintsMiddleware)


async def test_options_keyword_then_config_then_default(built_site: Site) -> None:
    default = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    from_config = pushgen.quart.init_app(user_app(max_pushes=1), manifest=built_site.manifest)
    keyword = pushgen.quart.init_app(
        user_app(max_pushes=1), manifest=built_site.manifest, max_pushes=2
    )
    assert [(await get(app, "/"))[1] for app in (default, from_config, keyword)] == [
        built_site.pushed["/"],
        built_site.pushed["/"][:1],
        built_site.pushed["/"][:2],
    ]
    state: PushgenState = default.extensions["pushgen"]
    assert state.options.max_pushes == DEFAULT_MAX_PUSHES


async def test_manifest_from_config_relative_to_app_root(built_site: Site) -> None:
    app = user_app(manifest=os.path.relpath(built_site.manifest, Path(__file__).parent))
    pushgen.quart.init_app(app)
    assert (await get(app, "/docs/"))[1] == built_site.pushed["/docs/"]


async def test_early_hints_delay_keyword_then_config_then_default(built_site: Site) -> None:
    default = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    from_config = pushgen.quart.init_app(
        user_app(early_hints_delay=0.25), manifest=built_site.manifest
    )
    keyword = pushgen.quart.init_app(
        user_app(early_hints_delay=0.25), manifest=built_site.manifest, early_hints_delay=1
    )
    delays = [
        app.extensions["pushgen"].options.early_hints_delay
        for app in (default, from_config, keyword)
    ]
    # A user's views may think, so by default the 103 leaves at once, as it always has.
    assert delays == [DEFAULT_EARLY_HINTS_DELAY, 0.25, 1.0] and DEFAULT_EARLY_HINTS_DELAY == 0
    # The middleware is what waits.
    middlewares = [app.asgi_app for app in (default, from_config, keyword)]
    assert all(isinstance(m, EarlyHintsMiddleware) for m in middlewares)
    assert [m.hint_delay for m in middlewares if isinstance(m, EarlyHintsMiddleware)] == delays


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("push", "yes"),
        ("max_pushes", -1),
        ("max_pushes", 1.5),
        ("reload_interval", "1"),
        ("manifest", 3),
        ("early_hints_delay", -0.002),
        ("early_hints_delay", "2ms"),
        ("early_hints_delay", float("nan")),
        ("early_hints_delay", True),
    ],
)
async def test_bad_config_values_are_config_errors(
    built_site: Site, key: str, value: object
) -> None:
    app = user_app(**{key: value})
    kwargs = {} if key == "manifest" else {"manifest": built_site.manifest}
    with pytest.raises(ConfigError, match=f"PUSHGEN_{key.upper()}"):
        pushgen.quart.init_app(app, **kwargs)  # type: ignore[arg-type]


async def test_init_twice_is_an_error(built_site: Site) -> None:
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    with pytest.raises(PushgenError, match="already"):
        pushgen.quart.init_app(app, manifest=built_site.manifest)


async def test_root_path_is_stripped(built_site: Site) -> None:
    app = pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    response, promises = await get(app, "/mnt/docs/", root_path="/mnt")
    assert response.status_code == 200
    assert promises == built_site.pushed["/docs/"]


async def test_base_path_prefixes_routes_written_without_it(built_site: Site) -> None:
    app = Quart(__name__)

    @app.route("/blog/")
    async def blog() -> str:
        return "blog"

    pushgen.quart.init_app(app, manifest=built_site.manifest, base_path="blog")
    assert (await get(app, "/blog/"))[1] == built_site.pushed["/"]


async def test_missing_manifest_is_an_error_that_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "push-manifest.yaml"
    with pytest.raises(ManifestError, match="cannot read manifest") as info:
        pushgen.quart.init_app(user_app(), manifest=missing)
    assert info.value.diagnostics[0].file == str(missing)


async def test_invalid_manifest_at_start_is_an_error_with_its_line(built_site: Site) -> None:
    built_site.manifest.write_text("version: 1\nroutes:\n  /:\n    - {path: /a.css, as: stlye}\n")
    with pytest.raises(ManifestError) as info:
        pushgen.quart.init_app(user_app(), manifest=built_site.manifest)
    assert str(info.value.diagnostics[0]).startswith(f"{built_site.manifest}:4:")
    assert "did you mean 'style'" in str(info.value)


# --- watching the manifest --------------------------------------------------------------


async def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def test_a_changed_manifest_is_picked_up_without_restart(built_site: Site) -> None:
    app = pushgen.quart.init_app(user_app(reload_interval=0.05), manifest=built_site.manifest)
    state: PushgenState = app.extensions["pushgen"]
    async with app.test_app():
        assert (await get(app, "/docs/"))[1] == built_site.pushed["/docs/"]
        generation = state.generation
        atomic_write(
            built_site.manifest,
            b"version: 1\nroutes:\n  /docs/:\n    - {path: /static/js/app.js, as: script}\n",
        )
        await wait_for(lambda: state.generation > generation)
        response, promises = await get(app, "/docs/")
        assert promises == ["/static/js/app.js"]
        assert response.headers["Link"] == "</static/js/app.js>; rel=preload; as=script"
        assert (await get(app, "/"))[1] == []


async def test_a_broken_manifest_keeps_the_last_good_one_and_logs_its_line(
    built_site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    app = pushgen.quart.init_app(user_app(reload_interval=0.05), manifest=built_site.manifest)
    state: PushgenState = app.extensions["pushgen"]
    caplog.set_level(logging.INFO, logger="pushgen")
    async with app.test_app():
        # Edited in place (same inode), the way an editor may save it.
        with built_site.manifest.open("w", encoding="utf-8") as fh:
            fh.write("version: 1\nroutes:\n  /:\n    - {path: /a.css, as: style, pushh: true}\n")
        await wait_for(lambda: "keeping the previous manifest" in caplog.text)
        assert f"{built_site.manifest}:4:33: error: unknown key 'pushh'" in caplog.text
        assert (await get(app, "/"))[1] == built_site.pushed["/"]
        # Fixed again: picked up.
        generation = state.generation
        atomic_write(
            built_site.manifest, MANIFEST.replace("/static/js/app.js", "/static/js/new.js").encode()
        )
        await wait_for(lambda: state.generation > generation)
        assert "/static/js/new.js" in (await get(app, "/"))[1]
    assert state._task is None  # after_serving stopped the watcher


async def test_a_deleted_manifest_keeps_the_last_good_one(
    built_site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    app = pushgen.quart.init_app(user_app(reload_interval=0.05), manifest=built_site.manifest)
    async with app.test_app():
        built_site.manifest.unlink()
        await wait_for(lambda: "cannot read manifest" in caplog.text)
        assert (await get(app, "/"))[1] == built_site.pushed["/"]


async def test_an_optional_manifest_may_appear_later(tmp_path: Path) -> None:
    manifest = tmp_path / "push-manifest.yaml"
    app = pushgen.quart.init_app(
        user_app(reload_interval=0.05), manifest=manifest, manifest_required=False
    )
    state: PushgenState = app.extensions["pushgen"]
    async with app.test_app():
        assert (await get(app, "/"))[1] == []
        manifest.write_text(MANIFEST, encoding="utf-8")
        await wait_for(lambda: state.generation == 1)
        assert (await get(app, "/"))[1][0] == "/static/css/site.css"


def fifo_in_place_of(manifest: Path) -> None:
    """Swap a FIFO in for ``manifest`` atomically, as a hostile or careless deploy may."""
    fifo = manifest.with_name("fifo.tmp")
    os.mkfifo(fifo)
    os.replace(fifo, manifest)


DEEP = "version: 1\nroutes:\n  /: " + "[" * 5000 + "]" * 5000 + "\n"


async def test_a_fifo_or_a_deep_manifest_is_logged_and_the_watcher_keeps_watching(
    built_site: Site, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    # PyYAML without libyaml, where deep nesting raised a RecursionError that
    # ended the watch task.
    monkeypatch.setattr("pushgen.manifest.yamlsafe.DEFAULT_LOADER", yaml.SafeLoader)
    app = pushgen.quart.init_app(user_app(reload_interval=0.05), manifest=built_site.manifest)
    state: PushgenState = app.extensions["pushgen"]
    caplog.set_level(logging.INFO, logger="pushgen")
    async with app.test_app():
        fifo_in_place_of(built_site.manifest)
        await wait_for(lambda: "not a regular file" in caplog.text, timeout=20)
        assert f"{built_site.manifest}: error: the manifest is not a regular file" in caplog.text
        assert (await get(app, "/"))[1] == built_site.pushed["/"]
        caplog.clear()
        built_site.manifest.unlink()
        built_site.manifest.write_text(DEEP, encoding="utf-8")
        await wait_for(lambda: "keeping the previous manifest" in caplog.text, timeout=20)
        assert f"{built_site.manifest}:" in caplog.text
        assert (await get(app, "/"))[1] == built_site.pushed["/"]
        # Still watching: a good file is picked up.
        generation = state.generation
        atomic_write(built_site.manifest, MANIFEST.replace("app.js", "new.js").encode())
        await wait_for(lambda: state.generation > generation, timeout=20)
        assert "/static/js/new.js" in (await get(app, "/"))[1]
        assert state._task is not None and not state._task.done()


def test_a_fifo_or_a_device_as_the_manifest_at_start_is_a_located_error(tmp_path: Path) -> None:
    fifo = tmp_path / "push-manifest.yaml"
    os.mkfifo(fifo)
    for manifest in (fifo, Path("/dev/zero")):
        with pytest.raises(ManifestError, match="not a regular file"):
            pushgen.quart.init_app(user_app(), manifest=manifest)


def test_a_manifest_over_the_size_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pushgen.runtime.manifest_state, "MAX_MANIFEST_BYTES", len(MANIFEST) - 1)
    manifest = tmp_path / "push-manifest.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    with pytest.raises(ManifestError, match="larger than"):
        pushgen.quart.init_app(user_app(), manifest=manifest)
