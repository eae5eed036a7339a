"""How stored text is shown: wrapped lines joined again, for quotes, embedding and BM25.

The stored text keeps every line break a file had (a PDF's wrapped lines, a soft hyphen at
a line end), so that offsets point into it exactly; what a person reads joins them.
"""

from __future__ import annotations

import re

_SOFT_BREAK = re.compile(r"\u00ad[ \t]*\r?\n[ \t]*")
_HYPHEN_BREAK = re.compile(r"(?<=\w-)[ \t]*\r?\n[ \t]*(?=\w)")
_WRAP = re.compile(r"[ \t]*\r?\n[ \t]*")


def display_text(text: str) -> str:
    """A quote as a reader sees it, its wrapped lines joined: a word hyphenated at a line end
    ("iden\u00ad\ntifier", as the PDF reader stores it) is one word again, a hyphen before a line
    break stays ("Dss-\nSig" -> "Dss-Sig"), other line breaks read as spaces. Only for showing,
    embedding and BM25: offsets always point into the stored text."""
    return join_lines(text.strip())


def join_lines(text: str) -> str:
    """``display_text`` without trimming the ends (for pieces of a quote)."""
    return _WRAP.sub(" ", _HYPHEN_BREAK.sub("", _SOFT_BREAK.sub("", text)))
