"""Small sites written into a temporary folder for build tests."""

from __future__ import annotations

from pathlib import Path


def write_site(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> content) under ``root``; return ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


BASE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
<link rel="stylesheet" media="print" href="{{ url_for('static', filename='css/print.css') }}">
{% block head %}{% endblock %}
</head><body>
{% include "partials/nav.html" %}
{% block body %}{% endblock %}
<script type="module" src="{{ url_for('static', filename='js/app.js') }}"></script>
<script defer src="{{ url_for('static', filename='js/classic.js') }}"></script>
</body></html>
"""

SMALL_SITE: dict[str, str | bytes] = {
    "pushgen.yaml": "context:\n  title: Small\n",
    "templates/base.html": BASE,
    "templates/partials/nav.html": "<nav><a href=\"{{ url_for('index') }}\">Home</a> "
    "<a href=\"{{ url_for('docs.index') }}\">Docs</a></nav>\n",
    "pages/index.html": '{% extends "base.html" %}{% block body %}<h1>Home</h1>'
    "<img src=\"{{ url_for('static', filename='img/hero.png') }}\" "
    'srcset="/static/img/hero.png 1x, /static/img/hero@2x.png 2x">{% endblock %}\n',
    "pages/about.html": '{% extends "base.html" %}{% block body %}<p>About</p>{% endblock %}\n',
    "pages/docs/index.html": '{% extends "base.html" %}{% block head %}'
    '<link rel="stylesheet" href="../static/css/docs.css">{% endblock %}'
    "{% block body %}<p>Docs</p>{% endblock %}\n",
    "static/css/site.css": '@import "base.css";\nbody { color: black }\n',
    "static/css/base.css": '@font-face { font-family: F; src: url("../fonts/f.woff2") format("woff2"), '
    'url("../fonts/f.woff") format("woff"); }\nhtml { background: url(../img/bg.png) }\n'
    "body { font-family: F, sans-serif }\n",
    "static/css/print.css": "body { color: black }\n",
    "static/css/docs.css": "pre { font-family: monospace }\n",
    "static/fonts/f.woff2": b"wOF2 fake font",
    "static/fonts/f.woff": b"wOFF fake font",
    "static/img/hero.png": b"\x89PNG hero",
    "static/img/hero@2x.png": b"\x89PNG hero 2x",
    "static/img/bg.png": b"\x89PNG bg",
    "static/js/app.js": 'import { a } from "./lib/a.js";\nimport("./lazy.js");\nconsole.log(a);\n',
    "static/js/lib/a.js": 'export { b as a } from "./b.js";\n',
    "static/js/lib/b.js": "export const b = 1;\n",
    "static/js/lazy.js": "export default 1;\n",
    "static/js/classic.js": "void 0;\n",
}
