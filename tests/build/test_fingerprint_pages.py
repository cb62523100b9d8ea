"""``fingerprint: true`` in pages: hand-written references renamed in place (build/fingerprint_pages.py)."""

from __future__ import annotations

from pushgen.build.fingerprint_pages import PageRewriter
from pushgen.urls import document_url

NAMES = {
    "static/css/docs.css": "static/css/docs.1a2b3c4d.css",
    "static/img/a.png": "static/img/a.9f8e7d6c.png",
    "static/img/a@2x.png": "static/img/a@2x.11aa22bb.png",
    "static/img/b c.png": "static/img/b c.abcdef12.png",
    "static/js/m.js": "static/js/m.5e5e5e5e.js",
}
REWRITER = PageRewriter(NAMES, {*NAMES, *NAMES.values()}, "/")
URL = document_url("/docs/install.html")


def _rewrite(page: str) -> str:
    done = REWRITER.rewrite(page.encode(), URL, "docs/install.html")
    assert done.diagnostics == ()
    return done.data.decode()


def _plain(page: str) -> str:
    """``page`` with every hashed file name put back to the plain one."""
    for rel, hashed in NAMES.items():
        page = page.replace(hashed.rsplit("/", 1)[1], rel.rsplit("/", 1)[1])
    return page.replace("b%20c.abcdef12.png", "b%20c.png")


def test_a_relative_link_keeps_its_folder_query_and_fragment() -> None:
    page = '<!doctype html>\n<link rel="stylesheet" href="../static/css/docs.css?v=1#top">\n'
    assert _rewrite(page) == page.replace("docs.css", "docs.1a2b3c4d.css")


def test_srcset_candidates_and_src_are_each_renamed() -> None:
    page = (
        "<img src=../static/img/a.png alt=x\n"
        '     srcset="../static/img/a.png 1x,\n ../static/img/a@2x.png 2x">'
    )
    assert _rewrite(page) == (
        "<img src=../static/img/a.9f8e7d6c.png alt=x\n"
        '     srcset="../static/img/a.9f8e7d6c.png 1x,\n ../static/img/a@2x.11aa22bb.png 2x">'
    )


def test_style_attributes_style_blocks_and_inline_module_imports() -> None:
    page = (
        "<style>\n body { background: url( '/static/img/a.png' ) }\n</style>\n"
        '<script type="module">\nimport x from "/static/js/m.js";\n</script>\n'
        '<div style="background: url(&quot;/static/img/b%20c.png&quot;)">a.png</div>\n'
    )
    assert _rewrite(page) == (
        "<style>\n body { background: url( '/static/img/a.9f8e7d6c.png' ) }\n</style>\n"
        '<script type="module">\nimport x from "/static/js/m.5e5e5e5e.js";\n</script>\n'
        '<div style="background: url(&quot;/static/img/b%20c.abcdef12.png&quot;)">a.png</div>\n'
    )


def test_what_the_scanner_does_not_fetch_is_left_as_written() -> None:
    page = (
        '<img src="../static/img/a.png">\n'
        '<img src="https://cdn.example/static/img/a.png">\n'  # another origin
        '<img src="../static/img/missing.png">\n'  # no such file: the build reports it
        '<a href="../static/img/a.png">a.png</a>\n'  # a link is no fetch
        '<link rel="alternate stylesheet" href="../static/css/docs.css">\n'
        '<script>const s = "/static/js/m.js";</script>\n'
    )
    assert _rewrite(page) == page.replace(
        '<img src="../static/img/a.png">', '<img src="../static/img/a.9f8e7d6c.png">', 1
    )


def test_every_byte_outside_the_renamed_names_is_kept() -> None:
    page = (
        "\ufeff<!DOCTYPE html>\r\n<HTML><Head>\r\n"
        "<LINK REL=stylesheet HREF = '../static/css/docs.css' data-x=\"a &amp; b\">\r\n"
        "<!-- <img src=../static/img/a.png> -->\r\n</Head><body>\r\n"
        "<img alt='é' srcset=' ../static/img/a.png  1x ,../static/img/a@2x.png 2x '"
        " src=../static/img/a.png?x=1&amp;y=2>\r\n</body></HTML>"
    )
    done = _rewrite(page)
    assert done != page and _plain(done) == page
    assert "docs.1a2b3c4d.css" in done and "a@2x.11aa22bb.png" in done
    assert "<!-- <img src=../static/img/a.png> -->" in done  # a comment fetches nothing


def test_the_first_base_href_is_what_relative_links_resolve_against() -> None:
    page = '<base href="/static/">\n<link rel=stylesheet href="css/docs.css">\n'
    assert _rewrite(page) == page.replace("docs.css", "docs.1a2b3c4d.css")


def test_a_page_naming_no_renamed_file_is_not_read() -> None:
    page = b"<p>\xff not UTF-8, and no static file named</p>"
    assert REWRITER.rewrite(page, URL, "x.html").data == page


def test_a_page_that_is_not_utf8_keeps_its_names_and_says_so() -> None:
    page = '<meta charset="latin1"><p>caf\xe9</p><img src="../static/img/a.png">'.encode("latin-1")
    done = REWRITER.rewrite(page, URL, "docs/install.html")
    assert done.data == page
    assert [(d.file, d.severity) for d in done.diagnostics] == [("docs/install.html", "warning")]
    assert "not UTF-8" in done.diagnostics[0].message


def test_a_name_spelled_with_character_references_is_left_as_written() -> None:
    page = '<img src="../static/img/a&#46;png">\n<img src="../static/img/a.png">\n'
    # The first names a.png too (the browser reads "a.png"), but where its name is in the
    # raw text is not plain: only the second is renamed.
    assert _rewrite(page) == page.replace('a.png"', 'a.9f8e7d6c.png"')
