"""``pushgen verify`` end to end: a real server in the process, real headless Chromium.

* site_example (copied, built) verifies: exit 0, every route ok, and verify agrees
  with the suite's own comparison (tests/browser_harness.py's :func:`compare`,
  the same pages loaded from a plain static server with no hints at all);
* a copy whose manifest has a rule removing a needed stylesheet and adding an
  unused font exits 1 naming both: route, path, why;
* a real Sphinx site (Read the Docs theme) verifies through ``--folder``;
* ``--json`` follows the shipped schema (pushgen/verify/schema.json);
* without Playwright or Chromium the message says what to install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from pushgen.cli import main
from pushgen.manifest import load_manifest
from pushgen.verify.result import VerifyResult, schema
from tests.browser_harness import StaticServer, chromium, compare, load_site
from tests.clients import REPO

pytestmark = [pytest.mark.timeout(600)]

RULES = """rules:
  - match: /about.html
    remove: [/static/css/site.css]
    add:
      - {path: /static/fonts/dejavu-sans.woff, as: font, type: font/woff, crossorigin: anonymous}
"""


@pytest.fixture(autouse=True)
def _cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The development certificate in the session's cache, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("verify") / "site"
    shutil.copytree(
        REPO / "site_example",
        site,
        ignore=shutil.ignore_patterns("_site", "push-manifest.yaml", ".*"),
    )
    assert main(["build", str(site)]) == 0
    return site


def _verify(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["verify", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_site_example_verifies_and_agrees_with_the_suites_comparison(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with chromium():
        pass  # skip here, not in the middle, when there is no browser
    code, out, err = _verify([str(site), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, schema())
    manifest = load_manifest(site / "push-manifest.yaml")
    routes = sorted(manifest.routes)
    assert [r["route"] for r in data["routes"]] == routes
    assert data["summary"] == {
        "routes": 6, "misses": 0, "needless": 0, "duplicates": 0, "ok": True
    }  # fmt: skip
    for route in data["routes"]:
        assert route["status"] == 200 and route["protocol"] == "h2", route
        assert route["preload_warnings"] == [], route
        # Every stylesheet and module script of the page came from a preload (103 or Link).
        fetched = {f["path"]: f for f in route["fetched"]}
        assert "/static/css/site.css" in fetched
    assert "verified " in err and ": ok: 6 routes, 0 misses, 0 needless, 0 duplicates" in err
    # The suite's own measure: the pages from a plain static server, nothing hinted.
    with StaticServer(site / "_site") as server, chromium() as browser:
        loads = load_site(browser, server.origin, routes)
    result = VerifyResult.from_json(data)
    for load, verdict in zip(loads, result.routes, strict=True):
        suite = compare(load, manifest)
        assert suite.unlisted == frozenset() and verdict.misses == (), load.route
        assert load.needed, load.route  # the check checked something
        unused = suite.pushed_unused | suite.hinted_unused
        # The suite counts a responsive image's hint by its own path; verify knows the
        # hint preloads the candidate the viewport picks (imagesrcset), and the page used it.
        responsive = {a.path for a in manifest.assets(load.route) if a.imagesrcset}
        assert {n.path for n in verdict.needless} == unused - responsive, load.route
        for asset in manifest.assets(load.route):
            if asset.path in unused & responsive:
                candidates = {c.split()[0] for c in (asset.imagesrcset or "").split(",")}
                assert candidates & load.paths, (load.route, asset.path)


def test_a_rule_that_removes_a_needed_stylesheet_and_adds_an_unused_font_fails(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "site"
    shutil.copytree(site, broken)
    manifest = broken / "push-manifest.yaml"
    text = manifest.read_text()
    assert "rules: []\n" in text
    manifest.write_text(text.replace("rules: []\n", RULES))
    code, out, err = _verify([str(broken), "--routes", "/about*", "--json"], capsys)
    assert code == 1, err
    lines = err.splitlines()
    # The manifest as diagnostics show it: relative to the current folder.
    shown = [re.sub(r"\S*/push-manifest.yaml", "push-manifest.yaml", line) for line in lines]
    assert lines[0].startswith("/about.html (h2): FAILED;"), err
    assert (
        "  miss      style  /static/css/site.css: fetched by the parser (render-blocking), but"
        " removed by rule at push-manifest.yaml:8 (match /about.html)"
    ) in shown, err
    assert (
        "  needless  push   /static/fonts/dejavu-sans.woff: pushed, never fetched by the page;"
        " added by rule at push-manifest.yaml:8 (match /about.html)"
    ) in shown, err
    assert "FAILED: 1 route, 1 miss, 1 needless" in lines[-1]
    data = json.loads(out)
    jsonschema.validate(data, schema())
    (route,) = data["routes"]
    assert route["route"] == "/about.html" and route["ok"] is False
    assert [(m["path"], m["type"]) for m in route["misses"]] == [("/static/css/site.css", "style")]
    assert [(n["path"], n["state"]) for n in route["needless"]] == [
        ("/static/fonts/dejavu-sans.woff", "push")
    ]


def test_a_sphinx_folder_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sphinx", reason="needs sphinx (pip install -e .[test])")
    pytest.importorskip("sphinx_rtd_theme", reason="needs sphinx-rtd-theme")
    from tests.generators.builders import build_sphinx

    folder = build_sphinx(tmp_path)
    manifest = tmp_path / "sphinx.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    capsys.readouterr()
    code, out, err = _verify([str(folder), "--folder", "-m", str(manifest), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, schema())
    assert {"/", "/guide.html", "/reference/api.html", "/search.html"} <= {
        r["route"] for r in data["routes"]
    }
    # The theme's fonts came through: each page fetched some, none was needless.
    assert all(any(f["type"] == "Font" for f in r["fetched"]) for r in data["routes"])


def _run(env: dict[str, str], *code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "\n".join(code)],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120, check=False,
    )  # fmt: skip


def _pushgen(argv: list[str]) -> str:
    return f"from pushgen.cli import main; import sys; sys.exit(main({argv!r}))"


def test_without_chromium_the_message_says_what_to_install(site: Path, tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    env = {
        **os.environ,
        "PATH": str(tmp_path / "nowhere"),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "no-browsers"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    env.pop("PUSHGEN_CHROMIUM", None)
    done = _run(env, _pushgen(["verify", str(site)]))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(
        "error: no Chromium found (not on the PATH, none from Playwright):"
    )
    assert (
        "apt-get install chromium" in done.stderr and "playwright install chromium" in done.stderr
    )
    # A PUSHGEN_CHROMIUM naming nothing is said as such, before any server starts.
    named = str(tmp_path / "chromium")
    done = _run({**env, "PUSHGEN_CHROMIUM": named}, _pushgen(["verify", str(site)]))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: PUSHGEN_CHROMIUM={named}: no executable file there;")


def test_without_playwright_the_message_says_pip_install_the_extra(site: Path) -> None:
    # Importing playwright fails when sys.modules holds None for it (as if not installed).
    done = _run(
        dict(os.environ),
        "import sys; sys.modules['playwright'] = None",
        _pushgen(["verify", str(site)]),
    )
    assert done.returncode == 1
    assert done.stderr == (
        "error: pushgen verify drives Chromium through Playwright, which is not installed:"
        " pip install 'pushgen[verify]'\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--routes", "/nothing/*"],
            "no route to verify matches '/nothing/*' (6 routes in the manifest)",
        ),
        (["--folder"], "--folder needs the manifest: -m MANIFEST (from `pushgen scan`)"),
        (
            ["--folder", "--app", "app:app"],
            "--folder and --app are two different sources: give one",
        ),
        (
            ["--app", "nomodule:app"],
            "--app nomodule:app: error: cannot load the app: ModuleNotFoundError:"
            " No module named 'nomodule'",
        ),
    ],
)
def test_bad_arguments_are_clear_messages(
    site: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = _verify([str(site), *argv], capsys)
    assert code in (1, 2)
    assert message in err and "Traceback" not in err


def test_a_quart_app_verifies_with_its_own_extension(tmp_path: Path, cache_dir: Path) -> None:
    """examples/quart_app through ``--app`` (in a process of its own: it imports the module ``app``)."""
    with chromium():
        pass
    app = tmp_path / "quart_app"
    shutil.copytree(REPO / "examples" / "quart_app", app)
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cache_dir)}
    build = subprocess.run(
        [sys.executable, "-m", "pushgen", "build"],
        cwd=app, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    done = subprocess.run(
        [sys.executable, "-m", "pushgen", "verify", "--app", "app:app", "--json"],
        cwd=app, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    jsonschema.validate(data, schema())
    # Every route a browser can open; the rule route /blog/<slug> is a pattern, not a page.
    assert [r["route"] for r in data["routes"]] == ["/", "/about", "/blog/hello", "/docs/"]
    assert data["manifest"] == "push-manifest.yaml" and data["summary"]["ok"] is True


def test_a_site_not_built_says_to_build_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    shutil.copytree(REPO / "site_example", site, ignore=shutil.ignore_patterns("_site", ".*"))
    code, _out, err = _verify([str(site)], capsys)
    assert code == 1
    assert err == f"error: no built output at {site}/_site; run `pushgen build {site}` first\n"
