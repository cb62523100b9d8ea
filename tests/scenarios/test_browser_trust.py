"""Chromium trusts `pushgen serve`'s certificate after `pushgen trust install`, and uses the 103.

Issue 16, item 3: with a certificate Chromium does not trust, it throws away
what a 103 Early Hints preloaded and fetches every hinted asset again. Here
Chromium starts WITHOUT any certificate flag, in a throwaway HOME whose
``~/.pki/nssdb`` got the local CA through ``pushgen trust install --no-system``
(so the real user's stores are never touched), against a real ``pushgen serve``
(HTTP/2 + TLS, a 103 before every page). The page must load with no
certificate error, over h2, and every hinted asset must reach the server once:
the preload the 103 started is the one the page uses.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.manifest import load_manifest
from tests.browser_harness import CHROMIUM, chromium, load_page, pushgen_serve
from tests.clients import REPO, ServerProcess

playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.skipif(shutil.which("certutil") is None, reason="needs certutil (libnss3-tools)"),
]

# Hypercorn's access log: `... "GET /static/css/site.css 2" 200 ...` (2: HTTP/2).
_GET = re.compile(r'"GET (\S+) 2" (\d{3})')


@dataclass
class Trusted:
    home: Path
    env: dict[str, str]
    server: ServerProcess
    hinted: set[str]


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trusted]:
    root = tmp_path_factory.mktemp("trust")
    home = root / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PUSHGEN_CAROOT": str(root / "caroot"),
        "XDG_CACHE_HOME": str(root / "cache"),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_CONFIG_HOME": str(root / "config"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert main(["trust", "install", "--no-system"]) == 0
    assert (home / ".pki" / "nssdb" / "cert9.db").exists()

    site = root / "site"
    shutil.copytree(
        REPO / "site_example",
        site,
        ignore=shutil.ignore_patterns("_site", "push-manifest.yaml", ".*"),
    )
    assert main(["build", str(site)]) == 0
    manifest = load_manifest(site / "push-manifest.yaml")
    hinted = {a.path for a in manifest.assets("/") if a.hint}
    server = pushgen_serve(site, root / "serve.log", env, ("--early-hints-delay", "0"))
    yield Trusted(home, env, server, hinted)
    server.stop()


def _gets(server: ServerProcess, since: int) -> Counter[str]:
    return Counter(path for path, _status in _GET.findall(server.log()[since:]))


def test_the_server_says_browsers_trust_its_certificate(trusted: Trusted) -> None:
    log = trusted.server.log()
    assert "pushgen: browsers trust this certificate (signed by the local CA" in log, log


def test_chromium_trusts_the_certificate_and_uses_the_103_preloads(trusted: Trusted) -> None:
    origin = f"https://localhost:{trusted.server.port}"
    # Chromium reads the NSS database under $HOME; nothing else tells it about the CA.
    env = {**os.environ, **trusted.env}
    with chromium(env=env) as browser:
        # Chromium acts on a 103 only when it sees it before the final response, which
        # a loopback server answering in a millisecond sometimes beats (see
        # test_browser.py): up to five fresh visits to see the hints at work.
        for _attempt in range(5):
            since = len(trusted.server.log())
            load = load_page(browser, origin, "/")
            assert load.status == 200
            assert load.failed == [], load.failed
            if load.via_early_hints:
                break
    early = load.via_early_hints
    assert load.tls.startswith("TLS"), load.tls
    # The 103's preloads were used: the styles and modules came from them ...
    assert early, "Chromium never used a preload from the 103 in five visits"
    assert early <= trusted.hinted
    # ... and no hinted asset was fetched twice (with an untrusted certificate, each is).
    gets = _gets(trusted.server, since)
    assert gets["/"] == 1, gets
    fetched = {path: gets[path] for path in trusted.hinted if gets[path]}
    assert fetched and all(count == 1 for count in fetched.values()), fetched
    assert early <= set(fetched)
