"""A Django app served by its own pushgen middleware, its static files by Django's handler.

``application`` is what a Django project's asgi.py makes of pushgen.asgi's docs:
``PushgenMiddleware(get_asgi_application(), ...)``, here around Django's
``ASGIStaticFilesHandler`` (what ``runserver`` serves /static/ with), so that the
pages' assets come from Django too. ``pushgen verify --app asgi:application``
finds the middleware and serves it as it is. Django's handler refuses the ASGI
lifespan protocol, as it does in production.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from pushgen.asgi import PushgenMiddleware
from tests.asgi.apps import STATIC, TEMPLATES


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "index.html", {"title": "Home"})


def post(request: HttpRequest) -> HttpResponse:
    return render(request, "post.html", {"slug": "hello"})


urlpatterns = [path("", home), path("post", post)]

settings.configure(
    SECRET_KEY="pushgen-tests-only",
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.staticfiles"],
    STATIC_URL="/static/",
    STATICFILES_DIRS=[str(STATIC)],
    TEMPLATES=[
        {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [str(TEMPLATES)]}
    ],
)

# The build runs before there is a manifest to serve: none yet is no error.
application = PushgenMiddleware(
    ASGIStaticFilesHandler(get_asgi_application()),
    manifest="push-manifest.yaml",
    manifest_required=False,
    early_hints_delay=0,
)
