"""Sentence-aware chunking with overlap; every span is an offset into the original text.

Sentences end at . ! ? when the next word does not start in lower case (and
not after common abbreviations or initials), at blank lines, and at line breaks
unless the next line plainly continues the sentence (it starts in lower case or
with a digit, or the line breaks after a comma or hyphen, as in wrapped PDF text). Chunks are runs of whole sentences inside one section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import content_sections, document_title
from .settings import ChunkSettings
from .types import Span

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "rev", "hon", "pres", "inc", "ltd", "co", "corp", "vs", "etc", "no", "nos", "fig",
    "figs", "eq", "al", "approx", "dept", "est", "vol", "pp", "ed", "eds", "e.g", "i.e", "cf", "u.s",
    "u.k", "u.n", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mt", "ft", "ave", "blvd",
}
_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+[^\s.…a-z])""")  # the next sentence does not start in lower case
_LINE_BREAK = re.compile(r"\n")
_WORD_BEFORE = re.compile(r"([\w.]+)[.]$")


@dataclass(frozen=True)
class ChunkedDocument:
    title: str
    sentences: list[Span]
    chunks: list[tuple[int, int]]  # (first sentence, last sentence), inclusive


def chunk_document(text: str, name: str, settings: ChunkSettings, breaks: tuple[int, ...] = ()) -> ChunkedDocument:
    """Sentences and chunks of a document; ``breaks`` (page starts) also end sections."""
    sections = split_at(content_sections(text, settings.min_chrome_words), breaks)
    sentences: list[Span] = []
    chunks: list[tuple[int, int]] = []
    for section in sections:
        first = len(sentences)
        for span in split_sentences(text, section):
            sentences.extend(cap_length(text, span, settings.max_chars))
        chunks.extend(window(sentences, first, len(sentences), settings))
    return ChunkedDocument(document_title(text, sections, name), sentences, chunks)


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


def split_sentences(text: str, section: Span) -> list[Span]:
    """Sentence spans inside a section, trimmed of surrounding whitespace."""
    cuts = [section.start]
    segment = text[section.start : section.end]
    for match in _END.finditer(segment):
        if not _is_abbreviation(segment[: match.end()].rstrip("\"'”’)]")):
            cuts.append(section.start + match.end())
    for match in _LINE_BREAK.finditer(segment):
        if _breaks_sentence(segment, match.start()):
            cuts.append(section.start + match.start())
    cuts.append(section.end)
    spans = []
    for start, end in zip(sorted(set(cuts)), sorted(set(cuts))[1:]):
        span = _trim(text, start, end)
        if span is not None:
            spans.append(span)
    return spans


def _is_abbreviation(head: str) -> bool:
    match = _WORD_BEFORE.search(head)
    if not match:
        return False
    word = match.group(1).lower()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _breaks_sentence(segment: str, newline: int) -> bool:
    before = segment[:newline].rstrip(" \t\r\xa0")
    rest = segment[newline + 1 :]
    after = rest.lstrip()
    if not before or not after or "\n" in rest[: len(rest) - len(after)]:
        return True  # a blank line: always a paragraph break
    continues = after[0].islower() or (after[0].isdigit() and before[-1] not in ".!?:") or before[-1] in ",;-–("
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
