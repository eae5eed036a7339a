"""Reading Markdown: the stored text is the file exactly; markdown-it-py tells its structure.

markdown-it-py (CommonMark, with tables and front matter) gives every block token
the lines it covers. From them come the blocks: headings (their text, without
the ``#`` marks), paragraphs and list items (from their first word, after the
``*``, ``1.`` or ``>`` marker), table rows, code fences and indented code (the
code inside the fences), and front matter or HTML comments (metadata, not
indexed). A raw-HTML heading (``<h3 name="release">When is the next release?</h3>``, as FAQs write them) is a
heading like ``###``: it names its section, it is never quoted. A list item that is only links to the
document's own anchors is a table of contents: metadata, never quoted as an answer.
Link reference definitions are not blocks, so they are never indexed.
What of the text a reader of the rendered document sees is ``qa.read.shown``'s.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from ..types import Block
from .blocks import Written

_HTML_HEADING = re.compile(r"\s*<h([1-6])\b[^>]*>\s*(.*?)\s*</h\1\s*>\s*", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


# a line underlined with "===" or "---": how plain-text specs, notes and release notes write their headings
_UNDERLINED = re.compile(r"^ {0,3}\S.*\n {0,3}(?:={3,}|-{3,})[ \t]*$", re.MULTILINE)


def read_plain(text: str) -> Written:
    """A plain-text file as it is; one that underlines its headings ("Concepts" over "--------") is structured as
    Markdown would read it (its headings, paragraphs and list items), its text still shown as written."""
    return read_markdown(text) if _UNDERLINED.search(text) else Written(text, ())


def markdown_parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark").enable("table").use(front_matter_plugin)


def read_markdown(text: str) -> Written:
    """Blocks of a Markdown document whose text is ``text`` unchanged."""
    parser = markdown_parser()
    tokens = parser.parse(text)
    lines = line_starts(text)
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
        elif (found := heading_at(text, lines, tokens, i)) is not None:
            level, heading, span = found
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading))
            title = title or (heading if level == 1 else "")
            blocks.append(Block(*span, "heading", _section(path)))
        elif token.type == "paragraph_open":
            span = _inline_span(text, lines, token.map, tokens[i + 1].content)
            kind = ("meta" if contents_entry(tokens[i + 1]) else "item") if kinds else "text"
            blocks.append(Block(*span, kind, _section(path)))
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


def heading_at(text: str, lines: list[int], tokens, i: int) -> tuple[int, str, tuple[int, int]] | None:
    """The level, words and place in ``text`` of the heading that token ``i`` opens: a ``#`` heading, or an HTML block
    that is one heading element (``<h3 name="release">When is the next release?</h3>``, tags inside it dropped)."""
    token = tokens[i]
    if token.type == "heading_open":  # markdown-it's heading tags are h1 to h6
        return int(token.tag[1:]), plain(tokens[i + 1]), _inline_span(text, lines, token.map, tokens[i + 1].content)
    match = _HTML_HEADING.fullmatch(token.content) if token.type == "html_block" else None
    if match is None:
        return None
    start = line_offset(text, lines, token.map[0]) + match.start(2)
    return int(match.group(1)), " ".join(_TAG.sub(" ", match.group(2)).split()), (start, start + len(match.group(2)))


def contents_entry(inline) -> bool:
    """A list item that only links to this document's own anchors ("* [When is the next release?](#release)")."""
    children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip(" ,;|-"))]
    links = [c for c in children if c.type == "link_open"]
    inside = 0
    for child in children:
        inside += child.type == "link_open"
        if child.type not in ("link_open", "link_close") and not inside:
            return False  # words outside a link
        inside -= child.type == "link_close"
    return bool(links) and all(str(c.attrs.get("href", "")).startswith("#") for c in links)


def plain(inline) -> str:
    """The text a reader sees in an inline token: words and code, no markup."""
    parts = [child.content if child.type in ("text", "code_inline") else " " if "break" in child.type else ""
             for child in inline.children or []]
    return " ".join("".join(parts).split())


def _section(path: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(heading for _, heading in path)


def line_starts(text: str) -> list[int]:
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    return starts


def line_offset(text: str, lines: list[int], line: int) -> int:
    return lines[line] if line < len(lines) else len(text)


def _lines_span(text: str, lines: list[int], first: int, last: int) -> tuple[int, int]:
    """Lines ``first`` to ``last`` (exclusive), without the whitespace around them."""
    start, end = line_offset(text, lines, first), line_offset(text, lines, last)
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
    start = line_offset(text, lines, line)
    stop = lines[bisect_right(lines, start)] if bisect_right(lines, start) < len(lines) else len(text)
    return text[start:stop].strip().startswith(fence)
