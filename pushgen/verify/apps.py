"""The app ``pushgen verify --app MODULE:APP`` serves: a Quart app or any other ASGI app.

The app is imported as ``pushgen build --app`` imports it
(:func:`~pushgen.sources.quart_app.load_object`), and what serves its hints is
the app's own when it has one, so that verify checks what a deployment sends:

* a Quart app: its pushgen extension (:mod:`pushgen.quart`), or the extension
  added with the 103 at once;
* any other ASGI app (Starlette, FastAPI, Django's ``get_asgi_application()``):
  the :class:`~pushgen.asgi.PushgenMiddleware` found in it, or the app wrapped in
  one with the 103 at once. Found means: the app is the middleware, or reaches it
  through the ``app`` attribute ASGI middleware keep the app they wrap in
  (Starlette's and FastAPI's middleware stack among them). An app that hides it
  in a function is wrapped again, and sends each hint twice.

Either way the ``PUSHGEN_*`` variables of the environment are not read when verify
adds the hints: verify checks the manifest, not a deployment's switches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..asgi import PushgenMiddleware
from ..runtime.middleware import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ServedApp", "find_middleware", "served_app"]

# How far down the ``app`` attributes the middleware is looked for: an app's
# middleware stack is a handful deep; a loop of references must end.
_MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class ServedApp:
    """The ASGI app verify serves (hints on) and the manifest its hints come from."""

    app: Any
    manifest: Path
    own: bool  # the app's own extension or middleware sends the hints (verify added none)


def served_app(root: Path, app: str, manifest: Path | None) -> ServedApp:
    """The app ``app`` (``MODULE:APP``) imported from ``root``, ready to serve with its hints.

    ``manifest`` (``-m``; pushgen.yaml's when None) is the one served when verify
    adds the hints; an app's own extension or middleware serves its own. Raises
    :class:`~pushgen.errors.BuildError` as ``pushgen build --app`` does (an app that
    does not import, an object that is no ASGI app, httpx missing).
    """
    from quart import Quart

    from ..sources.quart_app import AppSpec, load_object

    spec = AppSpec.parse(app)
    loaded = load_object(spec, root.resolve())
    if isinstance(loaded, Quart):
        return _quart(loaded, root, manifest)
    from ..sources.app_pages import require_httpx

    what = f"--app {spec}"
    require_httpx(what)  # what checks an ASGI app lives beside httpx (sources/asgi_app.py)
    from ..sources.asgi_app import check_asgi

    asgi = check_asgi(loaded, what)
    own = find_middleware(asgi)
    if own is not None:
        return ServedApp(_optional_lifespan(asgi), own.state.options.manifest, own=True)
    path = (manifest or _config_manifest(root)).resolve()
    wrapped = PushgenMiddleware(
        _optional_lifespan(asgi), manifest=path, early_hints_delay=0.0, environ={}
    )
    return ServedApp(wrapped, path, own=False)


def _config_manifest(root: Path) -> Path:
    from ..config import load_config

    return load_config(root).manifest


def _quart(app: Any, root: Path, manifest: Path | None) -> ServedApp:
    """A Quart app with its own extension, or with the extension added (the 103 at once)."""
    from ..runtime.quart import EXTENSION_KEY, init_app

    if (
        EXTENSION_KEY in app.extensions
    ):  # the app's own extension: its manifest is the one it serves
        return ServedApp(app, app.extensions[EXTENSION_KEY].options.manifest, own=True)
    path = (manifest or _config_manifest(root)).resolve()
    init_app(app, manifest=path, early_hints_delay=0.0)
    return ServedApp(app, path, own=False)


def find_middleware(app: object) -> PushgenMiddleware | None:
    """The :class:`~pushgen.asgi.PushgenMiddleware` in ``app``: itself, or down its
    ``app`` attributes; None when there is none to be seen.

    A Starlette (or FastAPI) app builds its middleware stack on its first request;
    it is built here the same way (``build_middleware_stack``), so that the
    middleware listed in ``middleware=[...]`` is the one found and served.
    """
    node: object = app
    for _ in range(_MAX_DEPTH):
        if isinstance(node, PushgenMiddleware):
            return node
        build = getattr(node, "build_middleware_stack", None)
        if callable(build) and getattr(node, "middleware_stack", False) is None:
            node.middleware_stack = build()  # type: ignore[attr-defined]
        node = getattr(node, "middleware_stack", None) or getattr(node, "app", None)
        if node is None:
            return None
    return None


def _optional_lifespan(app: ASGIApp) -> ASGIApp:
    """``app``, with the ASGI lifespan answered for it when it refuses the protocol.

    Django's handler raises on a lifespan scope; Hypercorn then logs a warning
    ("continuing without Lifespan support") into verify's report. The lifespan spec
    lets an app decline by raising
    (https://asgi.readthedocs.io/en/latest/specs/lifespan.html); here the refusal is
    answered as success: the app has nothing to start.
    """

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        received: list[str] = []
        answered = False

        async def watched_receive() -> Message:
            message = await receive()
            received.append(message["type"])
            return message

        async def watched_send(message: Message) -> None:
            nonlocal answered
            answered = True
            await send(message)

        try:
            await app(scope, watched_receive, watched_send)
        except Exception:
            if answered:  # it took part, then failed: Hypercorn reports that as it should
                raise
            await _answer_lifespan(receive, send, started="lifespan.startup" in received)

    return guarded


async def _answer_lifespan(receive: Receive, send: Send, *, started: bool) -> None:
    """Complete the startup (its message already taken when ``started``) and the shutdown."""
    if not started:
        await receive()
    await send({"type": "lifespan.startup.complete"})
    while (await receive())["type"] != "lifespan.shutdown":
        pass
    await send({"type": "lifespan.shutdown.complete"})
