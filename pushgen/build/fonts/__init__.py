"""Which web fonts a page's first render uses: per-page font tracing (issue 15).

A browser downloads an ``@font-face`` source only when text is laid out with the
face: an element (or its ``::before``/``::after``) has text, its computed
``font-family`` names the face's family before any family that ends the search,
font matching picks the face for its computed weight and style (CSS Fonts 4,
section 5.2: italic falls back to oblique then normal; the nearest weight in the
order the spec gives), and, where the face has a ``unicode-range``, the text has a
character in it. subfont (Munter's per-page font tracing) works the same way in a
headless DOM; here the DOM is lxml's and selectors are matched with cssselect.

The family, one concern a module:

* :mod:`.selectors`: a rule's selectors compiled once, matched against a page;
* :mod:`.table`: a tuple of sheets' rules as one table keyed by subject (issue 17);
* :mod:`.cascade`: the cascade of one property (font or custom) on an element;
* :mod:`.variables`: custom properties and ``var()`` as a browser computes them;
* :mod:`.state`: each element's computed font (family, weight, style, content);
* :mod:`.matching`: font matching, the text per computed font to each face's verdict;
* :mod:`.trace`: the walk that ties them together, :func:`trace_fonts`.

What a sheet says about fonts is read by the scanners (:mod:`pushgen.scan.font_rules`,
called by :mod:`pushgen.scan.css`): tokens in, values out, no page involved.
tests/build/test_fonts_equivalence.py holds the fast tracing to the straightforward
one (tests/build/fonts_reference.py), verdicts and reasons alike.

:func:`trace_fonts` takes the parsed page and the stylesheets that apply to it
(their :class:`~pushgen.model.FontSheet`, read once per sheet by scan.css) and says,
for each face's font path:

* ``"used"``: text that certainly renders uses it: pushed or hinted as the policy says;
* ``"possible"``: only through something that cannot be decided statically (a
  selector with ``:hover`` or a pseudo-element, a rule under ``@media (max-width:
  ...)`` or ``@supports``, ``attr()``, a custom property registered with
  ``@property``, a selector cssselect cannot read, a named font before it that
  the visitor may have installed): hinted, never pushed;
* ``"unused"``: no text of the page is set in it: listed only, with the reason.

The characters checked against ``unicode-range`` are those of the text set in the
family (each element's own text and its generated content), not the whole page's:
that is the text a browser shapes with the face, so a page with Cyrillic only in a
``<code>`` block set in a monospace family does not fetch the Cyrillic subset of the
body font.

Not modelled (each errs toward fetching): ``display: none`` from stylesheets (only
the ``hidden`` attribute, elements never rendered and ``style`` attributes hide
text), ``text-transform``, ``font-synthesis``, ``font-stretch``, cascade layers,
a ``<base href>`` for inline ``@font-face`` sources, and a script that sets a
family at run time (a rule's ``set: [{path: ..., hint: true}]`` hints such a font).
"""

from __future__ import annotations

from ...model import FontPolicy
from .matching import FontUse, Verdict
from .table import SheetFonts, screen_media
from .trace import parse_page, trace_fonts

__all__ = [
    "FontPolicy",
    "FontUse",
    "SheetFonts",
    "Verdict",
    "parse_page",
    "screen_media",
    "trace_fonts",
]
