"""scan/chunks.py: webpack's chunk map and Docusaurus's route table, read from small bundles."""

from __future__ import annotations

import pytest

from pushgen.scan.chunks import ChunkMap, chunk_map, route_table

# As webpack 5 minifies a runtime (Docusaurus 3.10's runtime~main.js, shortened).
RUNTIME = (
    '(()=>{"use strict";var e={};r.p="/docs/",r.u=e=>"assets/js/"+({48:"a94703ab",'
    '401:"17896441","x-1":"named"}[e]||e)+"."+{48:"34cdc97a",237:"53077b45",401:"8f74e9ae",'
    '"x-1":"ffff"}[e]+".js",r.miniCssF=e=>{}})();'
)
# Its main bundle: the route table, each route's chunk names, the registry.
MAIN = (
    'const p=[{path:"/docs/tags",component:f("/docs/tags","t1"),exact:!0},'
    '{path:"/docs",component:f("/docs","b35"),routes:[{path:"/docs/intro",'
    'component:f("/docs/intro","44d"),exact:!0,sidebar:"s{}"},'
    '{path:"/docs/second",component:f("/docs/second","fbe"),exact:!0}]},'
    '{path:"/",component:f("/","2e1"),exact:!0},{path:"*",component:f("*")}];'
    'var c={"/docs/tags-t1":{"__comp":"0a"},"/docs-b35":{"__comp":"5e",'
    '"__context":{"plugin":"ab"}},"/docs/intro-44d":{"__comp":"17896441","content":"0e"},'
    '"/docs/second-fbe":{"__comp":"17896441"},"/-2e1":{"__comp":"c4"}};'
    "var g={17896441:[function(){return Promise.all([n.e(869),n.e(401)]).then(()=>n(9617))},"
    '"@theme/DocItem",9617],"5e":[()=>n.e(48).then(n.bind(n,1)),"x",1],'
    '"0e":[function(){return n.e(237).then(()=>n(2))},"y",2],'
    '"0a":[function(){return n.e("x-1").then(()=>n(3))},"z",3]};'
)


def test_the_chunk_map_names_each_file() -> None:
    found = chunk_map(RUNTIME)
    assert found == ChunkMap(
        "/docs/",
        {
            "48": "assets/js/a94703ab.34cdc97a.js",
            "237": "assets/js/237.53077b45.js",  # no name: its id
            "401": "assets/js/17896441.8f74e9ae.js",
            "x-1": "assets/js/named.ffff.js",
        },
    )
    assert found.url("401") == "/docs/assets/js/17896441.8f74e9ae.js"
    assert found.url("869") is None  # in the main bundle: never fetched


def test_a_function_runtime_without_names() -> None:
    text = 'r.p="/",r.u=function(e){return"js/"+e+"-"+{7:"abc"}[e]+".chunk.js"}'
    assert chunk_map(text) == ChunkMap("/", {"7": "js/7-abc.chunk.js"})


@pytest.mark.parametrize(
    "text",
    ["", "console.log('no runtime')", 'import("./x.js")', RUNTIME.replace(".u=", ".q=")],
)
def test_no_chunk_map(text: str) -> None:
    assert chunk_map(text) is None


@pytest.mark.parametrize(
    ("pathname", "chunks"),
    [
        ("/docs/intro/", ("48", "869", "401", "237")),  # the layout, then the page
        ("/docs/intro", ("48", "869", "401", "237")),
        ("/docs/second/", ("48", "869", "401")),
        ("/docs/tags/", ("x-1",)),  # the first sibling that matches wins: not /docs too
        ("/", ()),  # "c4" has no registry entry (in the main bundle)
        ("/docs/nope/", ("48",)),  # the layout matches, no page under it
        ("/404.html", ()),  # "*": the not-found page, no route chunks
    ],
)
def test_a_route_loads_the_chunks_of_the_routes_it_matches(
    pathname: str, chunks: tuple[str, ...]
) -> None:
    table = route_table(MAIN)
    assert table is not None
    assert table.chunks(pathname) == chunks


def test_the_registry_and_the_chunk_names() -> None:
    table = route_table(MAIN)
    assert table is not None
    assert table.registry["17896441"] == ("869", "401")
    assert table.chunk_names["/docs-b35"] == ("5e", "ab")
    assert [r.key for r in table.routes] == ["/docs/tags-t1", "/docs-b35", "/-2e1", ""]


def test_no_route_table() -> None:
    assert route_table("const p=[1,2,3];") is None
