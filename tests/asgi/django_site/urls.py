"""The Django test site's views: a template view at / and one per blog post."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "index.html", {"title": "Home"})


def post(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "post.html", {"slug": slug})


urlpatterns = [path("", home), path("blog/<slug:slug>", post)]
