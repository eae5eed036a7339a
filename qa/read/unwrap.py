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


# An inline Markdown link or image: [words](target "title") / ![alt](source). A regex, not a Markdown parser, because
# the reader needs each kept character's offset in the stored sentence, which a parser's rendered text does not give.
_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)")


def visible_text(text: str) -> tuple[str, list[int]]:
    """What a person sees of a sentence with Markdown links and images in it: a link's words without its address
    (``[Bulk loading](https://…/example.py)`` -> ``Bulk loading``), an image as nothing; and, for each character
    kept, its offset in ``text`` (so that a span found in the visible text points into the stored one)."""
    kept: list[str] = []
    origin: list[int] = []
    at = 0
    for link in _LINK.finditer(text):
        kept.append(text[at : link.start()])
        origin.extend(range(at, link.start()))
        if not link.group(1):  # a link keeps its words; an image shows none
            kept.append(link.group(2))
            origin.extend(range(link.start(2), link.end(2)))
        at = link.end()
    kept.append(text[at:])
    origin.extend(range(at, len(text)))
    return "".join(kept), origin
