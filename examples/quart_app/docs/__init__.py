"""A blueprint with its own templates and static folder (served at /docs/static/)."""

from __future__ import annotations

from quart import Blueprint, render_template

docs = Blueprint("docs", __name__, url_prefix="/docs", static_folder="static")


@docs.get("/")
async def index() -> str:
    return await render_template("docs/index.html")
