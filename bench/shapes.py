"""Generated sites of different shapes for the build benchmarks.

Each shape is a function ``(root, pages) -> root`` that writes a pushgen site
(pushgen.yaml, pages/, templates/, static/) of about ``pages`` pages' worth of
work. The shapes stress different parts of a build:

* default  - the site build_bench.py always measured: a layout with partials,
             a stylesheet per section, two images a page, a small module graph;
* small    - many small pages: a short layout, a few lines each (fixed costs
             per page dominate);
* large    - few large pages: ``pages // 10`` pages, each about ten default
             pages long (parsing and scanning dominate, hand-offs are few);
* deep     - deep template inheritance: six levels of ``extends``, a dozen
             includes and macros imported from two macro files on every page;
* css      - heavy CSS: every page links three of 60 stylesheets, each the top
             of an @import chain four deep (40 rules a sheet), with 244
             @font-face rules over 48 fonts in all;
* modules  - large module graphs: every page loads two of 40 module entries
             over a graph of 600 modules (static imports, re-exports, a
             dynamic import), about 50 modules a page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Files = dict[str, str | bytes]


def write_files(root: Path, files: Files) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


# --- default ----------------------------------------------------------------------

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} - {{ site_name }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ url_for('static', filename='css/site.css') }}">
<link rel="stylesheet" media="print" href="{{ url_for('static', filename='css/print.css') }}">
<link rel="icon" href="{{ url_for('static', filename='img/icon.svg') }}">
{% block head %}{% endblock %}
</head><body>
{% include "partials/header.html" %}
<main>{% block body %}{% endblock %}</main>
{% include "partials/footer.html" %}
<script type="module" src="{{ url_for('static', filename='js/app.js') }}"></script>
<script defer src="{{ url_for('static', filename='js/stats.js') }}"></script>
</body></html>
"""
HEADER = """<header><nav><ul>
{% for name in ["index", "about", "docs.index"] %}<li><a href="{{ url_for(name) }}">{{ name }}</a></li>
{% endfor %}</ul></nav></header>
"""
FOOTER = """<footer><p>&copy; {{ site_name }}</p>{% for i in range(10) %}<a href="/p/{{ i }}.html">{{ i }}</a> {% endfor %}</footer>
"""
PAGE = """{% extends "base.html" %}
{% block head %}<link rel="stylesheet" href="{{ url_for('static', filename='css/section-N.css') }}">{% endblock %}
{% block body %}
<article><h1>Page N</h1>
{% for para in range(12) %}<p>Paragraph {{ para }} of page N with <a href="/p/{{ para }}.html">a link</a>,
<em>emphasis</em> and <code>code</code>. Lorem ipsum dolor sit amet, consectetur adipiscing elit,
sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>
{% endfor %}
<img src="/static/img/photo-N.png" srcset="/static/img/photo-N.png 1x, /static/img/photo-N@2x.png 2x" alt="">
<table>{% for r in range(8) %}<tr><td>{{ r }}</td><td>{{ r * 2 }}</td><td>{{ r * 3 }}</td></tr>{% endfor %}</table>
</article>
{% endblock %}
"""


def make_site(root: Path, pages: int) -> Path:
    files: dict[str, str | bytes] = {
        "pushgen.yaml": "context:\n  site_name: Bench\n  title: Bench\n",
        "templates/base.html": LAYOUT,
        "templates/partials/header.html": HEADER,
        "templates/partials/footer.html": FOOTER,
        "pages/index.html": PAGE.replace("N", "0").replace("section-0", "section-0"),
        "pages/about.html": PAGE.replace("N", "0"),
        "pages/docs/index.html": PAGE.replace("N", "0"),
        "static/css/site.css": '@import "base.css";\n@import "layout.css" screen;\nbody{margin:0}\n',
        "static/css/base.css": '@font-face{font-family:B;src:url(../fonts/b.woff2) format("woff2"),url(../fonts/b.woff) format("woff")}\n'
        "html{font-family:B}\n",
        "static/css/layout.css": "main{max-width:60em}\nheader{background:url(../img/bg.png)}\n",
        "static/css/print.css": "nav{display:none}\n",
        "static/fonts/b.woff2": b"wOF2" + b"\0" * 2000,
        "static/fonts/b.woff": b"wOFF" + b"\0" * 2000,
        "static/img/icon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
        "static/img/bg.png": b"\x89PNG",
        "static/js/app.js": 'import {a} from "./a.js";\nimport "./b.js";\nconsole.log(a);\n',
        "static/js/a.js": 'export {c as a} from "./c.js";\n',
        "static/js/b.js": "export default 1;\n",
        "static/js/c.js": "export const c = 1;\n",
        "static/js/stats.js": "void 0;\n",
    }
    sections = 20
    for s in range(sections):
        files[f"static/css/section-{s}.css"] = f"h1{{color:#{s:03d}}}\n"
    for i in range(pages - 3):
        files[f"pages/p/{i}.html"] = PAGE.replace("section-N", f"section-{i % sections}").replace(
            "N", str(i)
        )
        files[f"static/img/photo-{i}.png"] = b"\x89PNG"
        files[f"static/img/photo-{i}@2x.png"] = b"\x89PNG"
    files["static/img/photo-0.png"] = b"\x89PNG"
    files["static/img/photo-0@2x.png"] = b"\x89PNG"
    return write_files(root, files)


# --- small: many small pages -------------------------------------------------------

SMALL_LAYOUT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title><link rel="stylesheet" href="/static/site.css"></head>
<body>{% block body %}{% endblock %}</body></html>
"""
SMALL_PAGE = """{% extends "base.html" %}{% block body %}<h1>Note N</h1>
<p>A short note, number N, with <a href="/n/M.html">one link</a>.</p>{% endblock %}
"""


def make_small(root: Path, pages: int) -> Path:
    files: Files = {
        "pushgen.yaml": "context:\n  title: Notes\n",
        "templates/base.html": SMALL_LAYOUT,
        "static/site.css": "body{margin:0}\n",
        "pages/index.html": SMALL_PAGE.replace("N", "0").replace("M", "1"),
    }
    for i in range(pages - 1):
        files[f"pages/n/{i}.html"] = SMALL_PAGE.replace("N", str(i)).replace("M", str(i + 1))
    return write_files(root, files)


# --- large: few large pages --------------------------------------------------------

LARGE_PAGE = """{% extends "base.html" %}
{% block body %}<article><h1>Chapter N</h1>
{% for section in range(40) %}<section id="s{{ section }}"><h2>Section {{ section }}</h2>
{% for para in range(8) %}<p>Paragraph {{ para }} of section {{ section }} in chapter N, with
<a href="/c/{{ para }}.html#s{{ section }}">a reference</a>, <em>emphasis</em>, <code>code</code> and
<img src="/static/img/fig-{{ (section * 8 + para) % 50 }}.png" alt="" width="10" height="10">
lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.</p>
{% endfor %}<table>{% for r in range(6) %}<tr><td>{{ r }}</td><td>{{ r * section }}</td></tr>{% endfor %}</table>
</section>{% endfor %}</article>{% endblock %}
"""


def make_large(root: Path, pages: int) -> Path:
    files: Files = {
        "pushgen.yaml": "context:\n  title: Book\n",
        "templates/base.html": SMALL_LAYOUT.replace("/static/site.css", "/static/book.css"),
        "static/book.css": '@import "fonts.css";\nbody{margin:0}\n',
        "static/fonts.css": "@font-face{font-family:T;src:url(t.woff2) format('woff2')}\n",
        "static/t.woff2": b"wOF2" + b"\0" * 2000,
    }
    for f in range(50):
        files[f"static/img/fig-{f}.png"] = b"\x89PNG"
    for i in range(max(1, pages // 10)):
        files[f"pages/c/{i}.html"] = LARGE_PAGE.replace("N", str(i))
    return write_files(root, files)


# --- deep: inheritance, includes, macros ------------------------------------------

DEEP_LEVELS = 6
DEEP_INCLUDES = 12


def _deep_level(level: int) -> str:
    if level == 0:
        return """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{% block title %}{{ title }}{% endblock %}</title>
{% block styles %}<link rel="stylesheet" href="{{ url_for('static', filename='css/l0.css') }}">{% endblock %}
</head><body>{% block header %}{% endblock %}<main>{% block body %}{% endblock %}</main>
{% block footer %}{% endblock %}{% block scripts %}{% endblock %}</body></html>
"""
    includes = "".join(
        f'{{% include "inc/i{(level * 2 + k) % DEEP_INCLUDES}.html" %}}' for k in range(2)
    )
    return f"""{{% extends "l{level - 1}.html" %}}
{{% import "macros/ui.html" as ui %}}
{{% block styles %}}{{{{ super() }}}}<link rel="stylesheet" href="{{{{ url_for('static', filename='css/l{level}.css') }}}}">{{% endblock %}}
{{% block header %}}{{{{ super() }}}}{includes}{{{{ ui.nav(["a", "b", "c"], {level}) }}}}{{% endblock %}}
{{% block footer %}}{{{{ super() }}}}{{{{ ui.badge("level {level}") }}}}{{% endblock %}}
"""


UI_MACROS = """{% macro nav(items, level) %}<nav data-level="{{ level }}">{% for item in items %}
<a href="/d/{{ loop.index }}.html">{{ item | upper }}</a>{% endfor %}</nav>{% endmacro %}
{% macro badge(text) %}<span class="badge">{{ text | title }}</span>{% endmacro %}
{% macro card(title, body, img) %}<div class="card"><h3>{{ title }}</h3>
<img src="{{ url_for('static', filename=img) }}" alt="">{{ body }}</div>{% endmacro %}
"""
FORM_MACROS = """{% macro field(name, kind="text") %}<label>{{ name | capitalize }}
<input type="{{ kind }}" name="{{ name }}"></label>{% endmacro %}
"""
DEEP_PAGE = """{% extends "lLAST.html" %}
{% import "macros/ui.html" as ui %}{% from "macros/forms.html" import field %}
{% block title %}Deep N{% endblock %}
{% block body %}<h1>Deep page N</h1>
{% for c in range(6) %}{{ ui.card("Card " ~ c, "Body of card " ~ c ~ " on page N.", "img/card-" ~ (c + N) % 20 ~ ".png") }}
{% endfor %}<form>{{ field("name") }}{{ field("email", "email") }}</form>
{% include "inc/i0.html" %}{% endblock %}
{% block scripts %}<script type="module" src="{{ url_for('static', filename='js/deep.js') }}"></script>{% endblock %}
"""


def make_deep(root: Path, pages: int) -> Path:
    files: Files = {
        "pushgen.yaml": "context:\n  title: Deep\n",
        "templates/macros/ui.html": UI_MACROS,
        "templates/macros/forms.html": FORM_MACROS,
        "static/js/deep.js": 'import "./dep.js";\n',
        "static/js/dep.js": "export default 1;\n",
    }
    for level in range(DEEP_LEVELS):
        files[f"templates/l{level}.html"] = _deep_level(level)
        files[f"static/css/l{level}.css"] = f"h{level + 1}{{margin:0}}\n"
    for k in range(DEEP_INCLUDES):
        files[f"templates/inc/i{k}.html"] = (
            f'<aside class="i{k}">Include {k}{{% if title %}}: {{{{ title }}}}{{% endif %}}</aside>\n'
        )
    for c in range(20):
        files[f"static/img/card-{c}.png"] = b"\x89PNG"
    page = DEEP_PAGE.replace("LAST", str(DEEP_LEVELS - 1))
    files["pages/index.html"] = page.replace("N", "0")
    for i in range(pages - 1):
        files[f"pages/d/{i}.html"] = page.replace("N", str(i))
    return write_files(root, files)


# --- css: @import chains and many fonts --------------------------------------------

CSS_SHEETS = 60
CSS_CHAIN = 4
CSS_FONTS = 48
CSS_PAGE = """{% extends "base.html" %}{% block head %}
<link rel="stylesheet" href="/static/css/top-A.css">
<link rel="stylesheet" href="/static/css/top-B.css">
<link rel="stylesheet" href="/static/css/top-C.css">{% endblock %}
{% block body %}<h1>Styled page N</h1>{% for p in range(6) %}<p class="c{{ p }}">Paragraph {{ p }}
of page N, <em>styled</em> by three stylesheets and their imports.</p>{% endfor %}{% endblock %}
"""
CSS_LAYOUT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
{% block head %}{% endblock %}</head><body>{% block body %}{% endblock %}</body></html>
"""


def make_css(root: Path, pages: int) -> Path:
    files: Files = {
        "pushgen.yaml": "context:\n  title: Styled\n",
        "templates/base.html": CSS_LAYOUT,
    }
    for f in range(CSS_FONTS):
        files[f"static/fonts/f{f}.woff2"] = b"wOF2" + b"\0" * 500
        files[f"static/fonts/f{f}.woff"] = b"wOFF" + b"\0" * 500
        files[f"static/img/bg-{f}.png"] = b"\x89PNG"
    for s in range(CSS_SHEETS):
        for depth in range(CSS_CHAIN):
            name = f"top-{s}.css" if depth == 0 else f"chain-{s}-{depth}.css"
            rules = [f'@import "chain-{s}-{depth + 1}.css";'] if depth + 1 < CSS_CHAIN else []
            rules.append('@import "common.css" screen;')
            font = (s * CSS_CHAIN + depth) % CSS_FONTS
            rules.append(
                f"@font-face{{font-family:F{font};src:url(../fonts/f{font}.woff2) format('woff2'),"
                f"url(../fonts/f{font}.woff) format('woff')}}"
            )
            # Many rules, few of them with a url(): what real stylesheets look like.
            rules.extend(
                f".s{s}-{depth}-{r}{{font-family:F{font};margin:{r}px;color:#{r:03x}}}"
                for r in range(40)
            )
            rules.append(f".s{s}-{depth}-bg{{background:url(../img/bg-{s % CSS_FONTS}.png)}}")
            files[f"static/css/{name}"] = "\n".join(rules) + "\n"
    files["static/css/common.css"] = "".join(
        f"@font-face{{font-family:C{f};src:url(../fonts/f{f}.woff2)}}\n" for f in range(4)
    )
    for i in range(pages):
        name = "index.html" if i == 0 else f"s/{i}.html"
        files[f"pages/{name}"] = (
            CSS_PAGE.replace("top-A", f"top-{i % CSS_SHEETS}")
            .replace("top-B", f"top-{(i * 7 + 1) % CSS_SHEETS}")
            .replace("top-C", f"top-{(i * 13 + 2) % CSS_SHEETS}")
            .replace("N", str(i))
        )
    return write_files(root, files)


# --- modules: large module graphs --------------------------------------------------

MODULES = 600
MODULE_ENTRIES = 40
MODULE_PAGE = """{% extends "base.html" %}{% block head %}
<script type="module" src="/static/js/entry-E.js"></script>
<script type="module" src="/static/js/entry-F.js"></script>{% endblock %}
{% block body %}<h1>App page N</h1><div id="app">{% for w in range(8) %}<p>Widget {{ w }} of page N.</p>{% endfor %}</div>{% endblock %}
"""


def make_modules(root: Path, pages: int) -> Path:
    files: Files = {"pushgen.yaml": "context:\n  title: App\n", "templates/base.html": CSS_LAYOUT}
    # A binary tree of modules (k imports 2k+1 and 2k+2, some re-exported): an
    # entry is a node five levels down, whose subtree (16-31 modules) is a route's
    # module graph; pages load two, so about 50 modules each.
    for k in range(MODULES):
        lines = [
            f'import {{ v{t} }} from "./m{t}.js";' for t in (2 * k + 1, 2 * k + 2) if t < MODULES
        ]
        if k % 5 == 0 and 2 * k + 1 < MODULES:
            lines.append(f'export {{ v{2 * k + 1} as r{k} }} from "./m{2 * k + 1}.js";')
        lines.append(f"export const v{k} = {k};")
        files[f"static/js/m{k}.js"] = "\n".join(lines) + "\n"
    for e in range(MODULE_ENTRIES):
        node = 31 + e
        files[f"static/js/entry-{e}.js"] = (
            f'import {{ v{node} }} from "./m{node}.js";\nimport("./m{node - 20}.js");\n'
        )
    for i in range(pages):
        name = "index.html" if i == 0 else f"a/{i}.html"
        files[f"pages/{name}"] = (
            MODULE_PAGE.replace("entry-E", f"entry-{i % MODULE_ENTRIES}")
            .replace("entry-F", f"entry-{(i * 3 + 1) % MODULE_ENTRIES}")
            .replace("N", str(i))
        )
    return write_files(root, files)


SHAPES: dict[str, Callable[[Path, int], Path]] = {
    "default": make_site,
    "small": make_small,
    "large": make_large,
    "deep": make_deep,
    "css": make_css,
    "modules": make_modules,
}
