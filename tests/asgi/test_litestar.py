"""pushgen.asgi around a Litestar app (tests/asgi/litestar_app.py) under real Hypercorn.

Over HTTP/2 a manifest route gets its pushes, then the 103, then the page with the
``Link`` field (the ``h2`` library's view, as for Starlette, FastAPI and Django in
test_servers.py); a route the manifest has a rule for (``/blog/<slug>``) too; the
app's own ``Link`` field stays beside pushgen's; a static file and a route outside
the manifest get nothing. Litestar is optional (``pip install litestar``): skipped
without it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pushgen.runtime.certs import DevCertificate
from tests.asgi.apps import APP_LINK, HINTED_PAGES, HOME_LINKS, assert_hinted_page
from tests.clients import ServerProcess, h2_get, start_hypercorn

pytest.importorskip("litestar", reason="needs litestar (pip install litestar)")

SITE_CSS = HOME_LINKS[0]


@pytest.fixture(scope="module")
def hypercorn(
    dev_cert: DevCertificate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("hypercorn-litestar") / "server.log"
    server = start_hypercorn(
        "tests.asgi.litestar_app:app",
        log,
        certfile=dev_cert.certfile,
        keyfile=dev_cert.keyfile,
        timeout=60.0,  # a loaded machine imports Litestar slowly
    )
    yield server
    server.stop()


@pytest.mark.parametrize(("path", "links", "pushed"), HINTED_PAGES)
def test_litestar_under_hypercorn_h2_pushes_then_103_then_the_page_with_link(
    hypercorn: ServerProcess, path: str, links: list[str], pushed: list[str]
) -> None:
    exchange = h2_get("127.0.0.1", hypercorn.port, path)
    assert exchange.status == 200, hypercorn.log()
    assert_hinted_page(exchange, links, pushed)


def test_litestar_keeps_its_own_link_beside_pushgens(hypercorn: ServerProcess) -> None:
    exchange = h2_get("127.0.0.1", hypercorn.port, "/about")
    assert exchange.status == 200, hypercorn.log()
    assert [v for n, v in exchange.headers if n == "link"] == [APP_LINK, SITE_CSS]
    assert list(exchange.pushes) == ["/static/site.css"]


def test_litestar_what_is_not_a_manifest_route_gets_nothing(hypercorn: ServerProcess) -> None:
    for path in ("/static/site.css", "/nowhere"):
        exchange = h2_get("127.0.0.1", hypercorn.port, path)
        assert exchange.status in (200, 404), hypercorn.log()
        assert exchange.informational == [] and exchange.pushes == {}
        assert [v for n, v in exchange.headers if n == "link"] == []
