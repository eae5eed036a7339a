"""Finding the content of a document without changing its text.

Cleaning never edits the text: it returns spans (offsets into the original
text) of the lines worth indexing, grouped into sections. A line is left out when
it is page chrome (a short line that is not a sentence: "Accessibility links",
"Breaking News", "XS") or repeats an earlier line verbatim (photo captions printed
twice). A left-out line also ends a section, so no chunk ever spans it.
"""

from __future__ import annotations

import re

from ..types import Span

_TERMINAL = re.compile(r"""[.!?…]["'”’)\]]*$""")
_SPACES = re.compile(r"\s+")
MIN_DUPLICATE_CHARS = 30


def normalise(text: str) -> str:
    """Whitespace-insensitive form of a line (non-breaking spaces count as spaces)."""
    return _SPACES.sub(" ", text).strip().casefold()


def is_chrome(line: str, min_words: int) -> bool:
    """A short line that is neither a sentence, a sentence's continuation, nor a heading."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or stripped[0].islower():
        return False
    return len(stripped.split()) < min_words and not _TERMINAL.search(stripped)


def content_sections(text: str, min_chrome_words: int) -> list[Span]:
    """Spans of text to index; each one runs over whole lines with nothing left out inside."""
    sections: list[Span] = []
    seen: set[str] = set()
    current: Span | None = None
    offset = 0
    for raw in text.splitlines(keepends=True):
        line_start, offset = offset, offset + len(raw)
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        key = normalise(line)
        repeated = len(key) >= MIN_DUPLICATE_CHARS and key in seen
        if repeated or is_chrome(line, min_chrome_words):
            if current is not None:
                sections.append(current)
                current = None
            continue
        seen.add(key)
        start = line_start + (len(line) - len(line.lstrip()))
        end = line_start + len(line.rstrip())
        current = Span(current.start if current else start, end)
    if current is not None:
        sections.append(current)
    return sections


def document_title(text: str, sections: list[Span], fallback: str) -> str:
    """The first content line when it reads like a headline, else the file name."""
    if sections:
        first = text[sections[0].start : sections[0].end].split("\n", 1)[0].strip().lstrip("\ufeff")
        if len(first) <= 200 and not _TERMINAL.search(first):
            return first.lstrip("# ").strip()
    return re.sub(r"[_\-]+", " ", fallback.rsplit(".", 1)[0]).strip()
