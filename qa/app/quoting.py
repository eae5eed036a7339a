"""A quote's text as a reader of its document sees it, in HTML: Markdown without its inline markup, the likely answer
in bold, a table row as a row of cells under its table's header.

Offsets in a ``Citation`` point into the stored text, which keeps every Markdown mark; ``pieces`` cuts what is shown
between any two of them. Every piece of source text is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from html import escape

from .. import Citation
from ..display import cells, shown_characters

Show = Callable[[str], str]  # escapes (and may re-wrap) a shown piece of text
Piece = Callable[[int, int], str]  # what is shown between two offsets of the source
# A Markdown table's delimiter row ("|---|:--:|"): structure between the header and the rows, never shown.
_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def pieces(citation: Citation) -> Piece:
    """The text a reader sees between two offsets in the citation's source: for Markdown, without its inline markup.
    The whole passage is read first and the pieces are cut after, so that markup across a cut cannot break."""
    base, text = (citation.passage_start, citation.passage) if has_passage(citation) else (citation.start, citation.quote)
    shown = shown_characters(text, citation.path or citation.source)
    return lambda start, end: "".join(shown[max(0, start - base) : max(0, end - base)])


def has_passage(citation: Citation) -> bool:
    """Does the citation carry the passage around its quote (one made by hand may not)?"""
    at = citation.start - citation.passage_start
    return at >= 0 and citation.passage[at : at + len(citation.quote)] == citation.quote


def quote_html(citation: Citation, piece: Piece, show: Show) -> str:
    """The quote as a reader sees it (``piece``: ``pieces``), the likely answer inside it in bold; ``show`` escapes."""
    a, b = citation.answer_start, citation.answer_end
    if a is None or b is None:
        return show(piece(citation.start, citation.end))
    return f'{show(piece(citation.start, a))}<strong class="qa-span">{show(piece(a, b))}</strong>{show(piece(b, citation.end))}'


def table_row_html(citation: Citation) -> str:
    """A quoted table row under its header's names, as a table of two rows (the likely answer in bold in its cell)."""
    return f'<table class="qa-table">{_head(citation)}<tbody>{_quoted_row(citation, pieces(citation))}</tbody></table>'


def table_passage_html(citation: Citation, piece: Piece, show: Show) -> str:
    """A quoted table row in its passage: the text around its table as text, the table's rows in the passage as a table
    under its header, the quoted row marked (a passage may start or stop inside the table)."""
    lines, (first, last) = _table_lines(citation)
    rows = []
    for start, end in lines:
        row = citation.passage[start - citation.passage_start : end - citation.passage_start]
        if start <= citation.start <= end:
            rows.append(_quoted_row(citation, piece))
        elif not (_DELIMITER.match(row) or row.strip() == citation.header.strip()):
            rows.append("<tr>" + "".join(f"<td>{escape(piece(start + a, start + b))}</td>" for a, b, _ in cells(row)) + "</tr>")
    before, after = show(piece(citation.passage_start, first)).rstrip("\n"), show(piece(last, citation.passage_end)).lstrip("\n")
    table = f'<table class="qa-table qa-passage-table">{_head(citation)}<tbody>{"".join(rows)}</tbody></table>'
    return "".join((f'<p class="qa-passage">{before}</p>' if before.strip() else "", table,
                    f'<p class="qa-passage">{after}</p>' if after.strip() else ""))


def _head(citation: Citation) -> str:
    shown = "".join(shown_characters(citation.header, citation.path or citation.source))
    return f"<thead><tr>{''.join(f'<th>{escape(name)}</th>' for _, _, name in cells(shown))}</tr></thead>"


def _quoted_row(citation: Citation, piece: Piece) -> str:
    values = "".join(f"<td>{quote_html(_within(citation, citation.start + a, citation.start + b), piece, escape)}</td>"
                     for a, b, _ in cells(citation.quote))
    return f'<tr class="qa-quoted-row">{values}</tr>'


def _within(citation: Citation, start: int, end: int) -> Citation:
    """The citation cut to ``start``..``end`` (a cell), with the part of its likely answer that falls there."""
    a, b = citation.answer_start, citation.answer_end
    if a is None or b is None or max(a, start) >= min(b, end):
        return replace(citation, start=start, end=end, answer_start=None, answer_end=None)
    return replace(citation, start=start, end=end, answer_start=max(a, start), answer_end=min(b, end))


def _table_lines(citation: Citation) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """The lines of the passage around the quoted row that belong to its table (source offsets of each), and where
    that run of lines starts and stops: every neighbouring line with a "|" in it, up to a blank or plain line."""
    text, base = citation.passage, citation.passage_start
    lines, at = [], 0
    for line in text.split("\n"):
        lines.append((base + at, base + at + len(line)))
        at += len(line) + 1
    quoted = next(n for n, (start, end) in enumerate(lines) if start <= citation.start <= end)
    top = bottom = quoted
    while top > 0 and _is_row(text, base, lines[top - 1]):
        top -= 1
    while bottom + 1 < len(lines) and _is_row(text, base, lines[bottom + 1]):
        bottom += 1
    return lines[top : bottom + 1], (lines[top][0], lines[bottom][1])


def _is_row(text: str, base: int, line: tuple[int, int]) -> bool:
    return "|" in text[line[0] - base : line[1] - base]
