"""Reading PDF: the text of each page line by line, without its running headers and footers.

pypdfium2 (Google's PDFium) extracts each page's text; measured on the Texinfo
manual in ``../shared/eval/docs`` (``bench/pdf_readers.py``, bench/results/READING.md) it
was 12x faster than pypdf and 50x faster than pdfplumber, read the two-column
index column by column (pdfplumber interleaves the columns), and is the only one
that marks words hyphenated at a line end (U+FFFE). Its text runs have positions:
a page in two columns is read column by column, and a part of it as wide as the
page (a title, a figure's caption) across (qa/read/pdfpage.py).

The stored text keeps the page's lines (a word hyphenated at a line end is kept
as "en\\u00ad\\ncoding", a soft hyphen then the line break), so offsets and the
source view follow the page; ``unwrap.display_text`` joins them for showing. Left out:
running headers and footers (a page's first or last line that, digits aside,
repeats on other pages, or is only a page number) and table-of-contents or index
lines ("Porting . . . . . 1"). Lines are grouped into paragraphs: a line that ends a
sentence well short of the page's width ends one, a bullet starts an item (which a
line starting left of the item's text ends, on a page in one column), and
a numbered line such as "2.1 ASN.1 syntax" or "2.1. Directory layout" is a heading, unless its
number begins other heading-like lines too (the rows of a table).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..errors import SourceError
from ..settings import ReadSettings
from .blocks import TextBuilder, Written
from .pdfpage import BULLET, PART_BREAK, SOFT_HYPHEN
from .sandbox import run_bounded

PAGE_SEPARATOR = "\n\n"
_LEADERS = re.compile(r"(?:\.\s?){4,}\s*\d+\s*$")  # a table of contents or index entry
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?[\divxlc]+(?:\s*(?:/|of)\s*\d+)?\s*$", re.IGNORECASE)
# "6.6 Correctness", "2.1. Directory layout" (DocBook's numbers end in a dot), "4 Results", "Appendix B.2 Proofs"
_HEADING = re.compile(r"^(?:(\d+(?:\.\d+)+)\.?|(\d+)|Appendix ([A-Z](?:\.\d+)*)):?\s+[A-Z].*[^.!:,;]$")
# "7. Evaluation": a top-level section of a paper; told from a numbered list item by its Title Case words
_NUMBERED_HEADING = re.compile(r"^(\d+)\.\s+[A-Z][\w-]*(?:[ :]+(?:[A-Z][\w-]*|\w{1,3}))*$")
_PARENT = re.compile(r"^\d+\.\s+[A-Z][^.!:,;]*$")  # "2. Unified system", a heading when "2.1. ..." follows
_NAMED_HEADING = re.compile(r"^(?:Abstract|Acknowledge?ments?|References|Bibliography)$", re.IGNORECASE)
_NUMBERED_ITEM = re.compile(r"^\s*\d{1,3}[.)]\s")
_CLAUSE_END = re.compile(r"""[.,:;!?)\]"'”’]$""")
_ENDS_SENTENCE = re.compile(r"""[.!?:]["'”’)\]]*$""")


def read_pdf(data: bytes, budget: ReadSettings | None = None) -> Written:
    """The pages' text; its title is the PDF's Title field, else its first line. PDFium reads it in a child
    process within ``budget``'s memory and time."""
    budget = budget or ReadSettings()
    title, pages, columns, lefts = run_bounded("qa.read.pdfpage:pages_data", data, memory_bytes=budget.max_memory_bytes,
                                               seconds=budget.max_seconds, kind="PDF")
    size = sum(len(line) + 1 for lines in pages for line in lines)
    if size > budget.max_extracted_bytes:
        raise SourceError(f"the PDF holds more than {budget.max_extracted_bytes // 2**20} MB of text; "
                          "Settings.read.max_extracted_bytes sets the limit")
    chrome = running_lines(pages)
    numbered = numbering(pages)
    builder = TextBuilder()
    starts: list[int] = []
    for lines, in_columns, at in zip(pages, columns, lefts, strict=True):
        if builder.parts:
            builder.write(PAGE_SEPARATOR)
        starts.append(builder.length)
        kept = [i for i, line in enumerate(lines) if not _left_out(line, i, len(lines), chrome)]
        add_paragraphs(builder, [lines[i] for i in kept], in_columns, numbered, [at[i] for i in kept])
    first = next((line for lines in pages for line in lines), "")
    return builder.result(title or (first.strip() if len(first) < 100 else ""), tuple(starts))


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).casefold()


def running_lines(pages: list[list[str]]) -> set[str]:
    """First and last lines that repeat (digits aside) on at least two pages: running headers and footers."""
    edges = Counter(_key(line) for lines in pages for line in {*lines[:1], *lines[-1:]})
    return {key for key, count in edges.items() if count >= 2}


def _left_out(line: str, position: int, count: int, chrome: set[str]) -> bool:
    edge = position == 0 or position == count - 1
    return bool(_LEADERS.search(line)) or (edge and (_key(line) in chrome or bool(_PAGE_NUMBER.match(line))))


@dataclass(frozen=True)
class Numbering:
    """What a document's numbered lines say about its headings, read before any page is grouped."""

    parents: frozenset[str]  # "2." where a "2.1." heading follows: "2. Unified system" heads it, though not in Title Case
    repeated: frozenset[str]  # numbers that begin two or more different heading-like lines: table rows, not headings
    # (a section's number is given once: "4 CARD32 N_ENTRIES", "4 CARD32 GLOB_OFFSET" are a binary format's fields)

    def level(self, line: str) -> int:
        number = _number(line)
        if number in self.repeated:
            return 0
        return heading_level(line) or (1 if number in self.parents and len(line) < 50 and _PARENT.match(line) else 0)


def numbering(pages: list[list[str]]) -> Numbering:
    lines = [line for page in pages for line in page if _number(line)]
    parents = frozenset(m.group(1).split(".")[0] + "." for line in lines if (m := _HEADING.match(line)) and m.group(1))
    unfiltered = Numbering(parents, frozenset())
    seen: dict[str, set[str]] = {}
    for line in lines:
        if unfiltered.level(line):
            seen.setdefault(_number(line), set()).add(line)
    return Numbering(parents, frozenset(number for number, texts in seen.items() if len(texts) > 1))


def _number(line: str) -> str:
    """The number a line begins with ("2.1." of "2.1. Directory layout"), or ""."""
    first = line.split(maxsplit=1)[0] if line.strip() else ""
    return first if first[:1].isdigit() else ""


NO_NUMBERING = Numbering(frozenset(), frozenset())


def add_paragraphs(builder: TextBuilder, lines: list[str], in_columns: bool = False, numbered: Numbering = NO_NUMBERING,
                   lefts: list[float | None] | None = None) -> None:
    """Group a page's lines into headings (as the document's ``numbered`` lines tell them), list items and paragraphs
    (a line whose text starts left of its list item's text ends the item: ``lefts``, where known)."""
    width = usual_width(lines, in_columns)
    current: list[str] = []
    kind = "text"
    item_at: float | None = None

    def flush() -> None:
        if current:
            builder.add(kind, "\n".join(current))
            current.clear()

    for line, left in zip(lines, lefts or [None] * len(lines), strict=True):
        if line == PART_BREAK:
            flush()
            kind = "text"
            continue
        level = numbered.level(line)
        if level:
            flush()
            builder.heading(level, line)
            kind = "text"
            continue
        item = _starts_item(line, current, kind, width)
        if kind == "item" and current and not item and left is not None and item_at is not None and left < item_at - 1:
            flush()
            kind = "text"
        if item:
            item_at = left
        if item or (current and current[-1].endswith(SOFT_HYPHEN) is False and _short(current[-1], width)):
            flush()
            kind = "item" if item else "text"
        current.append(line)
        if _ENDS_SENTENCE.search(line) and len(line) < 0.85 * width:
            flush()
            kind = "text"
    flush()


def _starts_item(line: str, before: list[str], kind: str, width: int) -> bool:
    """Does ``line`` start a list item? A numbered one that follows a paragraph's wrapped line in mid-sentence
    ("... the null terminated string "NEW" and LEN !=", then "0. With this instruction ...") continues it instead."""
    if not BULLET.match(line):
        return False
    mid_sentence = kind == "text" and bool(before) and not _CLAUSE_END.search(before[-1]) and not _short(before[-1], width)
    return not (mid_sentence and _NUMBERED_ITEM.match(line))


def usual_width(lines: list[str], in_columns: bool) -> int:
    """A page's full line length. PDFium runs some lines into one (15% of a TraceMonkey page's "lines" are two or
    three lines long, over a quarter on some of S2ORC's pages), and against those every real line looked short and
    ended a paragraph. In columns: the 75th percentile of the lines at most 1.5 times the median long. On other
    pages, where code lines may be most of them: the longest line at most twice the 90th percentile long."""
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return 0
    if in_columns:
        median = lengths[(len(lengths) - 1) // 2]
        kept = [n for n in lengths if n <= 1.5 * median]
        return kept[int(0.75 * (len(kept) - 1))]
    usual = lengths[int(0.9 * (len(lengths) - 1))]
    return max(n for n in lengths if n <= 2 * usual)


def heading_level(line: str) -> int:
    """1 for "7. Evaluation" or "References", 2 for "6.6 Correctness", ...; 0 for a line that is no heading."""
    if len(line) >= 70:
        return 0
    numbered = _HEADING.match(line)
    if numbered:
        return next(group for group in numbered.groups() if group).count(".") + 1
    return 1 if _NAMED_HEADING.match(line.strip()) or (len(line) < 50 and _NUMBERED_HEADING.match(line)) else 0


def _short(line: str, width: int) -> bool:
    """A short line that ends no sentence or clause: a line of code, a usage line, a label."""
    return len(line) < 0.6 * width and not re.search(r"[.,;:!?(\-]$", line)
