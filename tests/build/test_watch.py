"""`--watch`: a change to a source is rebuilt; the build's own products are not sources."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from pushgen.build import BuildResult, build_site
from pushgen.build.watch import watch_and_build
from pushgen.config import load_config
from pushgen.errors import PushgenError
from tests.sites import SMALL_SITE, write_site


def test_a_source_change_is_rebuilt_and_a_broken_one_keeps_watching(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", SMALL_SITE)
    config = load_config(site)
    build_site(config, jobs=1)
    outcomes: queue.Queue[BuildResult | PushgenError] = queue.Queue()
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_and_build,
        args=(config,),
        kwargs={"report": outcomes.put, "stop": stop, "jobs": 1},
    )
    watcher.start()
    try:
        # Give the watcher a moment to start watching before changing anything.
        threading.Event().wait(0.5)
        (site / "pages" / "about.html").write_text(
            '{% extends "base.html" %}{% block body %}v2{% endblock %}'
        )
        first = outcomes.get(timeout=20)
        assert isinstance(first, BuildResult) and first.rendered == 1
        assert "v2" in (site / "_site" / "about.html").read_text()

        (site / "pages" / "about.html").write_text("{% if %}")
        second = outcomes.get(timeout=20)
        assert isinstance(second, PushgenError)
        assert "v2" in (site / "_site" / "about.html").read_text()  # previous output kept

        (site / "pages" / "about.html").write_text("v3")
        third = outcomes.get(timeout=20)
        assert isinstance(third, BuildResult)
        assert (site / "_site" / "about.html").read_text() == "v3"
        # Its own writes (output, manifest, state) did not trigger further builds.
        threading.Event().wait(1.0)
        assert outcomes.empty()
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()
