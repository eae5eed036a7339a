"""Reading the whole corpus out of the database's tables (for tools), or the list of its documents (for a build).

``read_corpus`` turns the rows of ``qa_documents`` (with each document's structure), ``qa_chunks`` and
``qa_sentences`` (sentence ordinals within each document, code flags) into a ``Corpus`` (positions and sentence
rows across the corpus), plain numpy over the rows; ``read_listing`` lists the documents without their text.
Answering reads neither: ``postgres_view``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...types import Document
from ..corpus import CHUNK_FIELDS, SENTENCE_FIELDS, Corpus
from ..plan import Listed


def read_corpus(connection: Any, vectors: bool, only: list[int] | None = None) -> tuple[Corpus, np.ndarray, np.ndarray]:
    """The corpus (of the documents with ids ``only``, or all), its chunks' and its documents' database ids.

    Sentence vectors are read only when ``vectors``."""
    where = "" if only is None else " WHERE {} = ANY(%s)"
    params = () if only is None else (only,)
    docs = connection.execute("SELECT id, path, source, text, sha256, page_starts, title, structure FROM qa_documents"
                              + where.format("id") + " ORDER BY position", params).fetchall()
    doc_ids = np.array([row[0] for row in docs], dtype=np.int64)
    order = np.argsort(doc_ids)

    def positions(ids: np.ndarray) -> np.ndarray:  # database document ids -> corpus positions
        return order[np.searchsorted(doc_ids[order], ids)] if len(ids) else ids

    chunks = np.array(connection.execute('SELECT doc, ordinal, id, start, "end", first_sentence, last_sentence FROM qa_chunks'
                                         + where.format("doc"), params).fetchall(), dtype=np.int64).reshape(-1, 7)
    embedding = ", halfvec_send(embedding)" if vectors else ""
    sentence_rows = connection.execute(f'SELECT doc, ordinal, start, "end", code{embedding} FROM qa_sentences' + where.format("doc"),
                                       params).fetchall()
    sentences = np.array([row[:5] for row in sentence_rows], dtype=np.int64).reshape(-1, 5)
    chunk_doc, sentence_doc = positions(chunks[:, 0]), positions(sentences[:, 0])
    chunk_order, sentence_order = np.lexsort((chunks[:, 1], chunk_doc)), np.lexsort((sentences[:, 1], sentence_doc))
    base = _starts(sentence_doc, len(docs))

    chunk_table = np.zeros(len(chunks), CHUNK_FIELDS)
    chunk_table["doc"] = chunk_doc[chunk_order]
    for column, name in ((3, "start"), (4, "end"), (5, "first_sentence"), (6, "last_sentence")):
        chunk_table[name] = chunks[chunk_order, column]
    chunk_table["first_sentence"] += base[chunk_table["doc"]]
    chunk_table["last_sentence"] += base[chunk_table["doc"]]
    sentence_table = np.zeros(len(sentences), SENTENCE_FIELDS)
    sentence_table["doc"] = sentence_doc[sentence_order]
    sentence_table["start"], sentence_table["end"] = sentences[sentence_order, 2], sentences[sentence_order, 3]
    sentence_table["code"] = sentences[sentence_order, 4].astype(bool)
    stored = vectors and sentence_rows and sentence_rows[0][5] is not None
    sentence_vectors = halfvecs([sentence_rows[i][5] for i in sentence_order]) if stored else np.zeros((0, 0), np.float16)
    documents = tuple(Document.from_stored(r[1], r[2], r[3], r[4], r[5], r[7]) for r in docs)
    corpus = Corpus(documents, tuple(r[6] for r in docs), chunk_table, sentence_table, sentence_vectors)
    return corpus, chunks[chunk_order, 2], doc_ids


def read_listing(connection: Any) -> Listed:
    """Every document's path, source, hash and chunk count, without its text (what a build compares the files with)."""
    rows = connection.execute("SELECT d.path, d.source, d.sha256, count(c.id) FROM qa_documents d LEFT JOIN qa_chunks c "
                              "ON c.doc = d.id GROUP BY d.id ORDER BY d.position").fetchall()
    return Listed(tuple(Document(path, source, "", sha256) for path, source, sha256, _ in rows), {row[0]: int(row[3]) for row in rows})


def _starts(doc: np.ndarray, documents: int) -> np.ndarray:
    """Row where each document's rows begin, in a table grouped by document."""
    return np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=documents))[:-1]]).astype(np.int64)


def halfvecs(blobs: list[bytes]) -> np.ndarray:
    """pgvector's binary halfvec values (dim, unused, then big-endian float16s) as one float16 matrix."""
    dim = int.from_bytes(blobs[0][:2], "big")
    rows = np.frombuffer(b"".join(blobs), dtype=np.dtype([("head", ">u2", 2), ("values", ">f2", dim)]))
    return rows["values"].astype(np.float16)
