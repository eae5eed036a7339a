"""Writing a build's rows into the database's tables (``stores.postgres`` holds the transaction and the lock).

``write`` deletes what is gone or changed, inserts the new documents' rows (one COPY per table), and raises the
generation. Builds with a scope (``Index.build(..., scope=...)``: several workers on one library) prepare in
parallel and write in turn (each waits for the state row: one commit at a time), and drop only documents in
their own scope.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ...types import Document
from ..corpus import Part
from ..lexical import tokenize
from ..plan import within

# pgvector's defaults (m 16, ef_construction 64) found 54% of the true top 10 at a million chunks where many passages
# are near-copies of each other; a denser graph, built more carefully, finds more (bench/results/RESULTS-postgres.md).
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 128
HNSW = ("CREATE INDEX IF NOT EXISTS qa_chunks_embedding ON qa_chunks USING hnsw (embedding vector_ip_ops) "
        f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})")
ANALYZE_GROWTH = 0.1  # the planner's statistics are refreshed when the chunk count moved by more than this share
# (ANALYZE reads a sample of every table: 12 s at a million chunks, too long for every upload's commit)


def _new_ids(connection: Any, table: str, count: int) -> list[int]:
    return [row[0] for row in connection.execute(
        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", (count,)).fetchall()]


def write(connection: Any, documents: list[Document], parts: list[Part], manifest: dict[str, Any],
          scope: frozenset[str] | None = None) -> None:
    """Delete what is gone or changed, insert the new parts, renumber positions, raise the generation. With a
    ``scope`` (what an adding build speaks for), only documents in it can be gone, and new ones go last."""
    from psycopg.types.json import Jsonb

    before = connection.execute("SELECT chunks FROM qa_state FOR UPDATE").fetchone()[0]  # one commit at a time
    position = {(doc.path, doc.sha256): i for i, doc in enumerate(documents)}
    stored = connection.execute("SELECT id, path, sha256 FROM qa_documents").fetchall()
    gone = [id_ for id_, path, sha in stored if (path, sha) not in position and (scope is None or within(path, scope))]
    if gone:
        connection.execute("UPDATE qa_terms t SET df = t.df - x.n FROM (SELECT p.term, count(*) AS n FROM qa_postings p "
                           "JOIN qa_chunks c ON c.id = p.chunk WHERE c.doc = ANY(%s) GROUP BY p.term) x WHERE t.term = x.term", (gone,))
        connection.execute("DELETE FROM qa_documents WHERE id = ANY(%s)", (gone,))
        connection.execute("DELETE FROM qa_terms WHERE df <= 0")
    dropped = set(gone)
    kept = {(path, sha) for id_, path, sha in stored if id_ not in dropped}
    parts = [p for p in parts if (p.document.path, p.document.sha256) not in kept]  # another build wrote it meanwhile
    if scope is None:
        _insert(connection, parts, [position[p.document.path, p.document.sha256] for p in parts])
        connection.execute("UPDATE qa_documents d SET position = w.position - 1 FROM unnest(%s::text[]) WITH ORDINALITY AS "
                           "w(path, position) WHERE d.path = w.path AND d.position <> w.position - 1", ([doc.path for doc in documents],))
    else:
        last = connection.execute("SELECT coalesce(max(position), -1) FROM qa_documents").fetchone()[0]
        _insert(connection, parts, list(range(last + 1, last + 1 + len(parts))))
    connection.execute(HNSW)  # built over the whole table the first time, kept up to date by inserts after
    after = connection.execute("""UPDATE qa_state SET generation = generation + 1, manifest = %s,
        chunks = (SELECT count(*) FROM qa_chunks), average_length = (SELECT coalesce(avg(length), 0) FROM qa_chunks)
        RETURNING chunks""", (Jsonb(manifest),)).fetchone()[0]
    if abs(after - before) > ANALYZE_GROWTH * before:
        connection.execute("ANALYZE qa_documents, qa_chunks, qa_sentences, qa_postings, qa_terms")  # plans for the new sizes


def _insert(connection: Any, parts: list[Part], positions: list[int]) -> None:
    """The new documents' rows, one COPY per table; term counts go into qa_terms."""
    from pgvector import HalfVector
    from psycopg.types.json import Jsonb

    doc_ids = _new_ids(connection, "qa_documents", len(parts))
    chunk_ids = iter(_new_ids(connection, "qa_chunks", sum(len(p.chunks) for p in parts)))
    texts = [text for part in parts for text in part.lexical_texts()]
    tokens = iter(tokenize(texts) if texts else [])
    frequencies: Counter[str] = Counter()
    with connection.cursor() as cursor:
        columns = "id, position, path, source, sha256, title, page_starts, text, structure"
        with cursor.copy(f"COPY qa_documents ({columns}) FROM STDIN") as copy:
            for doc_id, place, part in zip(doc_ids, positions, parts, strict=True):
                doc = part.document
                copy.write_row((doc_id, place, doc.path, doc.source, doc.sha256, part.title, list(doc.page_starts), doc.text,
                                Jsonb(doc.structure())))
        with cursor.copy("COPY qa_sentences (doc, ordinal, start, \"end\", code, embedding) FROM STDIN") as copy:
            for doc_id, part in zip(doc_ids, parts, strict=True):
                vectors = part.sentence_vectors if part.sentence_vectors.size else [None] * len(part.sentences)
                for ordinal, (row, vector) in enumerate(zip(part.sentences, vectors, strict=True)):
                    copy.write_row((doc_id, ordinal, int(row["start"]), int(row["end"]), bool(row["code"]),
                                    None if vector is None else HalfVector(vector)))
        postings = []
        columns = "id, doc, ordinal, start, \"end\", first_sentence, last_sentence, length, embedding"
        with cursor.copy(f"COPY qa_chunks ({columns}) FROM STDIN") as copy:
            for doc_id, part in zip(doc_ids, parts, strict=True):
                for ordinal, (row, vector) in enumerate(zip(part.chunks, part.chunk_vectors, strict=True)):
                    chunk_id, chunk_tokens = next(chunk_ids), next(tokens)
                    copy.write_row((chunk_id, doc_id, ordinal, int(row["start"]), int(row["end"]), int(row["first_sentence"]),
                                    int(row["last_sentence"]), len(chunk_tokens), np.asarray(vector, dtype=np.float32)))
                    postings += [(term, chunk_id, tf, len(chunk_tokens)) for term, tf in Counter(chunk_tokens).items()]
                    frequencies.update(set(chunk_tokens))
        with cursor.copy("COPY qa_postings (term, chunk, tf, length) FROM STDIN") as copy:
            for posting in postings:
                copy.write_row(posting)
        cursor.execute("CREATE TEMPORARY TABLE qa_new_terms (term text, df integer) ON COMMIT DROP")
        with cursor.copy("COPY qa_new_terms FROM STDIN") as copy:
            for term, df in frequencies.items():
                copy.write_row((term, df))
    connection.execute("INSERT INTO qa_terms SELECT term, df FROM qa_new_terms "
                       "ON CONFLICT (term) DO UPDATE SET df = qa_terms.df + excluded.df")
