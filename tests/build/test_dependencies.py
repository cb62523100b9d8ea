"""pages_to_render finds the pages to render again backwards from what changed; it
must choose exactly the pages whose closure (old or new) meets a change, as a
closure per page did (issue 17: that cost 1 s at 50,000 pages)."""

from __future__ import annotations

import random

import pytest

from pushgen.build.dependencies import changed_templates, pages_to_render, template_closure
from pushgen.build.incremental import ALL, TemplateFile
from pushgen.build.render import Page


def by_closures(
    pages: list[Page], old: dict[str, TemplateFile], new: dict[str, TemplateFile]
) -> set[str]:
    """The rule as a closure per page (what pages_to_render did before)."""
    changed = changed_templates(old, new)
    if not changed:
        return set()
    result = set()
    for page in pages:
        closure = template_closure(page.source, new) | template_closure(page.source, old)
        if ALL in closure or closure & changed:
            result.add(page.source)
    return result


def page(source: str) -> Page:
    return Page(source=source, route=f"/{source}", endpoint=source, output=source)


def graph(rng: random.Random, names: list[str], digests: dict[str, str]) -> dict[str, TemplateFile]:
    templates = {}
    for name in names:
        if rng.random() < 0.05:
            continue  # gone in this version
        targets = rng.sample(names, rng.randint(0, 3))
        if rng.random() < 0.03:
            targets.append(ALL)
        templates[name] = TemplateFile(name, 1, 1, digests[name], frozenset(targets))
    return templates


@pytest.mark.parametrize("seed", range(40))
def test_the_pages_chosen_are_those_whose_closure_meets_a_change(seed: int) -> None:
    rng = random.Random(seed)
    names = [f"t{i}.html" for i in range(30)]
    old = graph(rng, names, {n: "a" for n in names})
    new = dict(old)
    for name in rng.sample(names, rng.randint(0, 4)):
        # Changed: new content (and perhaps new names), or gone, or new.
        if rng.random() < 0.2:
            new.pop(name, None)
        else:
            targets = frozenset(rng.sample(names, rng.randint(0, 3)))
            new[name] = TemplateFile(name, 2, 2, "b", targets)
    pages = [page(n) for n in names if n in new]
    assert pages_to_render(pages, old, new) == by_closures(pages, old, new)


def test_nothing_changed_renders_nothing() -> None:
    old = {"a.html": TemplateFile("a.html", 1, 1, "x", frozenset({ALL}))}
    assert pages_to_render([page("a.html")], old, dict(old)) == set()
