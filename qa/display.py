"""How a quote reads on screen: the public helpers the chat app shows citations with.

Offsets always point into the stored text, which keeps every line break and every
Markdown mark a file had; these turn a piece of it into what a reader of the document sees.
"""

from __future__ import annotations

import re

from .read.blocks import cells
from .read.pdfpage import BULLET
from .read.unwrap import display_text, join_lines, shown_characters

__all__ = ["cells", "display_text", "join_lines", "shown_characters", "unwrap"]

_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n\s*)")


def unwrap(text: str) -> str:
    """A piece of a PDF with the lines of each paragraph joined (``join_lines``); a list item keeps its own line."""
    parts = _PARAGRAPH_BREAK.split(text)
    return "".join(part if i % 2 else _join_items(part) for i, part in enumerate(parts))


def _join_items(paragraph: str) -> str:
    items: list[str] = []
    for line in paragraph.split("\n"):
        if items and not BULLET.match(line):
            items[-1] += "\n" + line
        else:
            items.append(line)
    return "\n".join(join_lines(item) for item in items)
