"""Which ``<img>`` of a page is likely its Largest Contentful Paint, told from the
markup alone (the scanner hints that one image with ``fetchpriority=high``)."""

from __future__ import annotations

from collections.abc import Iterable

from .html_values import ASCII_WS, INTEGER, SKIPPED, Element, dimension, srcset_candidates

__all__ = ["LCP_AREA", "LCP_WIDTH", "likely_lcp", "likely_lcp_among"]


def likely_lcp(root: Element) -> Element | None:
    """The <img> likely to be the page's Largest Contentful Paint, if one can be named.

    The first marked ``fetchpriority=high``, else the first large one (see
    :func:`_large`); never ``loading=lazy`` (it is not fetched until laid out
    near the viewport) nor ``fetchpriority=low``.
    """
    return likely_lcp_among(root.iter("img"))


def likely_lcp_among(imgs: Iterable[Element]) -> Element | None:
    """:func:`likely_lcp` over a page's ``<img>`` elements in document order (the
    scanner's one walk over the tree has them already)."""
    first_large = None
    for img in imgs:
        if any(True for _ in img.iterancestors(*SKIPPED)):
            continue
        if (img.get("loading") or "").strip(ASCII_WS).lower() == "lazy":
            continue
        priority = (img.get("fetchpriority") or "").strip(ASCII_WS).lower()
        if priority == "high":
            return img
        if first_large is None and priority != "low" and _large(img):
            first_large = img
    return first_large


def _large(img: Element) -> bool:
    """Whether ``img`` is large enough to be a page's Largest Contentful Paint.

    Its width and height attributes cover LCP_AREA, or its srcset offers a candidate
    at least LCP_WIDTH wide: an image laid out that large is usually a hero. Without
    either, the build cannot tell, and lists it.
    """
    if dimension(img.get("width")) * dimension(img.get("height")) >= LCP_AREA:
        return True
    candidates = srcset_candidates(img.get("srcset") or "").candidates
    return any(
        d.endswith("w") and INTEGER.fullmatch(d[:-1]) and int(d[:-1]) >= LCP_WIDTH
        for candidate in candidates
        for d in candidate.descriptors
    )


# "Large" for the LCP guess: 300 x 167 CSS px, or a srcset candidate 600 px wide.
LCP_AREA = 50_000
LCP_WIDTH = 600
