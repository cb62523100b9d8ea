"""What a bundler's runtime loads at run time, read from the static data it names its chunks in.

A webpack runtime builds each chunk's URL when the page asks for the chunk::

    r.u = e => "assets/js/" + ({401: "17896441", ...}[e] || e) + "." + {401: "8f74e9ae", ...}[e] + ".js"

(``__webpack_require__.u``, minified to ``r.u``; ``r.p`` is the public path the URL
is relative to). No literal URL stands in the source, so a scan of the scripts
finds none of them. Which chunks a page loads is a second piece of static data:
Docusaurus (3.x) puts its route table and its route -> chunk registry in the main
bundle:

- the routes, nested as react-router-config renders them:
  ``[{path:"/docs",component:f("/docs","b35"),routes:[{path:"/docs/intro",
  component:f("/docs/intro","44d"),exact:!0}]}, ...]``;
- each route's chunk names: ``"/docs/intro-44d":{"__comp":"17896441","content":"0e384e19"}``;
- each chunk name's webpack chunks: ``17896441:[function(){return
  Promise.all([n.e(869),n.e(401)]).then(...)},...]``.

On a cold load the client renders the route the URL matches (a ``Switch``: the
first sibling that matches, then its children), loading the chunks of each
matched route. This module reads the three tables (pure functions over the
scripts' text); pushgen/sources/runtime_chunks.py applies them to a page. Vite's
``__vite__mapDeps`` lists what a dynamic ``import()`` preloads when it runs,
after the load: nothing of it is fetched on a cold load, so nothing is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .js_tokens import Token, TokenStream, tokens

__all__ = ["ChunkMap", "RouteTable", "chunk_map", "route_table"]

# r.u=e=>"prefix"+({id:"name",...}[e]||e)+"sep"+{id:"hash",...}[e]+"suffix"; the names
# object is absent when no chunk has a name.
_CHUNK_URL = re.compile(
    r"""\.u=(?:function\((\w+)\)\{return|(\w+)=>)\s*"([^"]*)"\+"""
    r"""(?:\(\{([^{}]*)\}\[\w+\]\|\|\w+\)|\w+)\+"([^"]*)"\+\{([^{}]*)\}\[\w+\]\+"([^"]*)\""""
)
_PUBLIC_PATH = re.compile(r"""\.p="([^"]*)\"""")
_PAIR = re.compile(r"""(?:"([^"]*)"|([\w$]+)):"([^"]*)\"""")
# Docusaurus's registry: name:[function(){return n.e(258).then(...)},...] or ()=>...
_REGISTRY_ENTRY = re.compile(
    r"""(?:"([\w-]+)"|([\w$]+)):\[(?:function\(\)\{return |\(\)=>)((?:[\w$]+\.e\((?:\d+|"[^"]*")\)|Promise\.all\(\[[^\]]*\]\))+)"""
)
_CHUNK_LOAD = re.compile(r"""[\w$]+\.e\("?([^")]*)"?\)""")
# "/docs/intro-44d":{ ... } in routesChunkNames: the route key, then its object.
_ROUTE_CHUNKS = re.compile(r""""(/[^"]*-\w+)":\{""")
_ROUTES_START = re.compile(r"""\[\{path:"[^"]*",component:[\w$]+\(""")


@dataclass(frozen=True, slots=True)
class ChunkMap:
    """A webpack runtime's chunk id -> file (relative to ``public_path``, ``assets/js/x.1a2b.js``)."""

    public_path: str
    files: Mapping[str, str]

    def url(self, chunk: str) -> str | None:
        """The URL path of ``chunk``'s file (None when the runtime has no file for it: built in)."""
        file = self.files.get(chunk)
        return None if file is None else self.public_path + file


@dataclass(frozen=True, slots=True)
class Route:
    """One route of the table: its ``path``, key (``/docs/intro-44d``), ``exact`` and children."""

    path: str
    key: str
    exact: bool
    children: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Docusaurus's routes, each route key's chunk names, each chunk name's webpack chunks."""

    routes: tuple[Route, ...]
    chunk_names: Mapping[str, tuple[str, ...]]
    registry: Mapping[str, tuple[str, ...]]

    def chunks(self, pathname: str) -> tuple[str, ...]:
        """The webpack chunk ids a cold load of ``pathname`` loads, in the order it asks for them."""
        out: dict[str, None] = {}
        for key in _matched(self.routes, pathname):
            for name in self.chunk_names.get(key, ()):
                out.update(dict.fromkeys(self.registry.get(name, ())))
        return tuple(out)


def chunk_map(text: str) -> ChunkMap | None:
    """The chunk map of a webpack runtime in ``text``, None when it has none (see the module docs)."""
    found = _CHUNK_URL.search(text)
    if found is None:
        return None
    prefix, names, sep, hashes, suffix = found.group(3, 4, 5, 6, 7)
    named = _pairs(names or "")
    files = {
        chunk: f"{prefix}{named.get(chunk, chunk)}{sep}{digest}{suffix}"
        for chunk, digest in _pairs(hashes).items()
    }
    public = _PUBLIC_PATH.search(text)
    return ChunkMap(public.group(1) if public is not None else "/", files)


def route_table(text: str) -> RouteTable | None:
    """Docusaurus's route table in a bundle's ``text``, None when it has none."""
    start = _ROUTES_START.search(text)
    if start is None:
        return None
    stream = TokenStream(tokens(text[start.start() :], []))
    routes = _routes(stream)
    registry = {
        (m.group(1) or m.group(2)): tuple(_CHUNK_LOAD.findall(m.group(3)))
        for m in _REGISTRY_ENTRY.finditer(text)
    }
    names: dict[str, tuple[str, ...]] = {}
    for found in _ROUTE_CHUNKS.finditer(text):
        body = _balanced(text, found.end() - 1)
        names[found.group(1)] = tuple(value for _, _, value in _PAIR.findall(body))
    return RouteTable(routes, names, registry)


def _pairs(body: str) -> dict[str, str]:
    """``{401:"8f74e9ae","a-b":"x"}``'s pairs (the body between the braces)."""
    return {(quoted or bare): value for quoted, bare, value in _PAIR.findall(body)}


def _balanced(text: str, start: int) -> str:
    """The text of the object literal whose "{" is at ``start`` (no braces in its strings)."""
    depth = 0
    for pos in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[pos], 0)
        if depth == 0:
            return text[start : pos + 1]
    return text[start:]


def _matched(routes: tuple[Route, ...], pathname: str) -> Iterator[str]:
    """The keys of the routes a react-router ``Switch`` renders for ``pathname``, outermost first."""
    trimmed = pathname.rstrip("/") or "/"
    for route in routes:
        path = route.path.rstrip("/") or "/"
        if path == "*":
            return
        within = path == "/" or trimmed == path or trimmed.startswith(path + "/")
        if trimmed == path or (within and not route.exact):
            yield route.key
            yield from _matched(route.children, pathname)
            return


def _routes(stream: TokenStream) -> tuple[Route, ...]:
    """An array of route objects, read from its "[" (see the module docs for the shape)."""
    if stream.accept("punct", "[") is None:
        return ()
    out = []
    while (token := stream.next()) is not None and token.value != "]":
        if token.value == "{":
            route = _route(stream)
            if route is not None:
                out.append(route)
    return tuple(out)


def _route(stream: TokenStream) -> Route | None:
    """One route object after its "{", up to its "}"; None when it has no path."""
    path: str | None = None
    key, exact = "", False
    children: tuple[Route, ...] = ()
    while (token := stream.next()) is not None and token.value != "}":
        if token.kind != "name" or stream.accept("punct", ":") is None:
            continue
        if token.value == "path" and (value := stream.accept("string")) is not None:
            path = value.value[1:-1]
        elif token.value == "component":
            strings = _call_strings(stream)
            key = "-".join(strings[:2]) if len(strings) > 1 else ""
        elif token.value == "exact":
            exact = _truthy(stream)
        elif token.value == "routes":
            children = _routes(stream)
    return Route(path, key, exact, children) if path is not None else None


def _call_strings(stream: TokenStream) -> list[str]:
    """The string arguments of a call ``f("/docs","b35")`` whose callee was just read."""
    stream.accept("name")
    strings: list[str] = []
    if stream.accept("punct", "(") is None:
        return strings
    while (token := stream.next()) is not None and token.value != ")":
        if token.kind == "string":
            strings.append(token.value[1:-1])
    return strings


def _truthy(stream: TokenStream) -> bool:
    """``!0`` or ``true``, the value of ``exact:``."""
    token: Token | None = stream.next()
    if token is not None and token.value == "!":
        token = stream.next()
        return token is not None and token.value == "0"
    return token is not None and token.value == "true"
