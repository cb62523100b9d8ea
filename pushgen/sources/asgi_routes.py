"""The pages an ASGI app's own router declares: its GET routes as rules in Quart's syntax.

Starlette's and FastAPI's ``app.routes`` (into ``Mount``\\ s of routers) and
Django's URLconf (``path()`` patterns, into ``include()``\\ s) give the routes
:class:`~pushgen.sources.asgi_app.AsgiAppSource` renders: each as a rule in the
manifest's syntax (``/blog/{slug}`` and ``blog/<slug:slug>`` -> ``/blog/<slug>``),
what URL paths it answers, and where its view is (for warnings).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..fsutil import display_path
from .quart_client import Where

__all__ = ["AsgiRoute", "asgi_routes", "django_rule", "starlette_rule"]

# Starlette's convertors (starlette/convertors.py) and Django's (django/urls/converters.py)
# -> Quart's (werkzeug routing), the syntax of the manifest's rules; ``str`` is Quart's
# default and is written bare. Django's ``slug`` matches less than Quart's default: a URL
# outside it is answered 404 by the app, whatever its hints. Other converters are written
# as they are: the runtime cannot match them, so their URLs keep exact routes.
_CONVERTERS = {
    "str": "",
    "slug": "",
    "path": "path",
    "int": "int",
    "float": "float",
    "uuid": "uuid",
}
# FastAPI's attributes naming the URLs of its API docs (fastapi/applications.py).
_FASTAPI_OWN = ("openapi_url", "docs_url", "redoc_url", "swagger_ui_oauth2_redirect_url")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}")  # {slug}, {id:int}
_DJANGO_PARAM = re.compile(r"<(?:([A-Za-z_][A-Za-z0-9_]*):)?([A-Za-z_][A-Za-z0-9_]*)>")
_RULE_PARAM = _DJANGO_PARAM  # Quart's <slug>, <int:id> read the same way


def starlette_rule(path: str) -> str:
    """``/blog/{slug}`` -> ``/blog/<slug>``, ``{id:int}`` -> ``<int:id>`` (Quart's syntax)."""

    return _PARAM.sub(lambda m: _variable(m.group(2) or "str", m.group(1)), path)


def django_rule(route: str) -> str:
    """``blog/<slug:slug>`` (a ``path()`` route, no leading slash) -> ``/blog/<slug>``."""

    return "/" + _DJANGO_PARAM.sub(lambda m: _variable(m.group(1) or "str", m.group(2)), route)


def _variable(kind: str, name: str) -> str:
    """A rule's variable in Quart's syntax: ``<slug>``, ``<int:id>``."""
    converter = _CONVERTERS.get(kind, kind)
    return f"<{converter}:{name}>" if converter else f"<{name}>"


@dataclass(frozen=True, slots=True)
class AsgiRoute:
    """A GET route of the app's router: its rule (Quart syntax), where its view is."""

    rule: str
    pattern: re.Pattern[str]  # what URL paths it answers
    file: str = ""
    line: int = 0


def asgi_routes(app: Any) -> list[AsgiRoute] | None:
    """The GET routes of a Starlette, FastAPI or Django app, None when it has no router
    pushgen reads."""
    routes = getattr(app, "routes", None)
    if not isinstance(routes, list) and _django_set_up():
        # Django's handler, often wrapped (a static files or lifespan wrapper): its
        # routes are the URLconf's of the settings the app loaded.
        from django.urls import get_resolver
        from django.urls.resolvers import RoutePattern

        return list(_walk_django(get_resolver().url_patterns, "", RoutePattern))
    if not isinstance(routes, list):
        return None
    # FastAPI's own pages (its API's docs and schema) are no pages of the site.
    own = {getattr(app, name, None) for name in _FASTAPI_OWN}
    return [route for route in _walk(routes, "") if route.rule not in own]


def _django_set_up() -> bool:
    """Whether the app loaded Django and its settings (imported here only then)."""
    if "django.conf" not in sys.modules:
        return False
    from django.conf import settings

    return bool(settings.configured)


def _walk(routes: list[Any], prefix: str) -> Sequence[AsgiRoute]:
    found: list[AsgiRoute] = []
    for route in routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        methods = getattr(route, "methods", None)
        endpoint = getattr(route, "endpoint", None)
        if methods is not None and "GET" in methods and endpoint is not None:
            where = _source_of(endpoint)
            full = prefix + path
            rule = starlette_rule(full)
            found.append(AsgiRoute(rule, _regex(rule), where.file, where.line))
        sub = getattr(route, "routes", None)  # a Mount of a router (a StaticFiles: none)
        if methods is None and isinstance(sub, list) and sub:
            found.extend(_walk(sub, prefix + path))
    return found


def _walk_django(patterns: list[Any], prefix: str, path_pattern: type) -> Sequence[AsgiRoute]:
    """The ``path()`` patterns of a URLconf, into its ``include()``\\ s (a ``re_path()``
    has no rule pushgen can write: its URLs are rendered from ``urls:`` as exact routes)."""
    found: list[AsgiRoute] = []
    for pattern in patterns:
        if not isinstance(pattern.pattern, path_pattern):
            continue
        route = str(pattern.pattern)
        sub = getattr(pattern, "url_patterns", None)  # an include()
        # The admin's pages are the site's staff's, behind a login: none of its pages.
        if sub is not None and getattr(pattern, "app_name", None) != "admin":
            found.extend(_walk_django(list(sub), prefix + route, path_pattern))
        if sub is not None:
            continue
        rule = django_rule(prefix + route)
        where = _source_of(pattern.callback)
        found.append(AsgiRoute(rule, _regex(rule), where.file, where.line))
    return found


def _regex(rule: str) -> re.Pattern[str]:
    """What URL paths the rule ``rule`` answers (a ``path`` parameter spans slashes)."""
    out: list[str] = []
    at = 0
    for match in _RULE_PARAM.finditer(rule):
        out += [re.escape(rule[at : match.start()]), ".+" if match.group(1) == "path" else "[^/]+"]
        at = match.end()
    return re.compile("".join([*out, re.escape(rule[at:])]) + "$")


def _source_of(function: Any) -> Where:
    """Where a view is defined (for warnings)."""
    try:
        function = inspect.unwrap(function)
        return Where(
            display_path(inspect.getsourcefile(function) or ""), function.__code__.co_firstlineno
        )
    except (TypeError, AttributeError):
        return Where()
