"""The code block or list a sentence introduces (pure logic over a document's blocks).

Documentation answers with the thing itself: a sentence ending its paragraph with ":" or "for example" ("Let's try
our first search by looking for all occurrences of the word fast in README.md:") introduces the code block or list
right after it, and that block is what it says. The quotes bring the block after such a sentence (``quotes.py``), and
the reader reads the sentence with it (``reader.py``). A table row means what its header names: the reader reads it
under the header's names, and its quote shows the header above it (``compose.py``).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import islice

from ..index.corpus import Corpus
from ..index.lexical import tokenize
from ..read.blocks import cells
from ..types import Block, Document

# ":" or "for example" ends a sentence that leads into what follows; so does "run the following." or "as follows."
INTRODUCES = re.compile(r"(?::|\bfor example,?|\be\.g\.,?|\b(?:the following(?:\s+[\w-]+){0,2}|as follows|like (?:this|so))\s*[.:]?)"
                        r"[\s\"'”’)*_`]*$", re.IGNORECASE)
# A paragraph that stops without a full stop right before a code block is its caption ("For Psycopg 3, use", "Create a
# table"): READMEs lead into their examples that way as often as with a colon.
_UNFINISHED = re.compile(r"[\w`)\]]\s*$")
READ_CHARS = 300  # of the block a sentence introduces, what the reader reads after the sentence (it reads 64 tokens)


def introduced_span(doc: Document, start: int, end: int, budget: int) -> tuple[int, int] | None:
    """Where the block that ``doc.text[start:end]`` introduces lies (offsets in ``doc.text``): the next block when it is
    code or a list item (the items of the same list, as many whole ones as ``budget`` characters hold; a long code
    block cut at a line end). None when the text does not end its paragraph with ":" (or "for example", or, before
    code, with no full stop at all), or no such block follows."""
    text = doc.text[start:end]
    if not doc.blocks or not (INTRODUCES.search(text) or _UNFINISHED.search(text)):
        return None
    own = doc.blocks[bisect_right(doc.blocks, start, key=_start) - 1]  # blocks are in text order
    following = (b for b in islice(doc.blocks, bisect_left(doc.blocks, end, key=_start), None) if b.kind != "meta")
    head = next(following, None)
    if not own.start <= start < own.end or own.end > end or own.kind not in ("text", "item") or head is None:
        return None  # the text does not end its paragraph (a heading introduces nothing), or nothing follows
    if head.kind != "code" and not (head.kind == "item" and INTRODUCES.search(text)):
        return None  # a caption without a colon introduces code only
    stop = head.end
    for block in following if head.kind == "item" else ():
        if block.kind != "item" or block.section != head.section or block.end - head.start > budget:
            break
        stop = block.end
    if stop - head.start > budget:
        stop = doc.text.rfind("\n", head.start, head.start + budget)
        if stop <= head.start:
            return None
    return head.start, stop


def _start(block: Block) -> int:
    return block.start


def introduced_text(corpus: Corpus, sentence: int, budget: int) -> str:
    """The text of the code block or list that the corpus's sentence introduces, "" when none."""
    row = corpus.sentences[sentence]
    doc = corpus.sentence_document(sentence)
    span = introduced_span(doc, int(row["start"]), int(row["end"]), budget)
    return doc.text[span[0] : span[1]] if span else ""


def table_header(doc: Document, start: int) -> tuple[int, int] | None:
    """Where the header row of the table row at ``start`` lies: the first row of its run of rows (only a Markdown
    separator row, or nothing, between them). None for the header row itself, or when ``start`` is not in a table."""
    at = _row_at(doc, start)
    if at is None:
        return None
    first = at
    while first > 0 and _same_table(doc, doc.blocks[first - 1], doc.blocks[first]):
        first -= 1
    return None if first == at else (doc.blocks[first].start, doc.blocks[first].end)


def is_header_row(corpus: Corpus, sentence: int) -> bool:
    """Is the corpus's sentence a table's header row (rows of the same table under it, none above)? Structure, never
    an answer: what it names is read with each row (``reader.read_as``) and shown above a quoted row."""
    doc, start = corpus.sentence_document(sentence), int(corpus.sentences["start"][sentence])
    at = _row_at(doc, start)
    if at is None or at + 1 >= len(doc.blocks):
        return False
    return _same_table(doc, doc.blocks[at], doc.blocks[at + 1]) and not (at > 0 and _same_table(doc, doc.blocks[at - 1], doc.blocks[at]))


def asked_cell(doc: Document, start: int, end: int, question: str) -> tuple[int, int] | None:
    """The cell of the table row ``doc.text[start:end]`` that the question asks for (offsets in ``doc.text``): the one
    under the only header name the question uses whose cell it does not already give ("Which flag sets how many levels
    are shown?": the Flag cell; "What does the --depth flag do?" gives the flag, so no cell). People read a table by its
    header; the reader's span head learned on prose and often marks another cell. None when no single cell is asked."""
    header = table_header(doc, start)
    if header is None:
        return None
    names, values = cells(doc.text[header[0] : header[1]]), cells(doc.text[start:end])
    if not names or len(names) != len(values):
        return None
    words = tokenize([question, *(name for _, _, name in names), *(value for _, _, value in values)], "en_plus")
    asked = set(words[0])
    named, given = words[1 : 1 + len(names)], words[1 + len(names) :]
    chosen = [value for name, shown, value in zip(named, given, values, strict=True)
              if name and set(name) <= asked and not set(shown) & asked]
    return (start + chosen[0][0], start + chosen[0][1]) if len(chosen) == 1 else None


def _row_at(doc: Document, start: int) -> int | None:
    """The index in ``doc.blocks`` of the table row holding ``start``, None when it is not in a table row."""
    at = bisect_right(doc.blocks, start, key=_start) - 1
    return at if at >= 0 and doc.blocks[at].kind == "table" and doc.blocks[at].start <= start < doc.blocks[at].end else None


def _same_table(doc: Document, above: Block, row: Block) -> bool:
    return above.kind == "table" and above.section == row.section and not doc.text[above.end : row.start].strip(" \t|-:\r\n")
