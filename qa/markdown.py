"""Reading Markdown: the stored text is the file exactly; markdown-it-py tells its structure.

markdown-it-py (CommonMark, with tables and front matter) gives every block token
the lines it covers. From them come the blocks: headings (their text, without
the ``#`` marks), paragraphs and list items (from their first word, after the
``*``, ``1.`` or ``>`` marker), table rows, code fences and indented code (the
code inside the fences), and front matter or HTML comments (metadata, not
indexed). Link reference definitions are not blocks, so they are never indexed.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from .blocks import Written
from .types import Block

_HEADING_LEVEL = re.compile(r"h([1-6])")


def read_markdown(text: str) -> Written:
    """Blocks of a Markdown document whose text is ``text`` unchanged."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    parser = MarkdownIt("commonmark").enable("table").use(front_matter_plugin)
    tokens = parser.parse(text)
    lines = _line_starts(text)
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    title = ""
    kinds: list[str] = []  # "item" inside a list item, "text" elsewhere
    for i, token in enumerate(tokens):
        if token.type == "list_item_open":
            kinds.append("item")
        elif token.type == "list_item_close":
            kinds.pop()
        elif token.map is None:
            continue
        elif token.type == "heading_open":
            level = int(_HEADING_LEVEL.match(token.tag).group(1))
            heading = plain(tokens[i + 1])
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading))
            title = title or (heading if level == 1 else "")
            span = _inline_span(text, lines, token.map, tokens[i + 1].content)
            blocks.append(Block(*span, "heading", _section(path)))
        elif token.type == "paragraph_open":
            span = _inline_span(text, lines, token.map, tokens[i + 1].content)
            blocks.append(Block(*span, kinds[-1] if kinds else "text", _section(path)))
        elif token.type == "tr_open":
            row = _lines_span(text, lines, token.map[0], token.map[0] + 1)
            blocks.append(Block(*row, "table", _section(path)))
        elif token.type in ("fence", "code_block"):
            first, last = token.map
            if token.type == "fence":
                first, last = first + 1, last - 1 if _closes(text, lines, last - 1, token.markup) else last
            blocks.append(Block(*_lines_span(text, lines, first, last), "code", _section(path)))
        elif token.type in ("html_block", "front_matter"):
            blocks.append(Block(*_lines_span(text, lines, *token.map), "meta", _section(path)))
    return Written(text, tuple(b for b in blocks if b.end > b.start), title)


def plain(inline) -> str:
    """The text a reader sees in an inline token: words and code, no markup."""
    parts = [child.content if child.type in ("text", "code_inline") else " " if "break" in child.type else ""
             for child in inline.children or []]
    return " ".join("".join(parts).split())


def _section(path: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(heading for _, heading in path)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    return starts


def _offset(text: str, lines: list[int], line: int) -> int:
    return lines[line] if line < len(lines) else len(text)


def _lines_span(text: str, lines: list[int], first: int, last: int) -> tuple[int, int]:
    """Lines ``first`` to ``last`` (exclusive), without the whitespace around them."""
    start, end = _offset(text, lines, first), _offset(text, lines, last)
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip("\r\n"))
    return start + lead, start + len(piece.rstrip())


def _inline_span(text: str, lines: list[int], line_map: list[int], content: str) -> tuple[int, int]:
    """From the inline content's first character (after list, quote or heading marks) to its last line's end."""
    start, end = _lines_span(text, lines, *line_map)
    first_line = content.split("\n", 1)[0].strip()
    found = text.find(first_line, start, end) if first_line else -1
    if found >= 0:
        start = found
    last_line = content.rstrip().rsplit("\n", 1)[-1].strip()
    if last_line:
        close = text.rfind(last_line, start, end)
        end = close + len(last_line) if close >= 0 else end  # drops a closing "##" of a heading
    return start, end


def _closes(text: str, lines: list[int], line: int, fence: str) -> bool:
    start = _offset(text, lines, line)
    stop = lines[bisect_right(lines, start)] if bisect_right(lines, start) < len(lines) else len(text)
    return text[start:stop].strip().startswith(fence)
