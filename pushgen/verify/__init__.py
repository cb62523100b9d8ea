"""``pushgen verify``: the manifest checked against what headless Chromium really fetches.

:mod:`~pushgen.verify.browser` owns the browser (for the product, the test suite
and the benchmarks), :mod:`~pushgen.verify.compare` judges one route (pure),
:mod:`~pushgen.verify.result` is the result and its JSON, and
:mod:`~pushgen.verify.run` serves the output and loads the routes
(:mod:`~pushgen.verify.apps`: the app ``--app`` names, Quart or any ASGI app). The runtime
never imports this room; Playwright is imported only when a browser opens.
"""

from __future__ import annotations

from .browser import VerifyUnavailable
from .compare import Duplicate, Miss, Needless, RouteVerdict, compare_route
from .result import VerifyResult, VerifyResultError
from .run import Source, VerifyError, verify

__all__ = [
    "Duplicate",
    "Miss",
    "Needless",
    "RouteVerdict",
    "Source",
    "VerifyError",
    "VerifyResult",
    "VerifyResultError",
    "VerifyUnavailable",
    "compare_route",
    "verify",
]
