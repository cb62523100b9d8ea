"""The chunks a page's bundler runtime loads at run time, as hints (pushgen/scan/chunks.py reads them).

A Docusaurus page's scripts are a webpack runtime and a main bundle; they load
the route's chunks (33 scripts on a real site) once they run, through URLs
no scan sees. When one of the page's scripts holds webpack's chunk map and one
holds Docusaurus's route table, the chunks the page's route loads on a cold
load are hinted (never pushed: they do not block the first render, and the
page needs them only once its scripts run). A chunk the page already lists is
not listed twice. Each script is read and parsed once per source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..model import Asset
from ..scan.chunks import ChunkMap, RouteTable, chunk_map, route_table
from ..scan.decode import decode_utf8
from ..urls import url_path_to_relpath

__all__ = ["RuntimeChunk", "RuntimeChunks"]


@dataclass(frozen=True, slots=True)
class RuntimeChunk:
    """A chunk a page loads at run time: its asset (a hint), and the scripts that name it."""

    asset: Asset
    runtime: str  # the URL path of the script with the chunk map
    table: str  # the URL path of the script with the route table

    @property
    def note(self) -> str:
        """Why it is there, for ``pushgen explain``."""
        return (
            f"hint only: the webpack runtime {self.runtime} loads it when the page runs"
            f" (the route table of {self.table} names it for this route); not render-blocking"
        )


class RuntimeChunks:
    """The run-time chunks of each page of one source, reading each script once.

    ``read`` takes an output path (as :func:`pushgen.urls.url_path_to_relpath` makes
    them from a URL path under ``base_path``).
    """

    def __init__(self, read: Callable[[str], bytes | None], base_path: str) -> None:
        self._read = read
        self._base_path = base_path
        self._maps: dict[str, ChunkMap | None] = {}
        self._tables: dict[str, RouteTable | None] = {}

    def __call__(self, route: str, assets: Iterable[Asset]) -> tuple[RuntimeChunk, ...]:
        """The chunks the page at ``route`` (whose entries are ``assets``) loads at run time."""
        assets = tuple(assets)
        scripts = [a.path for a in assets if a.destination == "script" and not a.module]
        runtime = next((p for p in scripts if self._map(p) is not None), None)
        if runtime is None:  # most sites: no script is read for a route table
            return ()
        table = next((p for p in scripts if self._table(p) is not None), None)
        if table is None:
            return ()
        chunks, routes = self._maps[runtime], self._tables[table]
        assert chunks is not None and routes is not None
        listed = {a.path for a in assets}
        out = []
        for chunk in routes.chunks(route):
            url = chunks.url(chunk)
            if url is not None and url not in listed:
                listed.add(url)
                asset = Asset(url, "script", push=False, hint=True)
                out.append(RuntimeChunk(asset, runtime, table))
        return tuple(out)

    def unseen(self, assets: Iterable[Asset]) -> str:
        """What the page loads at run time that no static table says, in words ("" when nothing).

        A webpack runtime without a route table beside it (a bundle other than
        Docusaurus's) builds chunk URLs no scan can tie to a page.
        """
        scripts = [a.path for a in assets if a.destination == "script" and not a.module]
        runtime = next((p for p in scripts if self._map(p) is not None), None)
        if runtime is None or any(self._table(p) is not None for p in scripts):
            return ""
        chunks = self._maps[runtime]
        count = len(chunks.files) if chunks is not None else 0
        return (
            f"the webpack runtime {runtime} loads chunks when the page runs ({count} in its map);"
            " no route table a scan can read says which this page loads, so the page fetches"
            " more than the manifest lists"
        )

    def extend(self, route: str, assets: tuple[Asset, ...]) -> tuple[Asset, ...]:
        """``assets`` and, after them, the hints of the chunks the page loads at run time."""
        return assets + tuple(chunk.asset for chunk in self(route, assets))

    def _text(self, path: str) -> str:
        relpath = url_path_to_relpath(path, self._base_path)
        data = self._read(relpath) if relpath is not None else None
        return decode_utf8(data).text if data is not None else ""

    def _map(self, path: str) -> ChunkMap | None:
        if path not in self._maps:
            self._maps[path] = chunk_map(self._text(path))
        return self._maps[path]

    def _table(self, path: str) -> RouteTable | None:
        if path not in self._tables:
            self._tables[path] = route_table(self._text(path))
        return self._tables[path]
