"""The one count of ``max_pushes`` (pushgen.push_policy), as a server's budget and the policy's."""

from __future__ import annotations

import pytest

from pushgen.model import Asset
from pushgen.push_policy import Decision, Policy, apply_policy, over_max_pushes, within_max_pushes


@pytest.mark.parametrize(
    ("pushes", "max_pushes", "kept"),
    [
        ((True, False, True, True), None, (True, False, True, True)),
        ((True, False, True, True), 2, (True, False, True, False)),
        ((True, True), 0, (False, False)),
        ((False, True, True), 1, (False, True, False)),
        ((), 3, ()),
    ],
)
def test_a_servers_budget_keeps_the_first_pushes_in_document_order(
    pushes: tuple[bool, ...], max_pushes: int | None, kept: tuple[bool, ...]
) -> None:
    assert within_max_pushes(pushes, max_pushes) == kept


def test_the_policy_and_a_server_count_the_same_way() -> None:
    assets = [Asset(f"/{n}.css", "style") for n in range(5)]
    for budget in (None, 0, 1, 3, 5, 9):
        decided = apply_policy([Decision(a) for a in assets], Policy(max_pushes=budget), len)
        by_policy = tuple(d.asset.push for d in decided)
        assert by_policy == within_max_pushes([True] * 5, budget), budget
        assert over_max_pushes(sum(by_policy), budget) == (budget is not None and budget <= 5)
