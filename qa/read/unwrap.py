"""How stored text is shown: wrapped lines joined again, and Markdown without its inline markup.

The stored text keeps every line break a file had (a PDF's wrapped lines, a soft hyphen at
a line end), so that offsets point into it exactly; what a person reads joins them.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from .files import MARKDOWN_SUFFIXES, NOTEBOOK_SUFFIXES
from .shown import shown_chars

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


def shown_characters(text: str, path: str) -> list[str]:
    """What a reader sees of each character of ``text`` from the file at ``path``: for Markdown (and a notebook, held
    as the Markdown its cells make), "" for inline markup (``read.shown.shown_chars``); for any other file, the
    character itself. One entry per character, so that text cut at any offsets reads as the document does."""
    markdown = PurePath(path).suffix.lower() in MARKDOWN_SUFFIXES | NOTEBOOK_SUFFIXES
    return shown_chars(text) if markdown else list(text)
