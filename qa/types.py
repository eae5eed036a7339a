"""The frozen dataclasses that cross module boundaries.

Offsets (``start``, ``end``) are always character offsets into the document's
text as read (for .txt/.md: the file decoded as UTF-8, newlines untouched), so
``document_text[start:end] == text`` holds for every passage, chunk and quote.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

SECTION_JOIN = " › "
BLOCK_KINDS = ("heading", "term", "text", "item", "code", "table", "meta")


@dataclass(frozen=True)
class Block:
    """A run of the document's text that a reader sees as one unit (a paragraph, a list item, a code block...).

    ``kind`` is one of BLOCK_KINDS: "text" (a paragraph), "item" (a list item or
    definition), "table" (a table row), "code" (a code block: kept with its
    prose but not quoted as an answer sentence), "heading", "term" (a definition list's
    term: the heading of its definitions), "meta" (front matter, metadata comments: not
    indexed). ``section`` is the heading path the block sits
    under (a heading's own path includes itself).
    """

    start: int
    end: int
    kind: str
    section: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """One source as read: its full text and where it came from."""

    path: str  # absolute path of the file at index time
    source: str  # display name (the file name)
    text: str
    sha256: str  # hash of the file's bytes, marked with its format's reading version where that changed (read.files.READING)
    page_starts: tuple[int, ...] = ()  # PDF: offset where each page's text starts
    blocks: tuple[Block, ...] = ()  # the document's structure, in text order; () for plain text
    title: str = ""  # the document's own title (an HTML <title>, a first heading), "" when it has none

    def page_at(self, offset: int) -> int | None:
        """1-based page number holding ``offset`` (None when not paged)."""
        return bisect_right(self.page_starts, offset) if self.page_starts else None

    def block_at(self, offset: int) -> Block | None:
        """The block holding ``offset`` (None for plain text, or between blocks)."""
        i = bisect_right(self._block_starts, offset) - 1
        return self.blocks[i] if i >= 0 and offset < self.blocks[i].end else None

    def section_at(self, offset: int) -> str:
        """The heading path at ``offset`` joined with " › " ("Profiles › Profile settings"), or ""."""
        i = bisect_right(self._block_starts, offset) - 1
        return SECTION_JOIN.join(self.blocks[i].section) if i >= 0 else ""

    def term_at(self, offset: int) -> str:
        """The definition list's term ("staff", "--noblanks") whose definition holds ``offset``, or "": what the
        definition's "this group" or "Drop ignorable blank spaces." is about."""
        block = self.block_at(offset)
        starts, heads = self._heads
        i = bisect_right(starts, offset) - 1
        if block is None or not block.section or i < 0 or heads[i].kind != "term":
            return ""
        term = self.text[heads[i].start : heads[i].end]
        return term if block.section[-1] == term else ""

    @cached_property
    def _block_starts(self) -> list[int]:
        return [block.start for block in self.blocks]

    @cached_property
    def _heads(self) -> tuple[list[int], list[Block]]:
        heads = [block for block in self.blocks if block.kind in ("heading", "term")]
        return [block.start for block in heads], heads

    def line_at(self, offset: int) -> int:
        """1-based line number holding ``offset``."""
        return self.text.count("\n", 0, offset) + 1

    def structure(self) -> dict[str, Any]:
        """The document's title and blocks as JSON values (each heading path once, a block as [start, end, kind,
        path number]): what both stores keep beside the text, so that a loaded document equals the one read."""
        paths = list(dict.fromkeys(block.section for block in self.blocks))
        number = {path: i for i, path in enumerate(paths)}
        blocks = [[b.start, b.end, b.kind, number[b.section]] for b in self.blocks]
        return {"doc_title": self.title, "sections": [list(p) for p in paths], "blocks": blocks}

    @classmethod
    def from_stored(cls, path: str, source: str, text: str, sha256: str, page_starts: list[int],
                    structure: dict[str, Any]) -> Document:
        """The document again from its stored fields and ``structure()``."""
        paths = [tuple(p) for p in structure["sections"]]
        blocks = tuple(Block(start, end, kind, paths[n]) for start, end, kind, n in structure["blocks"])
        return cls(path, source, text, sha256, tuple(page_starts), blocks, structure["doc_title"])


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrieved passage. ``text`` is exactly the source text between ``start`` and ``end``."""

    rank: int  # 1 = best
    score: float  # fused relevance, higher is better (comparable within one query)
    source: str  # display name of the document
    path: str  # absolute path of the file at index time
    start: int
    end: int
    text: str
    page: int | None = None  # PDFs: 1-based page where the passage starts
    line: int = 1  # 1-based line where the passage starts
    section: str = ""  # the heading path it sits under ("Profiles › Profile settings"), "" when none


@dataclass(frozen=True)
class Citation:
    """One quote of an answer. ``quote`` is the source text between ``start`` and ``end``."""

    n: int  # the number shown as [n] in the answer text
    source: str
    path: str
    start: int
    end: int
    quote: str
    # the reader's probability that the quoted sentence answers the question (0 to 1; 0: not read, quoted beside an unsure first quote)
    score: float
    page: int | None = None
    line: int = 1
    passage_start: int = 0  # the surrounding passage, for showing the quote in context
    passage_end: int = 0
    answer_start: int | None = None  # the likely answer inside the quote (offsets in the source)
    answer_end: int | None = None
    supports_answer: bool = True  # False when listed only as the closest passage after abstaining
    passage: str = ""  # the source text between passage_start and passage_end
    section: str = ""  # the heading path the quote sits under ("Features › Feature unification"), "" when none
    layout: str = "prose"  # how the quote is laid out in its source: "prose", "code" (a code block), "list" (list items), "table" (a row)
    source_changed: bool = False  # the file changed since it was indexed: the quote is the indexed text's, re-index it
    header: str = ""  # a table row's quote: the header row of its table, verbatim ("| Flag | Default |"), else ""
    # the code blocks of the passage around the quote, as (start, end) offsets in the source: shown as code there
    passage_code: tuple[tuple[int, int], ...] = ()
    # the quote is a clause of its sentence, which goes on before it / after it: shown with "…" there
    cut_before: bool = False
    cut_after: bool = False


CHANGED = "the file has changed since it was indexed: this quote is from the indexed version; index it again"


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of a written answer, checked against the quotes it cites."""

    text: str
    cites: tuple[int, ...]  # the [n] it cites
    unsupported: tuple[str, ...]  # what no cited passage (nor the question) says: a number, name, code, quoted text
    supported: bool  # it cites quotes that exist and says nothing unsupported: shown


@dataclass(frozen=True)
class Written:
    """An answer in words from the user's own model (``Settings.llm``), written from the quotes alone."""

    text: str  # the sentences that passed the check, as the model wrote them ("" when none did)
    model: str  # which model wrote it
    checks: tuple[SentenceCheck, ...]  # every sentence it wrote, passed or dropped
    note: str = ""  # why less (or nothing) is shown: sentences dropped, the server down or slow
    finished: bool = True  # False while the model is still writing (the chat shows the sentences checked so far)


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    text: str  # the quotes with [n] markers, or a plain statement that the sources do not answer
    citations: tuple[Citation, ...]
    truncated: bool = False  # the question was cut to what the model reads
    written: Written | None = None  # the answer in words, when a model is configured and the sources answer

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data (the CLI's ``--json`` and the app's ``/ask`` both return this)."""
        return asdict(self)

    def to_text(self) -> str:
        """The answer as plain text, as `qa ask` prints it (the app's Copy button copies it too): the quotes with
        their [n], then each citation's source and place."""
        words = written_lines(self.written) if self.written is not None else []
        lines = [*words, "", self.text] if words else [self.text]
        if self.citations:
            lines.append("\nSources:" if self.answered else "\nClosest passages (not an answer):")
        for c in self.citations:
            where = f"page {c.page}" if c.page else f"line {c.line}"
            lines.append(f"[{c.n}] {c.source}, {where}, chars {c.start}-{c.end}" + (f" ({CHANGED})" if c.source_changed else ""))
        return "\n".join(lines)


@dataclass(frozen=True)
class Skipped:
    """A source file left out of the index, and why."""

    path: str
    reason: str


def written_lines(written: Written) -> list[str]:
    """A written answer as text: who wrote it and that it was checked, or the note saying why it is not shown."""
    if not written.text:
        return [written.note] if written.finished else []
    done = "" if written.finished else " so far; it is still writing"
    lines = [f"{written.text}", f"(written by {written.model}, every sentence checked against the quotes{done})"]
    return [*lines, written.note] if written.note else lines
