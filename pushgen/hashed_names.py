"""Whether a file name carries a content hash: such a file's bytes never change under its name.

The runtime sends it ``immutable`` caching (runtime/encodings.py, runtime/factory.py);
``fingerprint: true`` (build/fingerprint.py) leaves a name a bundler already hashed as
it is. One rule for both, on the ground floor so that the build need not import the
runtime for it.
"""

from __future__ import annotations

import os
import re

__all__ = ["fingerprinted"]

# A content hash as bundlers write it, between the name and the extension:
# webpack/Parcel/esbuild hex (`main.4f3a1c9b.css`, `app-5f2e1a.js`, 6 to 64 hex
# digits with at least one digit and one letter, so a date `-20240101` or a word
# `-facade` is not one) and Vite/Rollup base64url of 8 (`index-B2xY3z_a.js`,
# upper and lower case and a digit). A `?v=` query is not part of a file name.
# pushgen's own (`fingerprint: true`, pushgen/build/fingerprint.py) is the first 8 or
# more hex digits of a SHA-256 that hold a digit and a letter: always the first form.
_HEX = re.compile(r"[.-](?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{6,64}\.")
_BASE64 = re.compile(
    r"-(?=[\w-]*[0-9])(?=[\w-]*[a-z])(?=[\w-]*[A-Z])[A-Za-z0-9_-]{8}\.(?:js|mjs|css)$"
)


def fingerprinted(name: str) -> bool:
    """True when the file name ``name`` carries a content hash (see the patterns above)."""
    base = os.path.basename(name)
    return bool(_HEX.search(base) or _BASE64.search(base))
