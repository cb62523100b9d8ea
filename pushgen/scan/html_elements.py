"""What each HTML element that can fetch something adds to a page's scan.

One function per element, called by :class:`pushgen.scan.html_scanner.PageScanner` for
each element of its tag in document order (the table is in :mod:`pushgen.scan.html`).
The rules are the HTML Living Standard's: which ``rel`` fetches, "prepare the script
element", "select an image source", each named beside its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..model import PRELOAD_DESTINATIONS
from .css import scan_css, scan_css_declarations
from .html_values import ASCII_WS, ICON_RELS, JS_TYPES, Element, cors, line, split_tokens, text_attr
from .js import scan_js

if TYPE_CHECKING:
    from ..model import ScriptPlacement, ScriptTiming
    from .html_scanner import PageScanner

__all__ = ["HANDLERS", "style_attribute"]


def _link(scanner: PageScanner, element: Element) -> None:
    rels = split_tokens(element.get("rel"))
    if not rels:
        return
    href = element.get("href")
    media = text_attr(element.get("media"))
    crossorigin = cors(element.get("crossorigin"))
    type_ = text_attr(element.get("type"))
    if (
        "stylesheet" in rels
        and "alternate" not in rels
        and element.get("disabled") is None
        # A type other than text/css means "not a stylesheet I can use": not fetched.
        and (type_ is None or type_.lower() == "text/css")
    ):
        scanner.add(href, element, "style", "stylesheet", crossorigin=crossorigin, media=media)
    if "preload" in rels:
        _preload(scanner, element, href, media, crossorigin, type_)
    if "modulepreload" in rels:
        # HTML Standard: module preloads are fetched in CORS mode, like module scripts.
        scanner.add(
            href,
            element,
            "script",
            "modulepreload",
            crossorigin=crossorigin or "anonymous",
            module=True,
        )
    if rels & ICON_RELS:
        scanner.add(href, element, "image", "icon", type=type_, media=media)


def _preload(
    scanner: PageScanner,
    element: Element,
    href: str | None,
    media: str | None,
    crossorigin: str | None,
    type_: str | None,
) -> None:
    written = element.get("as")
    as_ = (written or "").strip(ASCII_WS).lower()
    if as_ not in PRELOAD_DESTINATIONS:
        what = "without an as attribute" if written is None else f"with as={written!r}"
        scanner.diagnose(
            element,
            f"ignored: <link rel=preload> {what};"
            f" browsers only preload as one of {', '.join(sorted(PRELOAD_DESTINATIONS))}",
        )
        return
    if as_ == "font" and crossorigin is None:
        scanner.diagnose(
            element,
            "<link rel=preload as=font> without crossorigin is downloaded twice:"
            " fonts are always fetched in CORS mode",
        )
    scanner.add(
        href,
        element,
        as_,
        "preload",
        type=type_,
        crossorigin=crossorigin,
        media=media,
    )
    srcset = element.get("imagesrcset")
    if as_ == "image" and srcset:
        scanner.add_srcset(srcset, element, seen={href or ""}, type=type_, media=media)


def _script(scanner: PageScanner, element: Element) -> None:
    # HTML Standard, "prepare the script element", steps on the type string.
    type_attr = element.get("type")
    language = element.get("language")
    if type_attr == "" or (type_attr is None and not language):
        script_type = "text/javascript"
    elif type_attr is not None:
        script_type = type_attr.strip(ASCII_WS).lower()
    else:
        script_type = f"text/{language}".lower()
    src = element.get("src")
    placement: ScriptPlacement = (
        "head" if any(True for _ in element.iterancestors("head")) else "body"
    )
    timing: ScriptTiming = "async" if element.get("async") is not None else ""
    if script_type in JS_TYPES:
        # A browser that runs modules skips nomodule classic scripts.
        if element.get("nomodule") is None:
            # HTML Standard: async wins over defer; both only apply with src.
            if not timing and element.get("defer") is not None:
                timing = "defer"
            scanner.add(
                src,
                element,
                "script",
                "script",
                crossorigin=cors(element.get("crossorigin")),
                placement=placement,
                timing=timing,
            )
            if src is None and element.text:
                _inline_script(scanner, element, element.text, module=False)
    elif script_type == "module":
        # Module scripts are fetched in CORS mode; no attribute means "anonymous".
        crossorigin = cors(element.get("crossorigin")) or "anonymous"
        if src is not None:
            # A module script is deferred unless async (the defer attribute is moot).
            scanner.add(
                src,
                element,
                "script",
                "script",
                crossorigin=crossorigin,
                module=True,
                placement=placement,
                timing=timing or "defer",
            )
        elif element.text:
            _inline_script(scanner, element, element.text, module=True, crossorigin=crossorigin)
    # importmap, speculationrules, JSON, templates...: nothing to fetch.


def _inline_script(
    scanner: PageScanner,
    element: Element,
    text: str,
    *,
    module: bool,
    crossorigin: str = "anonymous",
) -> None:
    """A module's static imports, and what any script fetches through a literal URL
    (fetch(), import(), a worker, Sphinx's search index); a classic script has no
    import declarations."""
    scanner.merge(
        scan_js(
            text,
            scanner.base,
            filename=scanner.filename,
            line_offset=max(line(element) - 1, 0),
            inline=True,
            crossorigin=crossorigin,
            fetches=True,
            declarations=module,
        )
    )


def _img(scanner: PageScanner, element: Element) -> None:
    src = element.get("src")
    seen = {src} if src else set()
    srcset = element.get("srcset")
    if element is not scanner.lcp or not scanner.lcp_reference(element, src):
        # With a srcset, src is one more candidate (the 1x fallback): the browser
        # may well fetch another, so it is listed like the rest (kind "srcset").
        scanner.add(src, element, "image", "srcset" if srcset else "image")
    if srcset:
        scanner.add_srcset(srcset, element, seen=seen)


def _source(scanner: PageScanner, element: Element) -> None:
    # Only <picture> sources are images (audio/video sources are media). libxml2 does
    # not know <source> is void and nests the next one inside it: look past those.
    parent = element.getparent()
    while parent is not None and parent.tag == "source":
        parent = parent.getparent()
    if parent is None or parent.tag != "picture":
        return
    srcset = element.get("srcset")
    if srcset:
        scanner.add_srcset(
            srcset,
            element,
            seen=set(),
            type=text_attr(element.get("type")),
            media=text_attr(element.get("media")),
        )


def _video(scanner: PageScanner, element: Element) -> None:
    scanner.add(element.get("poster"), element, "image", "image")


def _input(scanner: PageScanner, element: Element) -> None:
    if (element.get("type") or "").strip(ASCII_WS).lower() == "image":
        scanner.add(element.get("src"), element, "image", "image")


def _style(scanner: PageScanner, element: Element) -> None:
    type_ = (element.get("type") or "").strip(ASCII_WS).lower()
    if type_ not in ("", "text/css") or not element.text:
        return
    result = scan_css(
        element.text,
        scanner.base,
        filename=scanner.filename,
        line_offset=max(line(element) - 1, 0),
        inline=True,
    )
    media = text_attr(element.get("media"))
    if media is not None:
        # The element's media applies to everything its sheet loads.
        result = replace(
            result,
            references=tuple(
                ref if ref.media else replace(ref, media=media) for ref in result.references
            ),
        )
    scanner.merge(result)


def style_attribute(scanner: PageScanner, element: Element, value: str) -> None:
    scanner.merge(
        scan_css_declarations(
            value,
            scanner.base,
            filename=scanner.filename,
            line_offset=max(line(element) - 1, 0),
        )
    )


HANDLERS: dict[str, Callable[[PageScanner, Element], None]] = {
    "link": _link,
    "script": _script,
    "img": _img,
    "source": _source,
    "video": _video,
    "input": _input,
    "style": _style,
}
