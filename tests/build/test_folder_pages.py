"""build/folder_pages.py: --exclude globs, and the sub-path a folder was built for."""

from __future__ import annotations

import pytest

from pushgen.sources.folder_pages import SubPath, detect_sub_path, excluded

FILES = ["index.html", "guide/index.html", "assets/app.js", "assets/style.css", "logo.svg"]


@pytest.mark.parametrize(
    ("patterns", "path", "out"),
    [
        (["_static/*macros.html"], "_static/sbt-webpack-macros.html", True),
        (["*.html"], "index.html", True),
        (["*.html"], "guide/index.html", False),  # '*' stays within a folder
        (["**/*.html"], "guide/a/index.html", True),  # '**' crosses them
        (["**.html"], "guide/index.html", True),
        (["guide"], "guide/index.html", True),  # a folder: everything under it
        (["guide/"], "guide/a/b.html", True),
        (["guide"], "guides/index.html", False),
        (["gu?de/*"], "guide/x.html", True),
        ([], "index.html", False),
        (["a.html", "b.html"], "b.html", True),
    ],
)
def test_exclude_globs(patterns: list[str], path: str, out: bool) -> None:
    assert excluded(patterns, path) is out


def test_a_folder_built_for_a_sub_path_is_found() -> None:
    paths = ["/docs/assets/app.js", "/docs/assets/style.css", "/docs/logo.svg", "/assets/app.js"]
    found = detect_sub_path(paths, FILES, set(FILES).__contains__)
    assert found == SubPath("/docs/", missing=3, resolved=3, example="/docs/assets/app.js")
    assert "--base-path /docs/" in found.message
    assert "built to be served at /docs/" in found.message


@pytest.mark.parametrize(
    ("missing", "resolved", "words"),
    [
        (1, 1, "the one reference that names no file of the folder starts with /docs/, which"
         " the folder has no folder for, and it names one once it is taken off"),
        (2, 1, "all 2 references that name no file of the folder start with /docs/, which"
         " the folder has no folder for, and 1 of them names one once it is taken off"),
        (3, 3, "all 3 references that name no file of the folder start with /docs/, which"
         " the folder has no folder for, and 3 of them name one once it is taken off"),
    ],
)  # fmt: skip
def test_the_sub_path_message_counts_in_good_grammar(
    missing: int, resolved: int, words: str
) -> None:
    found = SubPath("/docs/", missing=missing, resolved=resolved, example="/docs/logo.svg")
    assert words in found.message, found.message


def test_a_deeper_sub_path_is_found() -> None:
    paths = ["/org/docs/assets/app.js", "/org/docs/logo.svg"]
    found = detect_sub_path(paths, FILES, set(FILES).__contains__)
    assert found is not None and found.prefix == "/org/docs/"


@pytest.mark.parametrize(
    "paths",
    [
        ["/assets/app.js"],  # every reference names a file
        ["/docs/assets/app.js", "/blog/logo.svg"],  # no one prefix
        ["/docs/nope.js", "/docs/gone.css"],  # taking it off names nothing
        ["/guide/nope.js"],  # the folder has guide/: a broken link, not a sub-path
    ],
)
def test_no_sub_path_without_all_the_evidence(paths: list[str]) -> None:
    assert detect_sub_path(paths, FILES, set(FILES).__contains__) is None
