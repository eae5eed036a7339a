"""Writing a document's text block by block, with the heading path each block sits under.

The readers of structured formats (HTML, Word, EPUB, PDF) walk their source and
call ``heading`` and ``add``; ``TextBuilder.result`` gives the text to store and its
blocks, whose offsets point into that text. Blocks are joined by a blank line,
except consecutive list items or table rows, which are joined by one line break.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..types import Block

_SPACES = re.compile(r"\s+")
_TIGHT = {"item", "table"}  # consecutive blocks of these kinds sit on consecutive lines


# Superscript and subscript text as a page or Word shows it, where Unicode has the raised or lowered characters:
# "2<sup>7</sup>" would otherwise read "27", "H<sub>2</sub>O" "H2O", a footnote mark "blasts1"; "4<sup>th</sup>" stays "4th"
_SCRIPTS = {
    "sup": str.maketrans("0123456789+-\u2212=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱ"),
    "sub": str.maketrans("0123456789+-\u2212=()", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎"),
}


def scripted(text: str, kind: str) -> str:
    """``text`` raised (``kind`` "sup") or lowered ("sub") when every character of it has a Unicode form that is."""
    shown = text.translate(_SCRIPTS[kind])
    return shown if text and all(a != b for a, b in zip(text, shown, strict=True)) else text


def squeeze(text: str) -> str:
    """Inline text as a person reads it: runs of whitespace (line breaks too) become one space."""
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class Written:
    """What a reader of a structured format gives back."""

    text: str
    blocks: tuple[Block, ...]
    title: str = ""
    page_starts: tuple[int, ...] = ()


@dataclass
class TextBuilder:
    parts: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    path: list[tuple[int, str]] = field(default_factory=list)  # (level, heading text), outermost first
    length: int = 0
    title: str = ""

    @property
    def section(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.path)

    def heading(self, level: int, text: str, kind: str = "heading") -> None:
        """A heading of ``level`` (1 = top): it closes every open section at its level or deeper. A definition list's
        term (``kind`` "term": "--noblanks", "staff") heads its definitions so, but is never the document's title."""
        text = squeeze(text)
        if not text:
            return
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        self.path.append((level, text))
        if kind == "heading":
            self.title = self.title or text
        self.add(kind, text)

    def add(self, kind: str, text: str) -> None:
        """Append a block (its text as given; callers squeeze inline text themselves)."""
        text = text.strip("\n").rstrip()
        if not text.strip():
            return
        if self.parts:
            tight = kind in _TIGHT and self.blocks and self.blocks[-1].kind == kind
            self.write("\n" if tight else "\n\n")
        start = self.length
        self.write(text)
        self.blocks.append(Block(start, self.length, kind, self.section))

    def write(self, text: str) -> None:
        """Text that belongs to no block (a page separator, say)."""
        self.parts.append(text)
        self.length += len(text)

    def mark(self) -> tuple[int, int, int, list[tuple[int, str]], str]:
        """Where the builder stands, for ``undo``."""
        return len(self.parts), len(self.blocks), self.length, list(self.path), self.title

    def undo(self, mark: tuple[int, int, int, list[tuple[int, str]], str]) -> None:
        """Forget what was added since ``mark`` (a page that is read again another way)."""
        parts, blocks, self.length, self.path, self.title = mark
        del self.parts[parts:], self.blocks[blocks:]

    def result(self, title: str = "", page_starts: tuple[int, ...] = ()) -> Written:
        return Written("".join(self.parts), tuple(self.blocks), title or self.title, page_starts)


def cells(row: str) -> list[tuple[int, int, str]]:
    """A table row's non-empty cells: (start, end, text) without the spaces around them."""
    found = []
    for cell in re.finditer(r"[^|]+", row):
        value = cell.group().strip()
        if value:
            start = cell.start() + len(cell.group()) - len(cell.group().lstrip())
            found.append((start, start + len(value), value))
    return found
