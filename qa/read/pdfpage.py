"""A PDF page's text lines in reading order, from PDFium's text and the positions of its text runs.

A page in two columns is read column by column, even when the PDF writes its lines row by row. A paper's page
often has a part read across above or below its columns: the title and authors on its first page, a figure or
table as wide as the page with its caption. Those parts are found from the runs that cross the gutter, and read
across, in their place. PDFium gives the positions, so no layout library is added for this: pdfplumber, which
lays pages out with pdfminer.six, read the Texinfo manual 50x slower than PDFium and interleaved its two columns
(bench/results/READING.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SourceError

SOFT_HYPHEN = "\u00ad"
BULLET = re.compile(r"^\s*(?:[•◦▪‣·*–-]|\d{1,3}[.)])\s+")  # "2020. S2ORC: ..." (a reference's year) is no item
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE = re.compile(r"[^\r\n\ufffe]*(?:\ufffe|\r\n|\r|\n)|[^\r\n\ufffe]+$")  # a line break, or a hyphen PDFium broke the line at
FOOTER_LINES = 3  # lines below a paper's columns, at most: a page number, a running footer, a first page's imprint
MAX_ACROSS = 100  # text runs read across above or below the columns, at most: a title page's and a figure's fit
PART_BREAK = ""  # between the part above the columns, the columns and the part below: no paragraph runs on across it
Rect = tuple[float, float, float, float]  # PDFium's text run: left, bottom, right, top, in points from the bottom left


@dataclass(frozen=True)
class Columns:
    """Where a page is in two columns: left of ``gutter`` and right of it, between the heights ``bottom`` and
    ``top``; above ``top`` and below ``bottom`` it is read across."""

    gutter: float
    top: float
    bottom: float


def page_lines(data: bytes) -> tuple[str, list[list[str]], list[bool], list[list[float | None]]]:
    """The PDF's title, each page's text lines (a line-end hyphen made a soft hyphen before the line break), whether
    each page was read in two columns, and where each line starts (``page_text``). A part of a page is read across
    above its columns only in a document that is in columns: a third of its pages at least are, from their top."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise SourceError(f"cannot read the PDF: {error}") from error
    try:
        reads = [page_text(pdf[i]) for i in range(len(pdf))]
        in_columns = sum(whole for _, _, whole in reads) >= sum(bool(read[0]) for read, _, _ in reads) / 3
        chosen = [read if in_columns or plain is None else plain for read, plain, _ in reads]
        return ((pdf.get_metadata_dict().get("Title") or "").strip(), [lines for lines, _, _ in chosen],
                [columns for _, _, columns in chosen], [starts for _, starts, _ in chosen])
    finally:
        pdf.close()


def pages_data(data: bytes) -> list:
    """``page_lines`` as JSON data, for the child process that reads a PDF (qa/read/sandbox.py)."""
    return list(page_lines(data))


Read = tuple[list[str], list[float | None], bool]  # a page's lines, where each starts, whether it is in columns


def page_text(page) -> tuple[Read, Read | None, bool]:
    """A page read: its lines in reading order, where the text of each starts (x in points, after a list item's
    bullet: the item's lines after its first start there too, the paragraph after it further left; None on a page in
    two columns, whose bounded text PDFium gives without character indexes), and whether it is in two columns, a
    ``PART_BREAK`` line after a part read across above the columns and after the columns. Then, where a part is read
    across, the page read without one (None elsewhere); and whether the page is in columns from its top."""
    textpage = page.get_textpage()
    width, height = page.get_size()
    rects = [textpage.get_rect(i) for i in range(textpage.count_rects())]
    columns = find_columns(rects, width, height)
    if columns is None or (columns.top >= height and columns.bottom <= 0):
        return read_columns(textpage, columns, width, height), None, columns is not None
    plain = read_columns(textpage, find_columns(rects, width, height, parts=False), width, height)
    return read_columns(textpage, columns, width, height), plain, columns.top >= height


def read_columns(textpage, columns: Columns | None, width: float, height: float) -> Read:
    """The page's lines as ``columns`` lay it out (``page_text``); in one column where None."""
    if columns is None:
        located = located_lines(textpage.get_text_range())
        return [line for line, _ in located], [round(textpage.get_charbox(at + _marker(line))[0], 1) for line, at in located], False
    x, top, bottom = columns.gutter, columns.top, columns.bottom
    lines: list[str] = []
    for part in [(0, top, width, height), (0, bottom, x, top), (x, bottom, width, top), (0, 0, width, bottom)]:
        found = text_lines(textpage.get_text_bounded(*part)) if part[1] < part[3] else []
        if found and lines and part[0] == 0:  # the right column goes on with the left one's sentence
            lines.append(PART_BREAK)
        lines += found
    return lines, [None] * len(lines), True


def find_columns(rects: Sequence[Rect], width: float, height: float, parts: bool = True) -> Columns | None:
    """The gutter: an x in the page's middle third that at most 5% of the text runs between ``top`` and ``bottom``
    cross, with a quarter of those runs on each side and at least 40% of the page's runs between them. Above ``top``
    and below ``bottom`` are the runs that cross it, and no more than two runs as wide as a column's line (the
    title's, a figure's and its caption's runs are short or cross). Of the gutters found, the one fewest runs cross
    between ``top`` and ``bottom``, then the one that leaves fewest above and below, nearest the middle. None for a
    page in one column. Without ``parts``: the whole page in columns, or None."""
    if len(rects) < 4:
        return None
    box = np.array(rects, dtype=float).reshape(-1, 4)
    middle = (box[:, 1] + box[:, 3]) / 2
    best: tuple[tuple[float, float, float], Columns] | None = None
    for step in range(21):
        x = width * (1 / 3 + step / 60)
        crossing = (box[:, 0] < x) & (x < box[:, 2])
        across = box[crossing][np.argsort(-box[crossing][:, 3])]  # crossing runs, the highest first
        # above the columns: the k highest crossing runs; below them: the j lowest (at most MAX_ACROSS each way, so
        # that a page of thousands of runs costs no more than a page of prose)
        tops = np.minimum.accumulate(np.concatenate([[height], across[:MAX_ACROSS, 1]]))
        bottoms = np.maximum.accumulate(np.concatenate([[0.0], across[::-1][:MAX_ACROSS, 3]]))
        top, bottom = tops[:, None], bottoms[None, :]
        inside = _between(middle, bottom, top)
        crossed = _between(middle[crossing], bottom, top)
        sides = np.minimum(_between(middle[box[:, 2] <= x], bottom, top), _between(middle[box[:, 0] >= x], bottom, top))
        wide = middle[~crossing & (box[:, 2] - box[:, 0] >= 0.3 * width)]
        read_across = len(wide) - _between(wide, bottom, top)
        fits = ((top > bottom) & (inside >= 4) & (crossed <= 0.05 * inside) & (sides >= 0.25 * inside)
                & (inside >= 0.4 * len(rects)) & (read_across <= 2))
        if not parts:
            fits[1:, :] = fits[:, 1:] = False
        if not fits.any():
            continue
        ks, js = np.nonzero(fits)
        first = np.lexsort((ks + js, crossed[ks, js]))[0]  # fewest crossing between, then fewest read across
        k, j = int(ks[first]), int(js[first])
        if k + j and not laid_out(box, Columns(x, float(tops[k]), float(bottoms[j])), height):
            if not fits[0, 0]:
                continue
            k = j = 0  # the whole page in columns, as it is without a part read across
        key = (float(crossed[k, j]), float(k + j), abs(x - width / 2))
        if best is None or key < best[0]:
            best = (key, Columns(x, float(tops[k]), float(bottoms[j])))
    return best[1] if best else None


def laid_out(box: np.ndarray, columns: Columns, height: float) -> bool:
    """Is a page with a part read across laid out as a paper is? Its columns take at least 40% of its height, and
    below them is no more than a footer (``FOOTER_LINES``): a paper's wide figures and tables stand at the top of a
    page. A page in one column has stretches that no run crosses at some x (a code block's runs split at its spaces),
    between prose above and below (``box``: PDFium's text runs as rows of left, bottom, right, top)."""
    below = box[(box[:, 1] + box[:, 3]) / 2 < columns.bottom]
    bottoms = np.sort(below[:, 1])
    lines = int(len(bottoms) > 0) + int(np.sum(np.diff(bottoms) > 4))  # runs within 4 points of each other: one line
    return columns.top - columns.bottom >= 0.4 * height and lines <= FOOTER_LINES


def _between(values: np.ndarray, bottom: np.ndarray, top: np.ndarray) -> np.ndarray:
    """How many of ``values`` lie between each ``bottom`` and ``top`` (broadcast)."""
    ordered = np.sort(values)
    return np.searchsorted(ordered, top, side="right") - np.searchsorted(ordered, bottom, side="left")


def text_lines(text: str) -> list[str]:
    """PDFium's text of a page as lines: a line-end hyphen (U+FFFE) made a soft hyphen before the line break, and no
    control character (PDFium's U+0002 marks a line-end hyphen it did not break at: "Spi", U+0002, "derMonkey" reads
    "SpiderMonkey")."""
    return [line for line, _ in located_lines(text)]


def located_lines(text: str) -> list[tuple[str, int]]:
    """``text_lines``, each with the index in ``text`` of its first visible character (PDFium's character index)."""
    found = []
    for piece in _LINE.finditer(text):
        body = piece.group().rstrip("\r\n")
        line = _CONTROL.sub("", body.replace("\ufffe", SOFT_HYPHEN)).rstrip()
        if line.strip():
            first = next(i for i, char in enumerate(body) if not char.isspace() and not _CONTROL.match(char))
            found.append((line, piece.start() + first))
    return found


def _marker(line: str) -> int:
    """How many characters a list item's bullet and the spaces after it take ("• ", "2. "), after the line's indent."""
    bullet = BULLET.match(line)
    return bullet.end() - (len(line) - len(line.lstrip())) if bullet else 0
