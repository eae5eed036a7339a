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
    each page was read in two columns, and where each line starts (``page_text``)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise SourceError(f"cannot read the PDF: {error}") from error
    try:
        pages, columns, lefts = [], [], []
        for i in range(len(pdf)):
            lines, starts, in_columns = page_text(pdf[i])
            pages.append(lines)
            lefts.append(starts)
            columns.append(in_columns)
        return (pdf.get_metadata_dict().get("Title") or "").strip(), pages, columns, lefts
    finally:
        pdf.close()


def pages_data(data: bytes) -> list:
    """``page_lines`` as JSON data, for the child process that reads a PDF (qa/read/sandbox.py)."""
    return list(page_lines(data))


def page_text(page) -> tuple[list[str], list[float | None], bool]:
    """A page's lines in reading order, where the text of each starts (x in points, after a list item's bullet: the
    item's lines after its first start there too, the paragraph after it further left; None on a page in two columns,
    whose bounded text PDFium gives without character indexes), and whether it is in two columns. A ``PART_BREAK``
    line ends the part read across above the columns, and the columns."""
    textpage = page.get_textpage()
    width, height = page.get_size()
    columns = find_columns([textpage.get_rect(i) for i in range(textpage.count_rects())], width, height)
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


def find_columns(rects: Sequence[Rect], width: float, height: float) -> Columns | None:
    """The gutter: an x in the page's middle third that at most 5% of the text runs between ``top`` and ``bottom``
    cross, with a quarter of those runs on each side and at least 40% of the page's runs between them. Above ``top``
    and below ``bottom`` are the runs that cross it, and no more than two runs as wide as a column's line (the
    title's, a figure's and its caption's runs are short or cross). Of the gutters found, the one fewest runs cross
    between ``top`` and ``bottom``, then the one that leaves fewest above and below, nearest the middle. None for a
    page in one column."""
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
        if not fits.any():
            continue
        ks, js = np.nonzero(fits)
        first = np.lexsort((ks + js, crossed[ks, js]))[0]  # fewest crossing between, then fewest read across
        k, j = int(ks[first]), int(js[first])
        key = (float(crossed[k, j]), float(k + j), abs(x - width / 2))
        if best is None or key < best[0]:
            best = (key, Columns(x, float(tops[k]), float(bottoms[j])))
    return best[1] if best else None


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
