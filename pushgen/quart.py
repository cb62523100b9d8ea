"""``pushgen.quart``, the import path of the Quart extension: see :mod:`pushgen.runtime.quart`."""

from __future__ import annotations

from .runtime import quart as _extension
from .runtime.quart import *  # noqa: F403

__all__ = _extension.__all__
