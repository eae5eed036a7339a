"""Sentence-aware chunking with overlap; every span is an offset into the original text.

Sentences end at . ! ? when the next word does not start in lower case or is a
code identifier ("dns.lookup() uses", "rerun-if-env-changed is"), and not after
common abbreviations or initials ("etc." is not one: it mostly ends a sentence). A document with structure (blocks:
HTML, Markdown, PDF, Word, EPUB) is split block by block: no sentence crosses a
block, a line break inside a paragraph is only a wrapped line, a code block is
one "sentence" marked as code, and headings and metadata are not sentences (the
heading path goes in front of each chunk instead). Plain text has no blocks: its
sentences also end at blank lines, and at line breaks unless the next line
plainly continues the sentence (it starts in lower case or with a digit, or the
line breaks after a comma or hyphen). Chunks are runs of whole sentences inside
one section (under one heading, on one page).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import pairwise

from ..read.clean import content_sections, document_title
from ..settings import ChunkSettings
from ..types import Block, Span

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "rev", "hon", "pres", "inc", "ltd", "co", "corp", "vs", "no", "nos", "fig",
    "figs", "eq", "al", "approx", "dept", "est", "vol", "pp", "ed", "eds", "e.g", "i.e", "cf", "u.s",
    "u.k", "u.n", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mt", "ft", "ave", "blvd",
}
_END = re.compile(  # the next sentence does not start in lower case, or starts with a code identifier
    r"""[.!?…]+["'”’)\]]*(?=\s+[^\s.…a-z])|(?<=[a-z]{2})[.!?]["'”’)\]]*(?=\s+[a-z_]\w*(?:[.:(]|-\w|_))""")
_LINE_BREAK = re.compile(r"\n")
_WORD = re.compile(r"[^\W\d_]{2}")
# never cut inside inline code, a link's target or reference, or an autolink (Markdown keeps them in the text)
_MARKUP = re.compile(r"`[^`]+`|\]\([^)]*\)|\]\[[^\]]*\]|<[a-z]+://[^>]*>")
_WORD_BEFORE = re.compile(r"([\w.]+)[.]$")


NOT_SENTENCES = {"heading", "term", "meta"}


@dataclass(frozen=True)
class ChunkedDocument:
    title: str
    sentences: list[Span]
    chunks: list[tuple[int, int]]  # (first sentence, last sentence), inclusive
    code: list[bool] | None = None  # per sentence: a code block (not quoted as an answer); None: no code


def chunk_document(
    text: str, name: str, settings: ChunkSettings, breaks: tuple[int, ...] = (), blocks: tuple[Block, ...] = (),
    title: str = "",
) -> ChunkedDocument:
    """Sentences and chunks of a document; ``breaks`` (page starts) also end sections."""
    if blocks:
        return chunk_blocks(text, blocks, settings, breaks, title or name)
    sections = split_at(content_sections(text, settings.min_chrome_words), breaks)
    sentences: list[Span] = []
    chunks: list[tuple[int, int]] = []
    for section in sections:
        first = len(sentences)
        for span in split_sentences(text, section):
            sentences.extend(cap_length(text, span, settings.max_chars))
        chunks.extend(window(sentences, first, len(sentences), settings))
    return ChunkedDocument(document_title(text, sections, name), sentences, chunks)


def chunk_blocks(text: str, blocks: tuple[Block, ...], settings: ChunkSettings, breaks: tuple[int, ...], title: str) -> ChunkedDocument:
    """Sentences block by block; chunks inside each run of blocks under one heading path and on one page."""
    sentences: list[Span] = []
    code: list[bool] = []
    chunks: list[tuple[int, int]] = []
    first = 0
    previous: tuple[tuple[str, ...], int] | None = None
    for block in blocks:
        if block.kind in NOT_SENTENCES or (block.kind != "code" and not _WORD.search(text, block.start, block.end)):
            continue  # a heading, metadata, or a stray "}", "F" or "32"
        place = (block.section, bisect_right(breaks, block.start))
        if place != previous:
            chunks.extend(window(sentences, first, len(sentences), settings))
            first, previous = len(sentences), place
        whole = Span(block.start, block.end)
        spans = [whole] if block.kind == "code" else join_short(text, split_sentences(text, whole, lines=False))
        for span in spans:
            pieces = cap_length(text, span, settings.max_chars)
            sentences.extend(pieces)
            code.extend([block.kind == "code"] * len(pieces))
    chunks.extend(window(sentences, first, len(sentences), settings))
    return ChunkedDocument(title, sentences, chunks, code)


def join_short(text: str, spans: list[Span], min_words: int = 4) -> list[Span]:
    """A piece of fewer than ``min_words`` words after a sentence of the same block joins it
    ("... before giving up. **Default:** `4`" is one sentence to a reader)."""
    joined: list[Span] = []
    for span in spans:
        if joined and len(text[span.start : span.end].split()) < min_words:
            joined[-1] = Span(joined[-1].start, span.end)
        else:
            joined.append(span)
    return joined


def split_at(sections: list[Span], breaks: tuple[int, ...]) -> list[Span]:
    """Sections cut at each break offset inside them (so no chunk spans two PDF pages)."""
    result: list[Span] = []
    for section in sections:
        start = section.start
        for cut in (b for b in breaks if section.start < b < section.end):
            result.append(Span(start, cut))
            start = cut
        result.append(Span(start, section.end))
    return result


def split_sentences(text: str, section: Span, lines: bool = True) -> list[Span]:
    """Sentence spans inside a section, trimmed of surrounding whitespace.

    ``lines``: line breaks may end sentences (plain text); False inside a paragraph block.
    Linear in the section's length: each cut looks back and ahead a bounded way, never at a copy of the rest."""
    cuts = [section.start]
    segment = text[section.start : section.end]
    inside = [(m.start(), m.end()) for m in _MARKUP.finditer(segment)]  # in order, not overlapping
    starts = [a for a, _ in inside]
    for match in _END.finditer(segment):
        at = bisect_right(starts, match.end() - 1) - 1  # the last markup span starting before the cut
        if at >= 0 and inside[at][0] < match.end() < inside[at][1]:
            continue
        if not _is_abbreviation(segment, match.end()):
            cuts.append(section.start + match.end())
    ahead = _NextText(segment)
    for match in _LINE_BREAK.finditer(segment if lines else ""):
        if _breaks_sentence(segment, match.start(), ahead):
            cuts.append(section.start + match.start())
    cuts.append(section.end)
    spans = []
    for start, end in pairwise(sorted(set(cuts))):
        span = _trim(text, start, end)
        if span is not None:
            spans.append(span)
    return spans


_LOOK_BACK = 64  # characters before a full stop in which to find the word it ends (abbreviations are short)
_CLOSERS = "\"'”’)]"
_TEXT = re.compile(r"\S")


def _is_abbreviation(segment: str, end: int) -> bool:
    """Does the full stop ending at ``end`` end an abbreviation ("e.g.", "Dr.", a single letter)?"""
    first = max(0, end - _LOOK_BACK)
    head = segment[first:end].rstrip(_CLOSERS)
    match = _WORD_BEFORE.search(head)
    if not match or (match.start() == 0 and first > 0):
        return False  # no word, or one longer than the window: not an abbreviation
    word = match.group(1).lower()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


class _NextText:
    """Where the next non-space character after a position is, remembered: line breaks are asked in order,
    so a run of blank lines is scanned once, not once per line."""

    def __init__(self, segment: str) -> None:
        self.segment, self.found, self.after = segment, -1, -1

    def __call__(self, position: int) -> int:
        if not self.found <= position <= self.after:  # else no text lies between ``position`` and the last answer
            match = _TEXT.search(self.segment, position)
            self.found, self.after = position, match.start() if match else len(self.segment)
        return self.after


def _breaks_sentence(segment: str, newline: int, ahead: _NextText) -> bool:
    last = newline - 1
    while last >= 0 and segment[last] in " \t\r\xa0":
        last -= 1
    after = ahead(newline + 1)
    if last < 0 or after >= len(segment) or segment.find("\n", newline + 1, after) != -1:
        return True  # a blank line: always a paragraph break
    before_char, after_char = segment[last], segment[after]
    continues = after_char.islower() or (after_char.isdigit() and before_char not in ".!?:") or before_char in ",;-–("
    return not continues


def _trim(text: str, start: int, end: int) -> Span | None:
    piece = text[start:end]
    stripped = piece.strip().lstrip("\ufeff").strip()  # a byte-order mark is not text
    if not stripped:
        return None
    lead = len(piece) - len(piece.lstrip().lstrip("\ufeff").lstrip())
    return Span(start + lead, start + lead + len(stripped))


def cap_length(text: str, span: Span, max_chars: int) -> list[Span]:
    """Cut an over-long sentence at whitespace into pieces of at most max_chars."""
    pieces: list[Span] = []
    start = span.start
    while span.end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars)
        cut = cut if cut > start else start + max_chars
        piece = _trim(text, start, cut)
        if piece is not None:
            pieces.append(piece)
        start = cut
    last = _trim(text, start, span.end)
    return pieces + ([last] if last is not None else [])


def window(sentences: list[Span], first: int, stop: int, settings: ChunkSettings) -> list[tuple[int, int]]:
    """Overlapping runs of at most ``settings.sentences`` sentences and ``max_chars`` characters."""
    chunks: list[tuple[int, int]] = []
    i = first
    while i < stop:
        j = i
        while (
            j + 1 < stop
            and j + 1 - i < settings.sentences
            and sentences[j + 1].end - sentences[i].start <= settings.max_chars
        ):
            j += 1
        chunks.append((i, j))
        if j == stop - 1:
            break
        i = max(j + 1 - settings.overlap, i + 1)
    return chunks
