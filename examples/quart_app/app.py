"""An example Quart app whose push manifest `pushgen build --app app:app` writes.

- ``/`` and ``/about`` (rules without arguments: rendered as they are);
- ``/blog/<slug>`` (a rule with arguments: its URLs come from the generator
  registered with ``pushgen.quart.url_generator`` and from links in pages);
- the ``docs`` blueprint with its own static folder, served at ``/docs/static/``;
- a view that awaits (a stand-in for a database).

Run ``pushgen build --app app:app`` here, then
``hypercorn app:app --certfile ... --keyfile ...`` (README.md).
"""

from __future__ import annotations

import asyncio

from quart import Quart, abort, render_template

import pushgen.quart
from docs import docs

POSTS = {
    "hello": {"title": "Hello", "hero": True},
    "second": {"title": "Second post", "hero": False},
    "linked": {"title": "Only linked from the home page", "hero": False},
    "draft": {"title": "Not linked, not generated: the build never renders it", "hero": False},
}

app = Quart(__name__)
app.register_blueprint(docs)
# Until the first build there is no manifest: serve without hints meanwhile.
pushgen.quart.init_app(app, manifest="push-manifest.yaml", manifest_required=False)


async def load_post(slug: str) -> dict[str, object]:
    await asyncio.sleep(0)  # a database would be awaited here
    post = POSTS.get(slug)
    if post is None:
        abort(404)
    return {"slug": slug, **post}


@app.get("/")
async def index() -> str:
    return await render_template("index.html", posts=POSTS)


@app.get("/about")
async def about() -> str:
    return await render_template("about.html")


@app.get("/blog/<slug>")
async def post(slug: str) -> str:
    return await render_template("post.html", post=await load_post(slug))


@pushgen.quart.url_generator(app, "post")
def post_urls():  # type: ignore[no-untyped-def]
    # Values of the "post" endpoint, or (endpoint, values), or URL paths.
    yield {"slug": "hello"}
    yield ("post", {"slug": "second"})
