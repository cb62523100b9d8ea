"""Long work is visible: phases and pages on a terminal (rich bars) and in a log (a line each).

Counts and phase names are asserted, never times. A log is standard error written
to a file (as in CI); a terminal is a pseudo-terminal (os.openpty) the command
writes its standard error to.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.console import PlainProgress
from pushgen.progress import NO_PROGRESS, phase
from tests.clients import REPO
from tests.output import PHASE_LINE, phase_lines, problem_lines
from tests.sites import SMALL_SITE, write_site

PAGES = 120  # SMALL_SITE's 3 and these: enough for a few progress reports
# In the order they end: render with its last page, before resolve (which then
# resolves that page) and after static (the plan of the copying beside it).
BUILD_PHASES = [
    "read",
    "state",
    "staging",
    "choose",
    "static",
    "render",
    "resolve",
    "manifest",
    "precompress",
    "swap",
    "save",
]


def generated_site(root: Path, pages: int = PAGES) -> Path:
    files = dict(SMALL_SITE)
    for n in range(pages):
        files[f"pages/gen/p{n}.html"] = (
            '{% extends "base.html" %}{% block body %}<p>Page ' + str(n) + "</p>{% endblock %}\n"
        )
    return write_site(root, files)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return generated_site(tmp_path / "site")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return {**env, **extra}


def run_to_file(tmp_path: Path, *args: str, cwd: Path | None = None) -> tuple[int, str]:
    """Run pushgen with standard error into a file, as CI does; its exit code and the file."""
    log = tmp_path / "stderr.log"
    with log.open("wb") as err:
        done = subprocess.run(
            [sys.executable, "-m", "pushgen", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            env=_env(), timeout=300, check=False, cwd=cwd,
        )  # fmt: skip
    return done.returncode, log.read_text(encoding="utf-8")


def run_on_terminal(*args: str, **env: str) -> tuple[int, str]:
    """Run pushgen with standard error on a pseudo-terminal; its exit code and all it wrote."""
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "pushgen", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower,
            env=_env(TERM="xterm-256color", COLUMNS="100", **env),
        )  # fmt: skip
    finally:
        os.close(follower)
    chunks = []
    for _ in range(1_000_000):  # bounded: ends when the command closes the terminal
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # EIO: every writer is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


_COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|9[0-7]|38;[25];[0-9;]+)m")


def test_a_build_logged_to_a_file_says_each_phase_once_with_its_pages(
    tmp_path: Path, site: Path
) -> None:
    code, log = run_to_file(tmp_path, "build", str(site))
    assert code == 0, log
    pages = PAGES + 3
    phases = phase_lines(log)
    assert [name for name, _ in phases] == BUILD_PHASES, log
    counted = {name: n for name, n in phases if n is not None}
    assert counted == {"render": pages, "resolve": pages}
    # No bar, no carriage return, no colour in a log.
    assert "\r" not in log and "\x1b" not in log
    assert problem_lines(log) == [line for line in log.splitlines() if line.startswith("built ")]


def test_a_scan_logged_to_a_file_says_its_phases(tmp_path: Path, site: Path) -> None:
    assert main(["build", str(site), "-q"]) == 0
    manifest = tmp_path / "scanned.yaml"
    code, log = run_to_file(tmp_path, "scan", str(site / "_site"), "-m", str(manifest), "-j", "1")
    assert code == 0, log
    assert phase_lines(log) == [("walk", None), ("scan", PAGES + 3), ("manifest", None)], log


def test_a_scan_counts_html_files_and_only_pages_are_pages(tmp_path: Path) -> None:
    # A theme's macro file is an .html file the scan reads, and no page (scan/page_kind.py):
    # the scan phase counts the files it read, the summary the pages among them.
    folder = tmp_path / "html"
    (folder / "_static").mkdir(parents=True)
    (folder / "index.html").write_text('<!doctype html><link rel="stylesheet" href="/a.css">')
    (folder / "a.css").write_text("body { color: black }\n")
    (folder / "_static" / "macros.html").write_text(
        "{% macro x() %}<div>{{ y }}</div>{% endmacro %}\n"
    )
    manifest = tmp_path / "push-manifest.yaml"
    code, log = run_to_file(tmp_path, "scan", str(folder), "-m", str(manifest), "-j", "1")
    assert code == 0, log
    assert re.search(r"^scan: 2 \.html files in \d", log, re.MULTILINE), log
    assert phase_lines(log) == [("walk", None), ("scan", 2), ("manifest", None)], log
    assert ": 1 page, 1 asset, 1 route" in problem_lines(log)[-1]


def test_plain_progress_names_the_unit_of_a_phase() -> None:
    lines: list[str] = []
    plain = PlainProgress(lines.append, clock=lambda: 0.0)
    plain.start("scan", 1, ".html file")
    plain.end("scan")
    plain.start("scan", 3, ".html file")
    plain.end("scan")
    assert lines == ["scan: 1 .html file in 0.00s", "scan: 3 .html files in 0.00s"]


def test_an_app_build_says_its_phases(tmp_path: Path) -> None:
    copy = tmp_path / "quart_app"
    example = REPO / "examples" / "quart_app"
    shutil.copytree(example, copy, ignore=shutil.ignore_patterns("__pycache__", "push-manifest*"))
    # In a process of its own: the example's `app` module must not stay imported here.
    code, log = run_to_file(tmp_path, "build", cwd=copy)
    assert code == 0, log
    assert phase_lines(log) == [
        ("load", None),
        ("render", 6),
        ("resolve", 6),
        ("manifest", None),
    ]


def test_a_terminal_shows_bars_with_the_phase_and_its_pages(site: Path) -> None:
    code, screen = run_on_terminal("build", str(site))
    assert code == 0, screen
    assert "━" in screen  # rich's bar
    assert re.search(r"render\s.*━.*\s123/123\s", screen), screen
    assert re.search(r"resolve\s.*━.*\s123/123\s", screen), screen
    assert "built " in screen
    assert _COLOUR.search(screen), "colour on a terminal"
    # The bars are gone once the build ends: the summary is the last thing on screen.
    assert screen.rstrip().splitlines()[-1].split("\r")[-1].startswith("built ")


def test_no_color_on_a_terminal_draws_the_bars_without_colour(site: Path) -> None:
    code, screen = run_on_terminal("build", str(site), NO_COLOR="1")
    assert code == 0, screen
    assert "━" in screen and "123/123" in screen
    assert not _COLOUR.search(screen), screen


def test_verbose_on_a_terminal_keeps_a_line_per_phase(site: Path) -> None:
    code, screen = run_on_terminal("build", str(site), "-v", NO_COLOR="1")
    assert code == 0, screen
    # Each printed above the bars: after the erased bar line, ending the line.
    said = re.finditer("\x1b\\[2K(" + PHASE_LINE.pattern + ")\r\n", screen)
    assert [match.group("phase") for match in said] == BUILD_PHASES, screen


def test_quiet_prints_nothing_on_success(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(site), "-q"]) == 0
    assert main(["build", str(site), "--quiet", "--full"]) == 0
    assert main(["check", str(site / "push-manifest.yaml"), "-q"]) == 0
    assert main(["scan", str(site / "_site"), "-m", str(site / "s.yaml"), "-q"]) == 0
    assert capsys.readouterr() == ("", "")


def test_quiet_still_prints_problems(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "static" / "css" / "docs.css").write_text('@import "gone.css";\n')
    assert main(["build", str(site), "-q"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [line for line in err.splitlines() if ": warning: " in line]
    assert "gone.css" in err


def test_a_rebuild_that_changed_nothing_says_so(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(site)]) == 0
    assert "nothing changed" not in capsys.readouterr().err
    assert main(["build", str(site)]) == 0
    err = capsys.readouterr().err
    assert "nothing changed since the last build: 123 pages" in err
    assert ("render", 0) in phase_lines(err)
    # A page edited: rendered again, and said so.
    (site / "pages" / "about.html").write_text(
        '{% extends "base.html" %}{% block body %}<p>About us</p>{% endblock %}\n'
    )
    assert main(["build", str(site)]) == 0
    err = capsys.readouterr().err
    assert "nothing changed" not in err and ("render", 1) in phase_lines(err)
    # A stylesheet edited: no page rendered, but the manifest changes.
    (site / "static" / "css" / "docs.css").write_text('@import "more.css";\n')
    (site / "static" / "css" / "more.css").write_text("p { margin: 0 }\n")
    assert main(["build", str(site)]) == 0
    err = capsys.readouterr().err
    assert "nothing changed" not in err and ("render", 0) in phase_lines(err)


def test_a_failed_phase_has_no_line_only_its_error(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "pages" / "broken.html").write_text("{% extends 'base.html' %}{% block body %}{% if %}")
    assert main(["build", str(site)]) == 1
    err = capsys.readouterr().err
    names = [name for name, _ in phase_lines(err)]
    assert "render" not in names and "resolve" not in names and "save" not in names
    assert names == BUILD_PHASES[: len(names)]
    assert problem_lines(err)[-1].startswith("build failed: ")


def test_plain_progress_says_how_far_a_long_phase_got() -> None:
    # A CI log must not go quiet for minutes: a line every 10 s of a counted phase.
    now = [0.0]
    lines: list[str] = []
    plain = PlainProgress(lines.append, clock=lambda: now[0])
    plain.start("render", 5000)
    for done in range(0, 5001, 500):
        plain.advance("render", done)
        now[0] += 4.0
    plain.end("render")
    plain.start("swap")
    plain.end("swap")
    plain.end("swap")  # twice: once said
    plain.start("save")
    plain.close()  # save never ended (it failed): no line
    assert lines == [
        "render: 1500/5000 pages ...",
        "render: 3000/5000 pages ...",
        "render: 4500/5000 pages ...",
        "render: 5000 pages in 44.00s",
        "swap: done in 0.00s",
    ]


def test_the_engine_default_observer_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    with phase(NO_PROGRESS, "render", 3):
        NO_PROGRESS.advance("render", 1)
    assert capsys.readouterr() == ("", "")
