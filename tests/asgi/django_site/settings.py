"""Django settings of the test site: templates from tests/asgi/site, no database."""

from tests.asgi import apps

SECRET_KEY = "pushgen-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.asgi.django_site.urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, object] = {}
MIDDLEWARE: list[str] = []
USE_TZ = True
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [str(apps.TEMPLATES)],
    }
]
