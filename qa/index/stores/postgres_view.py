"""The corpus of an index in PostgreSQL, read as questions need it (a ``CorpusView``).

Opening the index reads its manifest, not its rows, so a process starts in the same time at any size and
holds nothing per corpus. A question's retrieved chunks are read in one round trip (``around``): their
documents' text, structure, chunk and sentence rows (kept in a cache bounded by characters, since a document
never changes under its id: a changed file is a new row), and the vectors of those chunks' sentences only.
From them a small ``Corpus`` is made, and the reader, the quotes and the citations work on it exactly as on
an index folder's corpus in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...types import Document, Passage
from ..corpus import CHUNK_FIELDS, SENTENCE_FIELDS, Corpus, Hits, Part
from .postgres_corpus import halfvecs, read_corpus
from .postgres_search import reading

CACHE_CHARS = 16_000_000  # documents' text kept between questions: at most about 50 MB with their rows and structure


@dataclass(frozen=True)
class Held:
    """One document as answering reads it: its text and structure, and its chunk and sentence rows."""

    id: int  # the database's
    document: Document
    title: str
    chunk_ids: dict[int, int]  # database chunk id -> ordinal
    chunks: np.ndarray  # CHUNK_FIELDS, doc 0, sentence ordinals within the document
    sentences: np.ndarray  # SENTENCE_FIELDS, doc 0

    def part(self) -> Part:
        return Part(self.document, self.title, self.sentences, self.chunks)


class DocumentCache:
    """Documents read for earlier questions, the least recently used dropped past ``limit`` characters; shared
    by the generations one process loads (a document's rows never change under its id)."""

    def __init__(self, limit: int = CACHE_CHARS) -> None:
        self.limit = limit
        self._held: OrderedDict[int, Held] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def snapshot(self) -> dict[int, Held]:
        """The documents held now (a question works on these even if another drops some meanwhile)."""
        with self._lock:
            return dict(self._held)

    def used(self, ids: list[int]) -> None:
        with self._lock:
            for i in ids:
                if i in self._held:
                    self._held.move_to_end(i)

    def by_path(self, path: str) -> Held | None:
        with self._lock:
            return next((held for held in self._held.values() if held.document.path == path), None)

    def put(self, held: list[Held]) -> None:
        with self._lock:
            for entry in held:
                if entry.id not in self._held:
                    self._held[entry.id] = entry
                    self._chars += len(entry.document.text)
            while self._chars > self.limit and len(self._held) > 1:
                _, dropped = self._held.popitem(last=False)
                self._chars -= len(dropped.document.text)


# A question's reads: the hit chunks' documents and positions, their sentences' vectors, and the rows of those
# documents the cache lacks (MISSING: the hits' documents, less the ids held).
HIT_ROWS = "SELECT c.id, c.doc, d.position FROM qa_chunks c JOIN qa_documents d ON d.id = c.doc WHERE c.id = ANY(%s)"
HIT_VECTORS = ("SELECT DISTINCT s.doc, s.ordinal, halfvec_send(s.embedding) FROM qa_chunks c JOIN qa_sentences s "
               "ON s.doc = c.doc AND s.ordinal BETWEEN c.first_sentence AND c.last_sentence WHERE c.id = ANY(%s)")
MISSING = "(SELECT DISTINCT doc FROM qa_chunks WHERE id = ANY(%s) AND NOT doc = ANY(%s::bigint[]))"
DOCUMENT = "SELECT id, path, source, text, sha256, page_starts, title, structure FROM qa_documents"
DOCUMENTS = f"{DOCUMENT} WHERE id IN {MISSING}"
CHUNK_ROWS = f'SELECT doc, ordinal, id, start, "end", first_sentence, last_sentence FROM qa_chunks WHERE doc IN {MISSING}'
SENTENCE_ROWS = f'SELECT doc, ordinal, start, "end", code FROM qa_sentences WHERE doc IN {MISSING}'


class DatabaseCorpus:
    """The corpus of the index in ``url``: nothing held but the ``DocumentCache``."""

    def __init__(self, url: str, cache: DocumentCache | None = None) -> None:
        self.url = url
        self.cache = cache or DocumentCache()
        self._counts: dict[str, int] | None = None  # the library's listing, read once per generation

    def around(self, hits: Hits) -> tuple[Corpus, Hits]:
        """The hit chunks' documents as a small corpus (in corpus order), its vectors those of the hits' sentences."""
        ids = [chunk for chunk, _ in hits]
        if not ids:
            return Corpus.from_parts([]), []
        known = self.cache.snapshot()
        rows, vectors, read = reading(self.url, lambda connection: self._read(connection, ids, list(known)))
        position = {chunk: (doc, place) for chunk, doc, place in rows}
        place = {doc: p for doc, p in position.values()}
        held = {**known, **{h.id: h for h in read}}
        docs = [doc for doc in sorted(place, key=place.__getitem__) if doc in held]
        self.cache.used(docs)
        self.cache.put(read)
        corpus = Corpus.from_parts([held[doc].part() for doc in docs])
        local = {doc: i for i, doc in enumerate(docs)}
        sentence_base = np.searchsorted(corpus.sentences["doc"], np.arange(len(docs)))
        found = [(chunk, score) for chunk, score in hits if chunk in position and position[chunk][0] in local]
        local_hits = [(int(corpus.chunk_starts[local[position[c][0]]]) + held[position[c][0]].chunk_ids[c], s) for c, s in found]
        if not vectors or vectors[0][2] is None:  # sentence vectors not stored (Settings.sentence_vectors off)
            return corpus, local_hits
        kept = [(doc, ordinal, blob) for doc, ordinal, blob in vectors if doc in local]
        vector_rows = np.full(len(corpus.sentences), -1, dtype=np.int64)
        vector_rows[[int(sentence_base[local[doc]]) + ordinal for doc, ordinal, _ in kept]] = np.arange(len(kept))
        return replace(corpus, sentence_vectors=halfvecs([blob for _, _, blob in kept]), vector_rows=vector_rows), local_hits

    @staticmethod
    def _read(connection: Any, ids: list[int], known: list[int]) -> tuple[list[Any], list[Any], list[Held]]:
        """The hits' documents and positions, their sentences' vectors, and the documents not ``known``: one round
        trip (pipeline mode: every statement is sent before any result is read)."""
        with connection.pipeline():
            cursors = [connection.execute(HIT_ROWS, (ids,)), connection.execute(HIT_VECTORS, (ids,))]
            cursors += [connection.execute(sql, (ids, known)) for sql in (DOCUMENTS, CHUNK_ROWS, SENTENCE_ROWS)]
        rows, vectors, documents, chunks, sentences = (cursor.fetchall() for cursor in cursors)
        return rows, vectors, held_documents(documents, chunks, sentences)

    def passages(self, hits: Hits) -> list[Passage]:
        corpus, local = self.around(hits)
        return corpus.passages(local)

    def document(self, path: str) -> Document | None:
        held = self.cache.by_path(path)
        if held is not None:
            return held.document
        row = reading(self.url, lambda connection: connection.execute(f"{DOCUMENT} WHERE path = %s", (path,)).fetchone())
        return None if row is None else Document.from_stored(row[1], row[2], row[3], row[4], row[5], row[7])

    def chunk_counts(self) -> dict[str, int]:
        """Read once for this generation (one line per document, not per passage): the library lists it on every page."""
        if self._counts is None:
            sql = ("SELECT d.path, count(c.id) FROM qa_documents d LEFT JOIN qa_chunks c ON c.doc = d.id "
                   "GROUP BY d.id ORDER BY d.position")
            self._counts = {path: int(n) for path, n in reading(self.url, lambda connection: connection.execute(sql).fetchall())}
        return self._counts

    def whole(self) -> Corpus:
        return reading(self.url, lambda connection: read_corpus(connection, vectors=True)[0])


def held_documents(documents: list[Any], chunks: list[Any], sentences: list[Any]) -> list[Held]:
    """Rows of ``qa_documents``, ``qa_chunks`` and ``qa_sentences`` (as selected above) as one ``Held`` per document."""
    chunk_rows: dict[int, list[Any]] = {}
    sentence_rows: dict[int, list[Any]] = {}
    for row in chunks:
        chunk_rows.setdefault(row[0], []).append(row)
    for row in sentences:
        sentence_rows.setdefault(row[0], []).append(row)
    held = []
    for doc_id, path, source, text, sha256, page_starts, title, structure in documents:
        own_chunks = sorted(chunk_rows.get(doc_id, []), key=lambda r: r[1])
        own_sentences = sorted(sentence_rows.get(doc_id, []), key=lambda r: r[1])
        table = np.zeros(len(own_chunks), CHUNK_FIELDS)
        for i, name in enumerate(("start", "end", "first_sentence", "last_sentence"), start=3):
            table[name] = [r[i] for r in own_chunks]
        rows = np.zeros(len(own_sentences), SENTENCE_FIELDS)
        rows["start"], rows["end"] = [r[2] for r in own_sentences], [r[3] for r in own_sentences]
        rows["code"] = [bool(r[4]) for r in own_sentences]
        document = Document.from_stored(path, source, text, sha256, page_starts, structure)
        held.append(Held(doc_id, document, title, {r[2]: r[1] for r in own_chunks}, table, rows))
    return held
