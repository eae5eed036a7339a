"""The stored corpus: documents as read, and the tables of their chunks and sentences.

Both tables are numpy structured arrays, so code names the field it reads
(``corpus.chunks["first_sentence"][c]``) instead of remembering column numbers:

- ``chunks``:    ``doc``, ``start``, ``end``, ``first_sentence``, ``last_sentence`` (inclusive)
- ``sentences``: ``doc``, ``start``, ``end``, ``code`` (a code block: quoted only when no prose answers)

``doc`` is a position in ``documents``; ``start``/``end`` are character offsets into
that document's text; sentence ids are rows of ``sentences``. Rows are grouped by
document, in document order. ``Part`` is one document's share, with sentence ids
local to the document, as the builder makes it.

``CorpusView`` is what answering and listing ask of a stored corpus. A ``Corpus`` held in memory (the index
folder) is its own view; an index in a database reads, per question, the retrieved chunks' documents into a
small ``Corpus`` (``around``) and holds nothing else but a bounded cache (``stores.postgres_view``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from ..read.unwrap import display_text
from ..types import SECTION_JOIN, Document, Passage

CHUNK_FIELDS = np.dtype([("doc", np.int64), ("start", np.int64), ("end", np.int64),
                         ("first_sentence", np.int64), ("last_sentence", np.int64)])
SENTENCE_FIELDS = np.dtype([("doc", np.int64), ("start", np.int64), ("end", np.int64), ("code", np.bool_)])


# A code block is embedded by its start (its signature, first lines): the model was trained on 128 word pieces.
CODE_EMBED_CHARS = 400


def embed_text(document: Document, start: int, end: int, code: bool = False) -> str:
    """A sentence as the embedder reads it: its wrapped lines joined, under its heading ("PROFILE: Using this
    environment variable is not recommended."), since in documentation a sentence often says what it is about
    only through its heading. The docs development set: the answer quoted for 25 of 40 questions, against 21
    with the sentence alone."""
    text = display_text(document.text[start:end])
    if code and len(text) > CODE_EMBED_CHARS:
        text = text[:CODE_EMBED_CHARS].rsplit(" ", 1)[0]
    heading = heading_above(document, start)
    return f"{heading}: {text}" if heading and not text.startswith(heading) else text


def heading_above(document: Document, offset: int) -> str:
    """The heading that the text at ``offset`` sits right under ("emitter.once(eventName, listener)"), or ""."""
    block = document.block_at(offset)
    return block.section[-1] if block is not None and block.section else ""


def stacked(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    """The rows of ``arrays`` in one array of ``dtype``; a single array of that type is not copied (on a large
    upload it is a hundred megabytes)."""
    if len(arrays) == 1 and arrays[0].dtype == dtype:
        return arrays[0]
    return np.vstack(arrays).astype(dtype, copy=False)


def empty_vectors(dtype: type = np.float32) -> np.ndarray:
    return np.zeros((0, 0), dtype=dtype)


@dataclass
class Part:
    """One document's chunks and sentences (sentence ids local to it), and their vectors once embedded."""

    document: Document
    title: str
    sentences: np.ndarray  # SENTENCE_FIELDS, doc = 0
    chunks: np.ndarray  # CHUNK_FIELDS, doc = 0, local sentence ids
    chunk_vectors: np.ndarray = field(default_factory=empty_vectors)
    sentence_vectors: np.ndarray = field(default_factory=lambda: empty_vectors(np.float16))

    @property
    def embedded(self) -> bool:
        return self.chunk_vectors.size > 0 or not len(self.chunks)

    def heading(self, offset: int) -> str:
        """The document title and the heading path at ``offset``: "Profiles › Profile settings › opt-level"."""
        path = self.document.section_at(offset)
        if not self.title or path == self.title or path.startswith(self.title + SECTION_JOIN):
            return path or self.title
        return f"{self.title}{SECTION_JOIN}{path}" if path else self.title

    def embed_texts(self) -> Iterator[str]:
        """What the embedder reads for each chunk: the title and heading path, then the chunk as displayed."""
        texts = (self._chunk_text(start, end) for start, end in zip(self.chunks["start"], self.chunks["end"], strict=True))
        return (text if text.startswith(heading) else f"{heading}\n{text}" for heading, text in texts)

    def lexical_texts(self) -> list[str]:
        """What BM25 reads for each chunk: the title, the heading path and the chunk."""
        return [f"{heading} {text}" for heading, text in
                (self._chunk_text(start, end) for start, end in zip(self.chunks["start"], self.chunks["end"], strict=True))]

    def _chunk_text(self, start: int, end: int) -> tuple[str, str]:
        return self.heading(int(start)), display_text(self.document.text[start:end])

    def sentence_texts(self) -> Iterator[str]:
        """What the embedder reads for each sentence: the heading it sits right under, then the sentence."""
        rows = zip(self.sentences["start"], self.sentences["end"], self.sentences["code"], strict=True)
        return (embed_text(self.document, int(start), int(end), bool(code)) for start, end, code in rows)


Hits = list[tuple[int, float]]  # (chunk id, score), best first


class CorpusView(Protocol):
    """What answering and the library ask of a stored corpus; chunk ids are the ones its searches return."""

    def around(self, hits: Hits) -> tuple[Corpus, Hits]:
        """A corpus holding at least the hit chunks' documents, and the hits as its chunk rows (lost chunks dropped)."""
        ...

    def passages(self, hits: Hits) -> list[Passage]:
        """The hit chunks as passages, ranked from 1."""
        ...

    def document(self, path: str) -> Document | None:
        """The document with this absolute path, if any."""
        ...

    def chunk_counts(self) -> dict[str, int]:
        """How many chunks each document has, by its path."""
        ...

    def whole(self) -> Corpus:
        """Every row in memory (for tools and tests: a database reads them all now, answering never asks)."""
        ...


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    titles: tuple[str, ...]
    chunks: np.ndarray  # CHUNK_FIELDS
    sentences: np.ndarray  # SENTENCE_FIELDS
    sentence_vectors: np.ndarray  # float16 unit vectors, one row per sentence (or per ``vector_rows`` entry)
    vector_rows: np.ndarray | None = None  # row of each sentence's vector (-1: not read); None: one row per sentence

    @classmethod
    def from_parts(cls, parts: list[Part]) -> Corpus:
        chunks, sentences = [], []
        sentence_base = 0
        for doc, part in enumerate(parts):
            chunk_rows = part.chunks.copy()
            chunk_rows["doc"] = doc
            chunk_rows["first_sentence"] += sentence_base
            chunk_rows["last_sentence"] += sentence_base
            sentence_rows = part.sentences.copy()
            sentence_rows["doc"] = doc
            chunks.append(chunk_rows)
            sentences.append(sentence_rows)
            sentence_base += len(part.sentences)
        vectors = [p.sentence_vectors for p in parts if p.sentence_vectors.size]
        return cls(
            tuple(p.document for p in parts),
            tuple(p.title for p in parts),
            np.concatenate(chunks) if chunks else np.zeros(0, CHUNK_FIELDS),
            np.concatenate(sentences) if sentences else np.zeros(0, SENTENCE_FIELDS),
            stacked(vectors, np.float16) if vectors else empty_vectors(np.float16),
        )

    def parts(self) -> list[Part]:
        """Each document's share again (without chunk vectors: those live in the vector store)."""
        chunk_bounds = np.searchsorted(self.chunks["doc"], np.arange(len(self.documents) + 1))
        sentence_bounds = np.searchsorted(self.sentences["doc"], np.arange(len(self.documents) + 1))
        parts = []
        for doc, (document, title) in enumerate(zip(self.documents, self.titles, strict=True)):
            base = int(sentence_bounds[doc])
            rows = slice(base, int(sentence_bounds[doc + 1]))
            chunks = self.chunks[chunk_bounds[doc] : chunk_bounds[doc + 1]].copy()
            chunks["doc"] = 0
            chunks["first_sentence"] -= base
            chunks["last_sentence"] -= base
            sentences = self.sentences[rows].copy()
            sentences["doc"] = 0
            vectors = self.sentence_vectors[rows] if self.sentence_vectors.size else empty_vectors(np.float16)
            parts.append(Part(document, title, sentences, chunks, sentence_vectors=vectors))
        return parts

    # ----- as a CorpusView: the whole corpus is in memory -----

    def around(self, hits: Hits) -> tuple[Corpus, Hits]:
        return self, hits

    def passages(self, hits: Hits) -> list[Passage]:
        return [self.passage(chunk, score, rank) for rank, (chunk, score) in enumerate(hits, start=1)]

    def chunk_counts(self) -> dict[str, int]:
        return {doc.path: int(n) for doc, n in zip(self.documents, np.diff(self.chunk_starts), strict=True)}

    def whole(self) -> Corpus:
        return self

    @property
    def has_vectors(self) -> bool:
        """Were the sentences' vectors stored (``Settings.sentence_vectors``)?"""
        return self.sentence_vectors.size > 0

    def vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of sentences ``ids`` (float32)."""
        return self.sentence_vectors[ids if self.vector_rows is None else self.vector_rows[ids]].astype(np.float32)

    @cached_property
    def chunk_starts(self) -> np.ndarray:
        """Row of each document's first chunk, plus the total (``chunk_starts[d]:chunk_starts[d + 1]``)."""
        return np.searchsorted(self.chunks["doc"], np.arange(len(self.documents) + 1))

    @cached_property
    def _by_path(self) -> dict[str, int]:
        return {doc.path: i for i, doc in enumerate(self.documents)}

    def document(self, path: str) -> Document | None:
        """The document with this absolute path, if any."""
        position = self._by_path.get(path)
        return None if position is None else self.documents[position]

    def sentence_text(self, sentence: int) -> str:
        row = self.sentences[sentence]
        return self.documents[int(row["doc"])].text[int(row["start"]) : int(row["end"])]

    def sentence_embed_text(self, sentence: int) -> str:
        """The sentence as the embedder reads it (``embed_text``)."""
        row = self.sentences[sentence]
        return embed_text(self.documents[int(row["doc"])], int(row["start"]), int(row["end"]), bool(row["code"]))

    def sentence_heading(self, sentence: int) -> str:
        """The heading the sentence sits right under ("emitter.once(eventName, listener)"), or ""."""
        row = self.sentences[sentence]
        return heading_above(self.documents[int(row["doc"])], int(row["start"]))

    def is_code(self, sentence: int) -> bool:
        return bool(self.sentences["code"][sentence])

    def sentence_document(self, sentence: int) -> Document:
        return self.documents[int(self.sentences["doc"][sentence])]

    def same_place(self, one: int, other: int) -> bool:
        """Do two sentences sit in one section (structured documents) or one paragraph (plain text)?"""
        if self.sentences["doc"][one] != self.sentences["doc"][other]:
            return False
        doc = self.sentence_document(one)
        first, second = (self.sentences[s] for s in sorted((one, other)))
        if doc.blocks:
            return doc.section_at(int(first["start"])) == doc.section_at(int(second["start"]))
        return "\n\n" not in doc.text[int(first["end"]) : int(second["start"])].replace("\r", "")

    def chunk_sentences(self, chunk: int) -> range:
        row = self.chunks[chunk]
        return range(int(row["first_sentence"]), int(row["last_sentence"]) + 1)

    def chunk_identity(self, chunk: int) -> tuple[str, str]:
        """The chunk's heading path and text: two passages with the same are the same passage (a file indexed twice)."""
        row = self.chunks[chunk]
        doc, start = self.documents[int(row["doc"])], int(row["start"])
        return doc.section_at(start), doc.text[start : int(row["end"])]

    def passage(self, chunk: int, score: float, rank: int) -> Passage:
        row = self.chunks[chunk]
        doc, start, end = self.documents[int(row["doc"])], int(row["start"]), int(row["end"])
        return Passage(rank, round(float(score), 6), doc.source, doc.path, start, end, doc.text[start:end],
                       doc.page_at(start), doc.line_at(start), doc.section_at(start))
