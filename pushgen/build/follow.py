"""Following a reference through stylesheets and modules: ``@import`` trees, module graphs.

Part of the Resolver (pushgen/build/graph.py): from a stylesheet, each sheet it
imports (depth first, under the importer's media, cycles and runaway depth
warned) and what each names; from a module, its static import graph (an
iterative walk: module graphs can be deep) and what each module fetches. Each
reference reached goes to the Resolver's ``_add`` with the chain that led to it.
A mixin over the Resolver's state (its scanned docs, warnings, per-build caches).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..model import Reference
from .entries import join_media
from .found import MAX_IMPORT_DEPTH, Doc, DocKind, Found, Link

__all__ = ["Following"]


class Following:
    """The Resolver's walk through stylesheets and modules (see the module docstring)."""

    # Declared by the Resolver (pushgen/build/graph.py): one copy of each link and
    # of each reference under an importer's media, for all pages.
    _links: dict[tuple[str, int], Link]
    _joined: dict[tuple[int, str | None], tuple[Reference, Reference]]

    if TYPE_CHECKING:

        def _doc(self, ref: Reference, kind: DocKind) -> Doc | None: ...

        def _warn(self, where: Link, message: str) -> None: ...

        def _add(
            self,
            found: dict[str, Found],
            ref: Reference,
            chain: tuple[Link, ...],
            css_images: list[Found],
        ) -> bool: ...

    def _follow(
        self,
        found: dict[str, Found],
        top: Reference,
        chain: tuple[Link, ...],
        css_images: list[Found],
        css: bool,
        names: set[str] | None = None,
    ) -> None:
        """Follow ``top``, a stylesheet (``css``) or a module, adding what it reaches."""
        if css:
            self._follow_css(found, top, chain, css_images, visiting=set(), names=names)
        else:
            self._follow_js(found, top, chain, names)

    def _follow_css(
        self,
        found: dict[str, Found],
        sheet: Reference,
        chain: tuple[Link, ...],
        css_images: list[Found],
        visiting: set[str],
        names: set[str] | None = None,
    ) -> None:
        """Add what ``sheet`` imports and names, depth first; ``names`` collects every
        path it offers to ``found`` (added or not)."""
        doc = self._doc(sheet, "css")
        if doc is None or sheet.path in visiting:
            return
        if len(visiting) >= MAX_IMPORT_DEPTH:
            self._warn(
                chain[-1],
                f"@import nesting deeper than {MAX_IMPORT_DEPTH}; {sheet.path} not followed",
            )
            return
        visiting.add(sheet.path)
        for ref in doc.scan.references:
            if not ref.local:
                continue
            link_chain = (*chain, self._link(doc.display, ref.line))
            if ref.destination == "style":
                if ref.path in visiting:
                    self._warn(
                        link_chain[-1], f"@import cycle: {ref.path} is already being imported"
                    )
                    continue
                # An imported sheet applies only where its own and the importer's media match.
                ref = self._with_media(ref, join_media(sheet.media, ref.media))
                if names is not None:
                    names.add(ref.path)
                if self._add(found, ref, link_chain, css_images):
                    self._follow_css(found, ref, link_chain, css_images, visiting, names)
            else:
                if names is not None:
                    names.add(ref.path)
                self._add(found, ref, link_chain, css_images)
        visiting.discard(sheet.path)

    def _with_media(self, ref: Reference, media: str | None) -> Reference:
        """``ref`` for ``media``: one copy per reference and media for all pages."""
        if media == ref.media:
            return ref
        key = (id(ref), media)
        entry = self._joined.get(key)
        if entry is None or entry[0] is not ref:
            entry = self._joined[key] = (ref, replace(ref, media=media))
        return entry[1]

    def _follow_js(
        self,
        found: dict[str, Found],
        module: Reference,
        chain: tuple[Link, ...],
        names: set[str] | None = None,
    ) -> None:
        # Iterative depth-first walk: module graphs can be deep.
        stack: list[tuple[Reference, tuple[Link, ...]]] = [(module, chain)]
        expanded: set[str] = set()
        while stack:
            current, current_chain = stack.pop()
            if current.path in expanded:
                continue
            expanded.add(current.path)
            doc = self._doc(current, "js")
            if doc is None:
                continue
            children: list[tuple[Reference, tuple[Link, ...]]] = []
            for ref in doc.scan.references:
                if not ref.local:
                    continue
                link_chain = (*current_chain, self._link(doc.display, ref.line))
                if names is not None:
                    names.add(ref.path)
                # Static imports load with the module; what it fetches later does not.
                if self._add(found, ref, link_chain, []) and ref.kind == "module":
                    children.append((ref, link_chain))
            stack.extend(reversed(children))

    def _link(self, file: str, line: int) -> Link:
        key = (file, line)
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = Link(file, line)
        return link
