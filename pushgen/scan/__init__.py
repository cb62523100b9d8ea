"""The pure scanners: bytes and the URL they came from in, a result dataclass out.

``decode`` turns bytes into text (BOM, ``<meta charset>``, ``@charset``); ``html``,
``css`` and ``js`` find what a page, a stylesheet and an ES module make the browser
fetch (:class:`pushgen.model.ScanResult`: references and located diagnostics). None
of them touches the file system or the network; following references from file to
file is the build's (``pushgen.build.graph``).
"""
