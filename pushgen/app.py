"""``pushgen.app``, the import path of the app factory: see :mod:`pushgen.runtime.factory`.

Hypercorn's own CLI runs it in every worker::

    PUSHGEN_SITE=/srv/site hypercorn "pushgen.app:create_app()"
"""

from __future__ import annotations

from .runtime.factory import DEFAULT_EARLY_HINTS_DELAY, ENV_PREFIX, create_app

__all__ = ["DEFAULT_EARLY_HINTS_DELAY", "ENV_PREFIX", "create_app"]
