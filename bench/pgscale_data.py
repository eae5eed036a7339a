"""The databases of the PostgreSQL scale bench (``bench/pgscale.py``): the asked-about documents inside filler.

Each size is one schema of one embedded PostgreSQL server kept under ``~/.cache/qa/pgscale`` (about 9 GB at a
million passages: outside the work tree, so a later session reuses it):

- **the asked-about part**, real text and real vectors, as the product writes it (``copy_in`` of a folder index built
  with the real model): the seed, ``../shared/eval/docs`` and the 27 SQuAD 2.0 articles (about 6,500 passages);
- **filler** up to the size: the Amazon reviews and Reddit posts of SQuAD-Shifts (4,085 texts, each its own
  document), chunked by the product and embedded for real once (schema ``filler_base_reviews``: chunk vectors from the
  model, sentence vectors from their chunk's plus noise), then copied in SQL as often as the size needs. Each copy's
  vectors get fresh noise (cosine to the original about 0.9), so a million vectors are a million distinct points
  around real text, not one point repeated. Inserted with ``INSERT ... SELECT`` inside the server (``COPY`` for
  what comes from Python): embedding a million passages would take this machine a day.

  The filler must be *unrelated* to what is asked, or "the same answers at 10k and 1M" measures something else.
  The first filler, SQuAD 1.1 train's 442 Wikipedia articles, was not: its articles share subjects with the
  asked-about ones (Middle Ages beside Normans, East Prussia beside Huguenots, Germans beside Imperialism) and
  answered some of their questions once all of it was in (bench/results/RESULTS-postgres.md). Reviews and forum
  posts share words with them, not subjects.

``python -m bench.pgscale_data`` builds the sizes that are missing; the bench calls ``ensure`` itself.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from evaldata import CACHE, squad2, write_corpus
from qa import Index, Settings
from qa.index.corpus import Part
from qa.index.embedders import load_embedder
from qa.index.plan import chunk
from qa.index.stores import postgres as pgstorage
from qa.index.stores.manifest import expected
from qa.index.stores.postgres_search import register_types
from qa.index.stores.postgres_write import HNSW
from qa.read.files import read_document

from .common import REPO, Config, embedded_server
from .postgres import copy_index, schema_url

SIZES = (10_000, 100_000, 1_000_000)
SERVER_DIR = CACHE / "pgscale"
NOISE = 0.025  # per coordinate, on unit vectors of 384: |noise| about 0.49, so a copy's cosine to its original is about 0.9
NOISE_ROWS = 997
FILLER = "reviews"  # names the filler in its schemas: databases built with another filler are not reused
FILLER_SCHEMA = f"filler_base_{FILLER}"


def server() -> str:
    """The scale bench's PostgreSQL server (started if needed, left running for the next step)."""
    return embedded_server(SERVER_DIR / "data", cleanup_mode=None)


def real_paths(config: Config) -> list[Path]:
    """The asked-about documents: the seed, the docs set and the 27 SQuAD 2.0 articles."""
    articles = squad2.load(config.eval_dir)
    corpus = write_corpus(config.cache_dir / "squad2" / "corpus", [
        (f"{a['title'].replace('_', ' ')}.txt", "\n\n".join(p["context"] for p in a["paragraphs"]) + "\n") for a in articles])
    docs = sorted(p for p in (config.eval_dir / "docs").iterdir() if p.name != "README.md")
    return sorted((REPO / "seeds").iterdir()) + docs + corpus


def real_index(config: Config) -> Index:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Index.build(real_paths(config), config.cache_dir / "pgscale-real")


def filler_texts(config: Config) -> list[tuple[str, str]]:
    """SQuAD-Shifts' Amazon reviews and Reddit posts, one document each, as (file name, text)."""
    texts = []
    for name in ("amazon_reviews", "reddit"):
        with gzip.open(config.eval_dir / "qatrain" / "squadshifts" / f"{name}_v1.0.json.gz") as file:
            data = json.load(file)
        contexts = [p["context"] for article in data["data"] for p in article["paragraphs"]]
        texts += [(f"{name}-{i:05d}.txt", context.strip() + "\n") for i, context in enumerate(contexts)]
    return texts


def filler_parts(config: Config, settings: Settings) -> list[Part]:
    """The filler texts, chunked, with real chunk vectors and noisy sentence vectors."""
    paths = write_corpus(SERVER_DIR / f"filler-{FILLER}", filler_texts(config))
    parts = [chunk(read_document(path), settings) for path in paths]
    embedder = load_embedder(*settings.model_files())
    texts = [text for part in parts for text in part.embed_texts()]
    started = time.perf_counter()
    vectors = embedder.embed(texts, batch_size=64)
    print(f"filler: {len(texts):,} chunks embedded in {time.perf_counter() - started:.0f} s", flush=True)
    rng = np.random.default_rng(0)
    at = 0
    for part in parts:
        part.chunk_vectors = vectors[at : at + len(part.chunks)]
        at += len(part.chunks)
        first = np.searchsorted(part.chunks["last_sentence"], np.arange(len(part.sentences)))  # a chunk holding each sentence
        noisy = part.chunk_vectors[np.minimum(first, len(part.chunks) - 1)] + rng.normal(0, NOISE, (len(part.sentences), vectors.shape[1]))
        part.sentence_vectors = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float16)
    return parts


def manifest(settings: Settings, dim: int) -> dict:
    return {**expected(settings, None).identity(), "dim": dim}


def one(connection: Any, sql: str) -> Any:
    row = connection.execute(sql).fetchone()
    return None if row is None else row[0]


def has_index(url: str, chunks: int) -> bool:
    import psycopg

    with psycopg.connect(url) as connection:
        if one(connection, "SELECT to_regclass('qa_state')") is None:
            return False
        row = connection.execute("SELECT chunks FROM qa_state").fetchone()
        return row is not None and row[0] >= chunks and connection.execute(
            "SELECT 1 FROM pg_indexes WHERE indexname = 'qa_chunks_embedding' AND schemaname = current_schema()").fetchone() is not None


def filler_base(config: Config, url: str, settings: Settings) -> str:
    base = schema_url(url, FILLER_SCHEMA)
    if not has_index(base, 1):
        parts = filler_parts(config, settings)
        pgstorage.copy_in(schema_url(url, FILLER_SCHEMA, fresh=True), parts, manifest(settings, parts[0].chunk_vectors.shape[1]))
    return base


def fill(url: str, size: int, real: Index, base_url: str) -> str:
    """Schema ``scale_<filler>_<size>``: the asked-about index, then filler copies up to ``size`` passages."""
    schema = f"scale_{FILLER}_{size}"
    target = schema_url(url, schema)
    if has_index(target, size):
        return target
    started = time.perf_counter()
    target = schema_url(url, schema, fresh=True)
    copy_index(real, target)
    import psycopg

    with psycopg.connect(base_url) as connection:
        base = connection.execute("SELECT doc, count(*) FROM qa_chunks GROUP BY doc ORDER BY doc").fetchall()
    with psycopg.connect(target) as connection:
        register_types(connection)
        total, documents = one(connection, "SELECT count(*) FROM qa_chunks"), one(connection, "SELECT count(*) FROM qa_documents")
        rows: list[tuple[int, int, int]] = []
        copy = 0
        while total < size:
            copy += 1
            for doc, chunks in base:
                if total >= size:
                    break
                rows.append((doc, copy, documents + len(rows)))
                total += chunks
        _bulk(connection, rows)
        connection.commit()
    print(f"{schema}: {total:,} passages in {time.perf_counter() - started:.0f} s", flush=True)
    return target


def _bulk(connection: Any, rows: list[tuple[int, int, int]]) -> None:
    """The filler documents' rows copied in SQL from ``filler_base``, with noise on their vectors; then the indexes."""
    from pgvector import HalfVector

    c = connection
    c.execute("SET session_replication_role = replica")  # no foreign-key check per row: the rows come from a valid index
    c.execute("SET maintenance_work_mem = '6GB'")
    c.execute("SET max_parallel_maintenance_workers = 2")
    c.execute("DROP INDEX IF EXISTS qa_chunks_embedding")
    c.execute("ALTER TABLE qa_postings DROP CONSTRAINT qa_postings_pkey")
    c.execute("DROP INDEX IF EXISTS qa_postings_chunk")
    c.execute("CREATE TEMPORARY TABLE fill_map (base_doc bigint, copy int, position int, new_doc bigint)")
    with c.cursor() as cursor, cursor.copy("COPY fill_map (base_doc, copy, position) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    c.execute("UPDATE fill_map SET new_doc = nextval(pg_get_serial_sequence('qa_documents', 'id'))")
    rng = np.random.default_rng(1)
    noise = rng.normal(0, NOISE, (NOISE_ROWS, 384)).astype(np.float32)
    c.execute("CREATE TEMPORARY TABLE noise (i int, v vector(384), h halfvec(384))")
    with c.cursor() as cursor, cursor.copy("COPY noise FROM STDIN") as copy:
        for i, vector in enumerate(noise):
            copy.write_row((i, vector, HalfVector(vector)))
    steps = [
        ("documents", "INSERT INTO qa_documents (id, position, path, source, sha256, title, page_starts, text, structure) "
         "SELECT m.new_doc, m.position, d.path || '#copy-' || m.copy, d.source || ' (copy ' || m.copy || ')', d.sha256, d.title, "
         f"d.page_starts, d.text, d.structure FROM fill_map m JOIN {FILLER_SCHEMA}.qa_documents d ON d.id = m.base_doc"),
        ("chunks", 'INSERT INTO qa_chunks (doc, ordinal, start, "end", first_sentence, last_sentence, length, embedding) '
         'SELECT m.new_doc, c.ordinal, c.start, c."end", c.first_sentence, c.last_sentence, c.length, '
         f"l2_normalize(c.embedding + n.v) FROM fill_map m JOIN {FILLER_SCHEMA}.qa_chunks c ON c.doc = m.base_doc "
         f"JOIN noise n ON n.i = (c.id * 7 + m.copy * 131) % {NOISE_ROWS}"),
        ("sentences", 'INSERT INTO qa_sentences (doc, ordinal, start, "end", code, embedding) '
         'SELECT m.new_doc, s.ordinal, s.start, s."end", s.code, l2_normalize(s.embedding + n.h) '
         f"FROM fill_map m JOIN {FILLER_SCHEMA}.qa_sentences s ON s.doc = m.base_doc "
         f"JOIN noise n ON n.i = (s.ordinal * 11 + m.copy * 131 + m.base_doc) % {NOISE_ROWS}"),
        ("postings", "INSERT INTO qa_postings (term, chunk, tf, length) SELECT p.term, nc.id, p.tf, p.length "
         f"FROM fill_map m JOIN {FILLER_SCHEMA}.qa_chunks bc ON bc.doc = m.base_doc "
         f"JOIN qa_chunks nc ON nc.doc = m.new_doc AND nc.ordinal = bc.ordinal JOIN {FILLER_SCHEMA}.qa_postings p ON p.chunk = bc.id"),
        ("terms", "TRUNCATE qa_terms; INSERT INTO qa_terms SELECT term, count(*) FROM qa_postings GROUP BY term"),
        ("postings key", "ALTER TABLE qa_postings ADD PRIMARY KEY (term, chunk) INCLUDE (tf, length)"),
        ("postings by chunk", "CREATE INDEX qa_postings_chunk ON qa_postings (chunk)"),
        ("hnsw", HNSW),
        ("state", "UPDATE qa_state SET generation = generation + 1, chunks = (SELECT count(*) FROM qa_chunks), "
         "average_length = (SELECT avg(length) FROM qa_chunks)"),
        ("analyze", "ANALYZE qa_documents, qa_chunks, qa_sentences, qa_postings, qa_terms"),
    ]
    for name, sql in steps:
        started = time.perf_counter()
        c.execute(sql)
        print(f"  {name}: {time.perf_counter() - started:.0f} s", flush=True)
    c.execute("SET session_replication_role = origin")


def ensure(config: Config, sizes: tuple[int, ...] = SIZES) -> dict[int, str]:
    """The URL of each size's schema, built where missing."""
    url = server()
    settings = Settings()
    real = real_index(config)
    base = filler_base(config, url, settings)
    return {size: fill(url, size, real, base) for size in sizes}


if __name__ == "__main__":
    sizes = tuple(int(s) for s in sys.argv[1:]) or SIZES
    print(ensure(Config(REPO.parent / "shared" / "eval", REPO / "data" / "bench"), sizes))
