"""Values written into configuration lines and messages: what cannot be, and escaping."""

from __future__ import annotations

from ..urls import unprintable as unsafe_character

__all__ = ["comment", "unsafe_character"]


def comment(value: str) -> str:
    """``value`` for a comment line: backslashes and unprintable characters escaped.

    A comment ends at a line break (and, in Apache httpd, continues past a
    trailing backslash: https://httpd.apache.org/docs/2.4/configuring.html#syntax),
    so neither may reach it raw; ``\\x5c`` keeps the escapes unambiguous.
    """
    out = []
    for char in value:
        if char == "\\":
            out.append("\\x5c")
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)
