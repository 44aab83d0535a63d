"""Untrusted text is data: how a string from a manifest, the account, a server or a program
is made safe to show.

Such a string may hold terminal escapes (ESC, the one-byte CSI U+009B), a carriage return
that makes the line overwrite itself, a newline that fakes a line of our own, or bidi
controls that reverse what follows. `printable` shows each of those as a visible escape
(`\\x1b`, `\\r`, `\\u202e`) and leaves every other character alone; the renderers and
sentence builders call it where they put such a string in front of a reader (the Markdown
plan adds its own escaping on top, `render_markdown.py`). Ordinary text costs one regex
search that finds nothing.
"""

from __future__ import annotations

import logging
import re

# C0 controls, DEL, C1 controls (U+0080-U+009F; U+009B is a CSI on some terminals), the
# zero-width and directional marks, line and paragraph separators, the bidi embeddings,
# overrides and isolates, and the byte-order mark.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_UNSAFE_BUT_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` on one line with every control and invisible formatting character escaped."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """As `printable`, but newlines kept: for messages we compose of several lines, whose
    untrusted parts were made one line each where they were put in."""
    if _UNSAFE_BUT_NEWLINE.search(text) is None:
        return text
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)


class UntrustedFormatter(logging.Formatter):
    """Log lines stay one line each: whatever a record's arguments hold (paths, names, an
    API's message), control characters are escaped in the formatted line."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))
