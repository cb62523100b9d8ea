"""The site's per-route push budget applied to a page's assets (``push.max_pushes``, ``max_bytes``).

The verdict itself is the ground floor's (:func:`pushgen.push_policy.apply_policy`,
one meaning of every limit for build, runtime and export); this applies it to what
the resolver found and keeps the reasons as the entries' notes for ``explain``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ..push_policy import Decision, Policy, apply_policy
from .found import Found

__all__ = ["apply_budget"]


def apply_budget(
    found: Sequence[Found], policy: Policy, size_of: Callable[[str], int | None]
) -> list[Found]:
    """Apply the site's per-route push budget (``push.max_pushes`` / ``max_bytes``)."""
    if policy.max_pushes is None and policy.max_bytes is None:
        return list(found)
    # Within both budgets nothing changes (apply_policy only turns pushes past them
    # into hints): the common case, without a Decision for every entry of every page.
    pushed = [f.asset.path for f in found if f.asset.push]
    if (policy.max_pushes is None or len(pushed) <= policy.max_pushes) and (
        policy.max_bytes is None or sum(size_of(p) or 0 for p in pushed) <= policy.max_bytes
    ):
        return list(found)
    budget = Policy(max_pushes=policy.max_pushes, max_bytes=policy.max_bytes)
    decisions = apply_policy([Decision(f.asset) for f in found], budget, size_of)
    return [
        replace(f, asset=d.asset, notes=f.notes + d.reasons) if d.asset != f.asset else f
        for f, d in zip(found, decisions, strict=True)
    ]
