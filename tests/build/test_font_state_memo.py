"""The per-table memo of computed states (pushgen.build.fonts.table.StateMemo)."""

from __future__ import annotations

from pushgen.build.fonts.cascade import Hit
from pushgen.build.fonts.state import computed
from pushgen.build.fonts.table import StateMemo
from pushgen.model import FontDeclarations

_FAMILY: Hit = ((0, 0, (0, 0, 1), 0), FontDeclarations(family=("b",)), "")
_MAYBE: Hit = ((0, 0, (0, 1, 0), 1), FontDeclarations(weight="700"), "a rule under :hover")


def test_the_same_derivation_gives_the_same_state_and_what_computed_gives() -> None:
    memo = StateMemo(frozenset())
    first = memo.derive(memo.initial, [_FAMILY], "html")
    assert memo.derive(memo.initial, [_FAMILY], "html") is first
    assert first == computed(memo.initial, [_FAMILY], "html")
    assert first.family == ((("b",), ""),)


def test_the_tag_counts_only_where_the_ua_style_sheet_styles_it() -> None:
    memo = StateMemo(frozenset())
    root = memo.derive(memo.initial, [_FAMILY], "html")
    # <p> and <li> get nothing from the UA style sheet: one state for both.
    assert memo.derive(root, [_MAYBE], "p") is memo.derive(root, [_MAYBE], "li")
    # <em> is italic, <code> monospace: each its own, as computed() says.
    em, code = memo.derive(root, None, "em"), memo.derive(root, None, "code")
    assert em.style == (("italic", ""),) and em == computed(root, None, "em")
    assert code.family == ((("monospace",), ""),) and code is not em
    assert memo.derive(root, [_MAYBE], "h1") is not memo.derive(root, [_MAYBE], "p")


def test_other_hits_or_another_parent_make_another_state() -> None:
    memo = StateMemo(frozenset())
    root = memo.derive(memo.initial, [_FAMILY], "html")
    bold = memo.derive(root, [_MAYBE], "p")
    assert memo.derive(root, [_FAMILY], "p") is not bold
    assert memo.derive(bold, [_MAYBE], "p") is not bold
    assert bold.weight == (("700", "a rule under :hover"), ("400", ""))


def test_a_full_memo_starts_again_and_still_answers_right() -> None:
    memo = StateMemo(frozenset(), limit=2)
    tags = ("em", "code", "b", "i", "em")
    states = [memo.derive(memo.initial, [_FAMILY], tag) for tag in tags]
    assert states == [computed(memo.initial, [_FAMILY], tag) for tag in tags]
    assert states[4] is not states[0]  # emptied at the third: worked out again
    assert memo.derive(memo.initial, [_FAMILY], "em") is states[4]
