"""The Quart extension: push a route's assets, send 103 Early Hints, add ``Link`` headers.

One call sets it up, in the style of quart-cors::

    from quart import Quart
    import pushgen.quart

    app = Quart(__name__)
    pushgen.quart.init_app(app, manifest="push-manifest.yaml")

Each option is resolved from the keyword argument, then ``app.config["PUSHGEN_*"]``,
then the default:

========================  ================================  ====================================
keyword                   ``app.config`` key                default
========================  ================================  ====================================
``manifest``              ``PUSHGEN_MANIFEST``              ``push-manifest.yaml`` (*)
``push``                  ``PUSHGEN_PUSH``                  ``True``
``early_hints``           ``PUSHGEN_EARLY_HINTS``           ``True``
``early_hints_delay``     ``PUSHGEN_EARLY_HINTS_DELAY``     ``0.0`` s (the 103 at once)
``link_headers``          ``PUSHGEN_LINK_HEADERS``          ``True``
``max_pushes``            ``PUSHGEN_MAX_PUSHES``            ``10`` per request
``max_link_bytes``        ``PUSHGEN_MAX_LINK_BYTES``        ``8192`` bytes of Link values
``max_pushes_in_flight``  ``PUSHGEN_MAX_PUSHES_IN_FLIGHT``  ``32`` per connection
``base_path``             ``PUSHGEN_BASE_PATH``             ``/``
``pretty_urls``           ``PUSHGEN_PRETTY_URLS``           ``False``
``reload_interval``       ``PUSHGEN_RELOAD_INTERVAL``       ``1.0`` s (0 stops watching)
``manifest_required``     ``PUSHGEN_MANIFEST_REQUIRED``     ``True``
``push_digest``           ``PUSHGEN_PUSH_DIGEST``           ``True`` (a cookie of pushed assets)
========================  ================================  ====================================

(*) a relative manifest path is relative to ``app.root_path``, like other Quart paths.

``early_hints_delay`` holds the 103 back until a request has gone that many
seconds without the app starting its response, and sends none if the response
starts sooner (for a server where a 103 leaving beside its 200 costs more than it
gains; :mod:`pushgen.runtime.middleware`). ``pushgen serve`` sends it at once too
(:data:`pushgen.runtime.factory.DEFAULT_EARLY_HINTS_DELAY`).

The manifest is loaded and validated once, into a
:class:`~pushgen.runtime.headers.RouteTable`; a request costs a dictionary lookup. While
the app serves, a background task polls the file and swaps in a new table when it
changes; a broken file is logged (``file:line:col``) on the ``pushgen`` logger and
the last good table stays in service (:mod:`pushgen.runtime.manifest_state`). What
a request gets is :class:`~pushgen.runtime.middleware.EarlyHintsMiddleware`'s to
decide, the same for :mod:`pushgen.asgi`'s middleware for any ASGI app.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from quart import Quart

from ..errors import PushgenError
from ..links import normalise_base_path
from ..push_policy import NO_POLICY, Policy
from .manifest_state import MAX_MANIFEST_BYTES, ManifestState
from .middleware import ASGIApp, EarlyHintsMiddleware
from .options import SETTINGS, Options, check_keywords, keyword_signature, read_by, resolve

__all__ = [
    "DEFAULT_EARLY_HINTS_DELAY",
    "DEFAULT_MANIFEST",
    "DEFAULT_MAX_PUSHES",
    "DEFAULT_RELOAD_INTERVAL",
    "EXTENSION_KEY",
    "MAX_MANIFEST_BYTES",
    "URL_GENERATORS_KEY",
    "Options",
    "PushgenState",
    "init_app",
    "url_generator",
]

EXTENSION_KEY = "pushgen"
DEFAULT_MANIFEST: str = str(SETTINGS["manifest"].default)
DEFAULT_MAX_PUSHES: int = SETTINGS["max_pushes"].default
DEFAULT_RELOAD_INTERVAL: float = SETTINGS["reload_interval"].default
# A Quart app's views may think (a database, an API) before they answer, and a
# 103 sent while they do lets the browser fetch the page's assets meanwhile; so
# the extension sends it at once, as it always has. An app whose views answer at
# once can set a few milliseconds and save the 103 (pushgen.app does, for files).
DEFAULT_EARLY_HINTS_DELAY: float = SETTINGS["early_hints_delay"].default


class PushgenState(ManifestState):
    """The extension's state for one app, kept in ``app.extensions["pushgen"]``.

    The manifest in service (:class:`~pushgen.runtime.manifest_state.ManifestState`),
    watched from the app's ``before_serving`` to its ``after_serving``.
    """

    async def _start(self) -> None:
        await self.start()

    async def _stop(self) -> None:
        await self.stop()


def _options(app: Quart, kwargs: dict[str, Any], policy: Policy | None) -> Options:
    values = resolve(read_by("init_app"), kwargs, config=app.config)
    output = values.pop("output")
    return Options(
        **values
        | {
            # Relative paths are relative to the app, like other Quart paths.
            "manifest": Path(app.root_path, values["manifest"]),
            "output": None if output is None else Path(app.root_path, output),
            "base_path": normalise_base_path(values["base_path"]),
            "policy": policy if policy is not None else NO_POLICY,
        }
    )


def init_app(app: Quart, *, policy: Policy | None = None, **options: Any) -> Quart:
    """Make ``app`` push, hint and link each route's assets from a push manifest.

    ``options`` are the settings of the table above (pushgen.runtime.options);
    an unknown one is a :class:`~pushgen.errors.ConfigError` that names it and
    the nearest. Loads the manifest now (raising
    :class:`~pushgen.errors.ManifestError` with ``file:line:col`` diagnostics
    when it is missing or invalid), wraps ``app.asgi_app`` in
    :class:`~pushgen.runtime.middleware.EarlyHintsMiddleware` for pushes, 103 Early
    Hints and ``Link`` headers (the same middleware as :mod:`pushgen.asgi`'s) and
    watches the manifest while the app serves. Returns ``app``. The state is
    ``app.extensions["pushgen"]`` (a :class:`PushgenState`). A bad option value
    is a :class:`~pushgen.errors.ConfigError` that names its ``PUSHGEN_*`` key.
    """
    if EXTENSION_KEY in app.extensions:
        raise PushgenError("pushgen.quart.init_app was already called for this app")
    check_keywords("init_app", options)
    resolved = _options(app, options, policy)
    state = PushgenState(resolved)
    state.load()
    app.extensions[EXTENSION_KEY] = state
    app.before_serving(state._start)
    app.after_serving(state._stop)
    if resolved.early_hints or resolved.push or resolved.link_headers:
        inner: ASGIApp = app.asgi_app  # type: ignore[assignment]
        middleware = EarlyHintsMiddleware(
            inner,
            lambda: state.table,
            enabled=resolved.early_hints,
            push=resolved.push,
            hint_delay=resolved.early_hints_delay,
            digest=resolved.push_digest,
            version=state.version,
            max_in_flight=resolved.max_pushes_in_flight,
            link_headers=resolved.link_headers,
        )
        app.asgi_app = middleware  # type: ignore[assignment,method-assign]
    return app


# What help() and editors show: the settings as keywords (the table above).
init_app.__signature__ = keyword_signature(  # type: ignore[attr-defined]
    "init_app",
    inspect.Parameter("app", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Quart"),
    inspect.Parameter(
        "policy", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Policy | None"
    ),
)


URL_GENERATORS_KEY = "pushgen.url_generators"
_Generator = TypeVar("_Generator", bound=Callable[[], Any])


def url_generator(app: Quart, endpoint: str | None = None) -> Callable[[_Generator], _Generator]:
    """Register a function that yields the URLs ``pushgen build --app`` renders for a rule with arguments.

    Like Frozen-Flask's ``register_generator``: the function (sync or async, a
    generator or returning an iterable) yields URL paths (``"/blog/hello"``),
    dicts of the ``endpoint``'s values (the endpoint defaults to the function's
    name) or ``(endpoint, values)`` pairs. Only the registration lives here (a
    list in ``app.extensions``); the runtime never calls it.
    """

    def register(function: _Generator) -> _Generator:
        registered = app.extensions.setdefault(URL_GENERATORS_KEY, [])
        registered.append((endpoint or function.__name__, function))
        return function

    return register
